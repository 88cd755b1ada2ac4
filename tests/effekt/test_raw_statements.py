"""The effect tables' hand-written statement stores what the ORM stores: the cells' insert
(``effekt/aggregates.py``, ``_cells_insert``) against ``bulk_create`` of the same cells, read back through the
ORM. Run on SQLite and on PostgreSQL."""

from datetime import UTC, datetime

import pytest

from effekt import aggregates
from effekt.indicators.evaluator import Cell, Node
from effekt.models import IndicatorTable, IndicatorTableCell

pytestmark = pytest.mark.django_db

FIELDS = [name for name in aggregates.STORED_COLUMNS if name != "table"]


def _cells(world) -> list[Cell]:  # type: ignore[no-untyped-def]
    team = Node("team", world.team.pk, world.team.name)
    unit = Node("unit", world.team.unit_id, "Enhed")
    return [
        Cell(node=team, group=None, group_name=None, suppressed=False, citizens=7, count=5, share=5 / 7),
        Cell(
            node=team,
            group="female",
            group_name=("Kvinder", "Women"),
            suppressed=False,
            citizens=12,
            count=0,
            share=0.0,
            values={"mean": 1.25, "median": None},
        ),
        Cell(node=team, group="male", group_name=("Mænd", "Men"), suppressed=True),
        Cell(node=unit, group=None, group_name=None, suppressed=False, citizens=30, count=30, share=1.0, values={}),
    ]


def _table(world, filters: str) -> IndicatorTable:  # type: ignore[no-untyped-def]
    return IndicatorTable.objects.create(
        municipality=world.municipality,
        indicator_key="goal_attainment",
        year=2026,
        filters=filters,
        computed_at=datetime(2026, 12, 1, tzinfo=UTC),
        organisation="signature",
        inputs="inputs",
    )


def _stored(table: IndicatorTable) -> list[tuple]:
    return list(
        IndicatorTableCell.objects.filter(table=table).order_by("period", "level", "group").values_list(*FIELDS)
    )


def _without_values(table: IndicatorTable) -> set[tuple]:
    """The cells whose values are SQL's NULL (a JSON null reads as None too)."""
    return set(IndicatorTableCell.objects.filter(table=table, values__isnull=True).values_list("period", "group"))


def test_the_cells_insert_stores_what_bulk_create_stores(world):
    cells = _cells(world)
    by_hand, by_orm = _table(world, "by-hand"), _table(world, "by-orm")
    rows = [aggregates._cell_values(by_hand.pk, period, cell) for period in ("2026", "Q4") for cell in cells]
    aggregates._cells_insert(rows)
    IndicatorTableCell.objects.bulk_create(
        IndicatorTableCell(table=by_orm, **dict(zip(FIELDS, row[1:], strict=True))) for row in rows
    )
    stored = _stored(by_hand)
    assert stored == _stored(by_orm)
    assert (
        _without_values(by_hand)
        == _without_values(by_orm)
        == {("2026", ""), ("2026", "male"), ("Q4", ""), ("Q4", "male")}
    )
    assert len(stored) == 8
    # The values as the cells have them: text, numbers, JSON (a group's name as a list), and NULL for none.
    female = next(row for row in stored if row[0] == "2026" and row[3] == "female")
    assert female == (
        "2026",
        "team",
        world.team.pk,
        "female",
        ["Kvinder", "Women"],
        False,
        12,
        0,
        0.0,
        {"mean": 1.25, "median": None},
    )
    suppressed = next(row for row in stored if row[3] == "male")
    assert suppressed[5:] == (True, None, None, None, None)
    aggregates._cells_insert([])
    assert IndicatorTableCell.objects.count() == 16
