"""One converter per type: the same row read from a model, from values() and from a statement gives the
same value on either database."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection

from selvbetjening.models import PlanExercise
from selvbetjening.rules.dosage import DOSAGE_FIELDS
from selvbetjening.selectors.rows import dosage_out, dosage_row, instant, uuid_of, uuid_parameter
from tests.selvbetjening.training_factories import make_plan


@pytest.mark.django_db
def test_a_dosage_reads_the_same_from_a_model_values_and_a_statement(episode):
    plan = make_plan(episode=episode, exercises=1)
    [item] = plan.current_version.exercises.all()
    PlanExercise.objects.filter(pk=item.pk).update(sets=3, repetitions=None, hold_seconds=20, load_kg=Decimal("2.5"))
    item.refresh_from_db()
    columns = ", ".join(connection.ops.quote_name(name) for name in DOSAGE_FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {PlanExercise._meta.db_table} WHERE id = %s",  # noqa: S608  (names from the model)
            [uuid_parameter(item.pk)],
        )
        [statement_row] = cursor.fetchall()
    [values_row] = PlanExercise.objects.filter(pk=item.pk).values(*DOSAGE_FIELDS)
    expected = {"sets": 3, "repetitions": None, "hold_seconds": 20, "duration_seconds": None, "load_kg": 2.5}
    assert dosage_out(item) == dosage_out(values_row) == dosage_row(statement_row) == expected
    assert isinstance(expected["load_kg"], float)


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 30),  # noqa: DTZ001  (SQLite's naive UTC)
        "2026-03-29 01:30:00",
        "2026-03-29 01:30:00.000000",
    ],
)
def test_a_time_column_is_an_aware_utc_instant_however_the_database_gives_it(value):
    assert instant(value) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert instant(value).tzinfo is not None


def test_a_time_column_that_is_no_time_is_refused():
    with pytest.raises(ValueError, match="not a time"):
        instant("tomorrow")


def test_a_uuid_column_reads_from_hex_or_a_uuid():
    value = uuid_of("6f1c2a9e0d5b4c3a8e7f6a5b4c3d2e1f")
    assert uuid_of(value) is value and value.hex == "6f1c2a9e0d5b4c3a8e7f6a5b4c3d2e1f"
