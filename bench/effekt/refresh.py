"""The full refresh of one year's precomputed tables, timed, with a digest of every cell it stores: run on a
database ``python -m bench.effekt --keep`` has seeded, once with this checkout's ``effekt`` and once with
another's first on the path, it says how long each takes on the same rows and whether both store the
same cells (the same digest: the same figures, the same suppression).

    DATABASE_URL=sqlite:///var/bench/effekt/effekt.sqlite3 DEBUG=1 .venv/bin/python -m bench.effekt.refresh
    mkdir -p /tmp/before && git archive <commit> effekt | tar -x -C /tmp/before
    DATABASE_URL=… DEBUG=1 PYTHONPATH=/tmp/before:. .venv/bin/python -m bench.effekt.refresh

The year's tables are deleted and computed from nothing (``tables_refresh`` for last year, what
``manage.py indicators_refresh`` runs) inside a transaction that is rolled back, so the database is left
as it was and the next run starts from the same state. Prints one JSON line: the code's path, the seconds,
the indicators and tables computed, the cells stored and their digest."""

import hashlib
import json
import os
import sys
import time


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import transaction

    import effekt
    from backend.models import Municipality
    from backend.timeutil import municipal_today
    from effekt.aggregates import CELL_COLUMNS, tables_refresh
    from effekt.models import IndicatorTable, IndicatorTableCell

    municipality = Municipality.objects.get(code="999")
    year = municipal_today().year - 1
    with transaction.atomic():
        IndicatorTable.objects.filter(municipality=municipality, year=year).delete()
        started = time.perf_counter()
        report = tables_refresh(municipalities=[municipality], years=[year])
        seconds = time.perf_counter() - started
        digest = hashlib.sha256()
        # The cells as the query reads them (CELL_COLUMNS, in the code before this benchmark too), with
        # their indicator, filter and level.
        columns = ("table__indicator_key", "table__filters", "period", "level", *CELL_COLUMNS[1:])
        query = IndicatorTableCell.objects.filter(table__municipality=municipality, table__year=year).values_list(
            *columns
        )
        cells = list(query)
        for row in sorted(json.dumps(list(cell), default=str, sort_keys=True) for cell in cells):
            digest.update(row.encode())
        transaction.set_rollback(True)
    print(
        json.dumps(
            {
                "code": os.path.dirname(effekt.__file__),
                "seconds": round(seconds, 1),
                "indicators": report.computed,
                "tables": report.tables,
                "cells": len(cells),
                "suppressed": sum(1 for cell in cells if cell[columns.index("suppressed")]),
                "digest": digest.hexdigest(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
