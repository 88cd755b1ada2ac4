"""One evaluator for every indicator: rows from the indicator's source, cells for the municipality, its
units and teams (and the groups inside each), for a calendar year, each of its quarters and each of its
months, small cells suppressed over all of them at once.

Periods are a year, one of its quarters or one of its months, never free ranges: two overlapping free
periods would give away, by subtraction, the days between them. A year is the sum of its quarters and of
its months, a quarter the sum of its months, like a unit is the sum of its teams, and all are suppressed
in one table, so a quarter or a month shows what the year's table shows, and no hidden month is the year
less the months shown.

Queries: the indicator's source (one, or two for adherence), plus one for the birth dates when an age
band is asked. The organisation is read by the caller. Nothing is queried per citizen or per cell.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from itertools import combinations
from typing import Any
from uuid import UUID

from backend import cpr
from backend.models import Citizen
from effekt.indicators.definitions import Indicator, Texts
from effekt.indicators.sources import Row, Scope
from effekt.suppression import Sum, is_small, suppressed_cells

MUNICIPALITY = "municipality"
UNIT = "unit"
TEAM = "team"

AGE_BANDS: dict[str, tuple[int, int]] = {"0-64": (0, 64), "65-79": (65, 79), "80+": (80, 200)}


@dataclass(frozen=True)
class Node:
    """A place in the organisation a cell is computed for."""

    level: str
    id: UUID | None
    name: str
    parent: "Node | None" = None
    # Equal nodes have the same level and id. Hashed once: a table looks up its cell keys (a node, a group
    # and a period) millions of times, and the generated hash would hash the name and every parent (and
    # their ids) each time.
    hashed: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hashed", hash((self.level, self.id)))

    def __hash__(self) -> int:
        return self.hashed


YEAR = "year"
QUARTERS = ("Q1", "Q2", "Q3", "Q4")
MONTHS = tuple(f"M{month:02d}" for month in range(1, 13))
PERIODS = (YEAR, *QUARTERS, *MONTHS)
# A node, a group inside it (None: the whole node), and the year, one of its quarters or one of its months.
CellKey = tuple[Node, str | None, str]


def quarter_of(day: date) -> str:
    return QUARTERS[(day.month - 1) // 3]


def month_of(day: date) -> str:
    return MONTHS[day.month - 1]


def months_of(quarter: str) -> tuple[str, ...]:
    first = 3 * QUARTERS.index(quarter)
    return MONTHS[first : first + 3]


@dataclass(frozen=True)
class Organisation:
    municipality: Node
    units: tuple[Node, ...]
    teams: tuple[Node, ...]

    def children(self, node: Node) -> tuple[Node, ...]:
        if node.level == MUNICIPALITY:
            return self.units
        if node.level == UNIT:
            return tuple(team for team in self.teams if team.parent == node)
        return ()


@dataclass
class Cell:
    """What a cell shows: nothing but ``suppressed`` when it is suppressed."""

    node: Node
    group: str | None
    group_name: Texts | None
    suppressed: bool
    citizens: int | None = None
    count: int | None = None
    share: float | None = None
    values: dict[str, float | None] | None = None
    groups: list["Cell"] = field(default_factory=list)


@dataclass(frozen=True)
class Filters:
    """The filters other than team and unit; they decide which rows are in the population."""

    condition: bool = False
    device: bool = False
    age_band: str | None = None

    def names(self, indicator: Indicator) -> list[str]:
        active = []
        if self.condition:
            active.append("condition")
        if self.device and not indicator.device_type_compares:
            active.append("device")
        if self.age_band:
            active.append("age_band")
        return active


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def birth_dates(citizen_ids: Iterable[UUID]) -> dict[UUID, date]:
    """The citizens' birth dates, from their encrypted CPR numbers: one query. Only the age band a row falls
    in leaves the effect layer."""
    ciphertexts = Citizen.objects.filter(pk__in=set(citizen_ids)).values_list("pk", "cpr_ciphertext")
    return {pk: cpr.decrypt(ciphertext).birth_date() for pk, ciphertext in ciphertexts}


def mark_age_bands(rows: list[Row], band: str, born: dict[UUID, date] | None = None) -> None:
    """Flag each row whose citizen was in the age band when the episode started (``born``: the birth dates,
    read when not given)."""
    low, high = AGE_BANDS[band]
    if born is None:
        born = birth_dates(row["citizen_id"] for row in rows)
    for row in rows:
        row["age_band"] = low <= _age(born[row["citizen_id"]], row["start_date"]) <= high


def _node_keys(row: Row, organisation: Organisation, teams: dict[UUID, Node]) -> list[Node]:
    team = teams.get(row["team_id"])
    if team is None:
        return [organisation.municipality]
    assert team.parent is not None
    return [organisation.municipality, team.parent, team]


def _cell_keys(row: Row, organisation: Organisation, teams: dict[UUID, Node], grouped: bool) -> list[CellKey]:
    """The cells a row counts in: its team, unit and the municipality, each for the year, the quarter and
    the month of the row's day, each whole and (when the indicator is grouped) in the row's group."""
    keys: list[CellKey] = []
    for node in _node_keys(row, organisation, teams):
        for period in (YEAR, quarter_of(row["on"]), month_of(row["on"])):
            keys.append((node, None, period))
            if grouped:
                keys.append((node, str(row["group"]), period))
    return keys


def _citizens_by_cell(
    rows: Iterable[Row], organisation: Organisation, teams: dict[UUID, Node], grouped: bool
) -> tuple[dict[CellKey, set], dict[CellKey, list[Row]]]:
    """Each cell's citizens and rows. The cells a row counts in follow from its team, month and group
    alone, so they are worked out once for each of those (and the cells' sets and lists with them)."""
    citizens: dict[CellKey, set] = {}
    members: dict[CellKey, list[Row]] = {}
    spots: dict[tuple[Any, int, str | None], list[tuple[set, list[Row]]]] = {}
    for row in rows:
        spot = (row["team_id"], row["on"].month, str(row["group"]) if grouped else None)
        cells = spots.get(spot)
        if cells is None:
            cells = spots[spot] = [
                (citizens.setdefault(key, set()), members.setdefault(key, []))
                for key in _cell_keys(row, organisation, teams, grouped)
            ]
        citizen = row["citizen_id"]
        for people, cell_rows in cells:
            people.add(citizen)
            cell_rows.append(row)
    return citizens, members


def evaluate(
    indicator: Indicator, scope: Scope, organisation: Organisation, filters: Filters, *, period: str = YEAR
) -> dict[Node, Cell]:
    """Every cell of the municipality for ``period`` (the year of ``scope``, one of its quarters or months),
    suppressed where it, or its difference to another cell someone could ask for, holds fewer than 5
    citizens."""
    return evaluate_periods(indicator, scope, organisation, filters)[period]


def evaluate_periods(
    indicator: Indicator,
    scope: Scope,
    organisation: Organisation,
    filters: Filters,
    *,
    rows: list[Row] | None = None,
    born: dict[UUID, date] | None = None,
) -> dict[str, dict[Node, Cell]]:
    """Every cell of the municipality for the year of ``scope`` and for each of its quarters and months,
    from one table suppressed over all of them at once: what ``evaluate`` picks one period from. ``rows`` are the
    source's rows for ``scope`` already read (with the filters' flags set), ``born`` the citizens' birth
    dates: given by the precomputing, which reads them once for many filters."""
    if rows is None:
        rows = indicator.source(scope)
    if filters.age_band:
        mark_age_bands(rows, filters.age_band, born)
    active = filters.names(indicator)
    population = [row for row in rows if all(row[name] for name in active)]
    teams = {team.id: team for team in organisation.teams if team.id is not None}
    citizens, members = _citizens_by_cell(population, organisation, teams, indicator.grouped)
    groups: list[str] = sorted({key[1] for key in members if key[1] is not None})
    periods = PERIODS
    nodes = [organisation.municipality, *organisation.units, *organisation.teams]

    # A filter must not reveal, by subtraction from the same cell with fewer filters, who it left out.
    revealing: set[CellKey] = set()
    for size in range(len(active)):
        for kept in combinations(active, size):
            left_out = [
                row for row in rows if all(row[name] for name in kept) and not all(row[name] for name in active)
            ]
            left_out_citizens, _ = _citizens_by_cell(left_out, organisation, teams, indicator.grouped)
            revealing.update(key for key, people in left_out_citizens.items() if is_small(len(people)))

    sums: list[Sum[CellKey]] = []
    for group in [None, *groups]:
        for node in nodes:
            # A quarter's months first: a hidden month is then paired with a month of its own quarter.
            sums.extend(
                Sum((node, group, quarter), tuple((node, group, month) for month in months_of(quarter)))
                for quarter in QUARTERS
            )
            sums.append(Sum((node, group, YEAR), tuple((node, group, quarter) for quarter in QUARTERS)))
            sums.append(Sum((node, group, YEAR), tuple((node, group, month) for month in MONTHS)))
            children = organisation.children(node)
            for each in periods if children else ():
                sums.append(Sum((node, group, each), tuple((child, group, each) for child in children)))
    if groups:
        sums.extend(
            Sum((node, None, each), tuple((node, group, each) for group in groups))
            for node in nodes
            for each in periods
        )
    hidden = suppressed_cells(citizens, sums, revealing=revealing)

    names = _group_names(indicator, population)
    tables: dict[str, dict[Node, Cell]] = {}
    for period in periods:
        cells = tables[period] = {}
        for node in nodes:
            cell = _cell(indicator, (node, None, period), citizens, members, hidden, None)
            if indicator.grouped:
                node_count = None if cell.suppressed else cell.count
                cell.groups = [
                    _cell(indicator, (node, group, period), citizens, members, hidden, names.get(group), node_count)
                    for group in groups
                ]
            cells[node] = cell
    return tables


def _group_names(indicator: Indicator, rows: list[Row]) -> dict[str, Texts]:
    names: dict[str, Texts] = {key: value for key, value in indicator.group_names.items()}
    for row in rows:
        group = str(row.get("group"))
        if group not in names and row.get("group_name_da") is not None:
            names[group] = (row["group_name_da"], row["group_name_en"])
    return names


def _cell(
    indicator: Indicator,
    key: CellKey,
    citizens: dict[CellKey, set],
    members: dict[CellKey, list[Row]],
    hidden: set[CellKey],
    group_name: Texts | None,
    node_count: int | None = None,
) -> Cell:
    node, group, _ = key
    if key in hidden:
        return Cell(node=node, group=group, group_name=group_name, suppressed=True)
    rows = members.get(key, [])
    count = len(rows)
    return Cell(
        node=node,
        group=group,
        group_name=group_name,
        suppressed=False,
        citizens=len(citizens.get(key, ())),
        count=count,
        share=round(count / node_count, 4) if group is not None and node_count else None,
        values={measure.key: measure.compute(rows) if rows else None for measure in indicator.measures},
    )
