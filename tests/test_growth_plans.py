"""The growth benchmark's requests use their indexes: on PostgreSQL, a dataset of 2,000 citizens in 50
municipalities (``bench.growth.seed``: a base made by the benchmark seeders, then copies of it), ``ANALYZE``d,
and every statement of today, sync, the team caseload (API and the Mit team page), a telemetry batch and an
indicator run through ``EXPLAIN``: no sequential scan of a table of 5,000 rows or more.

SQLite has no statistics in the embedded mode and its plans are not PostgreSQL's: skipped there.
"""

import pytest
from django.db import connection
from django.test import Client

from bench.growth import measure
from bench.growth.seed import clone, seed_base

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plans")

BASE_CITIZENS = 40
COPIES = 49


def test_every_statement_of_every_request_uses_an_index_on_the_big_tables(db, tmp_path):
    from backend.models import Citizen, Municipality

    seed_base(out=tmp_path, citizen_count=BASE_CITIZENS)
    measure.staff_login(tmp_path)
    rows = clone(COPIES)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    assert Municipality.objects.count() == COPIES + 1
    assert Citizen.objects.count() == BASE_CITIZENS * (COPIES + 1)
    assert rows["backend.Citizen"] == BASE_CITIZENS * COPIES
    assert rows["selvbetjening.TrainingSlot"] > 50_000

    probe = measure.probe_from(tmp_path)
    findings = [finding for kind in measure.KINDS for finding in measure.sequential_scans(kind, Client(), probe)]
    assert findings == [], "\n".join(
        f"{finding.kind}: {finding.table} ({finding.rows:.0f} rows): {finding.statement[:400]}" for finding in findings
    )
