"""Reads for the effect layer: the organisation of the caller's municipality, and an indicator's cells
for the part of it asked about. Aggregates only; nothing here returns a person. Every indicator query is
written to the aggregate-read log (``AggregateRead``) before its figures are returned."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from django.db.models import QuerySet
from django.utils import timezone

from backend.actors import Actor
from backend.audit import DEFAULT_PURPOSE, Purpose
from backend.context import current_request_id
from backend.errors import Conflict, InvalidInput, NotFound
from backend.models import Municipality, Team
from backend.replica import reads_from_replica
from effekt.aggregates import filter_key, matches_nothing, stored_cells
from effekt.indicators.definitions import BY_KEY, Indicator
from effekt.indicators.evaluator import (
    MUNICIPALITY,
    TEAM,
    UNIT,
    YEAR,
    Cell,
    Filters,
    Node,
    Organisation,
    evaluate_periods,
)
from effekt.indicators.sources import Scope
from effekt.models import AggregateRead, BenchmarkParticipation, Outcome, TheoryOfChange
from effekt.periods import Period, month_periods, year_period
from selvbetjening.models import Goal


def organisation_of(municipality: Municipality) -> Organisation:
    """The municipality, its units with teams, and its teams: one query."""
    return _organisation(
        municipality,
        Team.objects.filter(unit__municipality=municipality).select_related("unit").order_by("unit__name", "name"),
    )


def _organisation(municipality: Municipality, teams_in_order: Iterable[Team]) -> Organisation:
    root = Node(MUNICIPALITY, municipality.pk, municipality.name)
    units: dict[UUID, Node] = {}
    teams = []
    for team in teams_in_order:
        unit = units.setdefault(team.unit_id, Node(UNIT, team.unit_id, team.unit.name, root))
        teams.append(Node(TEAM, team.pk, team.name, unit))
    return Organisation(root, tuple(units.values()), tuple(teams))


def indicator_for(key: str) -> Indicator:
    try:
        return BY_KEY[key]
    except KeyError as exc:
        raise NotFound("No such indicator.") from exc


# The filters that pick the population (team and unit pick cells of it): one at a time.
POPULATION_FILTERS = ("condition", "age_band", "device_type")


@dataclass(frozen=True)
class IndicatorQuery:
    """What an indicator is asked for. With team and unit, at most one of condition, age band and device
    type: each answer is then a table the refresh keeps (``effekt.aggregates``). Two or more at once are
    refused (422 naming the second), before anything is read or logged: their tables are not kept (each
    combination would be as many tables again as the single filters, which the refresh computes from the
    rows), and computing one on request takes the whole municipality's rows (over a minute at 100,000
    episodes)."""

    period: Period
    team: UUID | None = None
    unit: UUID | None = None
    condition: UUID | None = None
    age_band: str | None = None
    device_type: str | None = None
    breakdown: str = "none"

    def __post_init__(self) -> None:
        given = [name for name in POPULATION_FILTERS if getattr(self, name)]
        if len(given) > 1:
            raise InvalidInput(given[1], "at most one of condition, age_band and device_type can be given at a time.")


@dataclass
class IndicatorResult:
    indicator: Indicator
    query: IndicatorQuery
    total: Cell
    cells: list[Cell]
    computed_at: datetime  # when the figures were computed: now, or when the stored table was


def _focus(organisation: Organisation, query: IndicatorQuery) -> Node:
    """The node asked about; a team or unit outside the caller's municipality is one that does not exist."""
    focus = organisation.municipality
    if query.unit is not None:
        focus = next((unit for unit in organisation.units if unit.id == query.unit), None) or _missing()
    if query.team is not None:
        team = next((team for team in organisation.teams if team.id == query.team), None)
        if team is None or (query.unit is not None and team.parent != focus):
            _missing()
        assert team is not None
        focus = team
    return focus


def _missing() -> Node:
    raise NotFound("No such team or unit.")


def _below(organisation: Organisation, focus: Node, level: str) -> list[Node]:
    if focus.level == level:
        return [focus]
    if level == UNIT:
        return list(organisation.units) if focus.level == MUNICIPALITY else []
    if level == TEAM:
        return [team for team in organisation.teams if focus in (team.parent, team.parent and team.parent.parent)]
    return []


def query_filters(query: IndicatorQuery) -> dict[str, str]:
    """The filters of a query as they are shown and logged: only those given, and the breakdown."""
    filters = {
        name: str(value)
        for name, value in (
            ("team", query.team),
            ("unit", query.unit),
            ("condition", query.condition),
            ("age_band", query.age_band),
            ("device_type", query.device_type),
        )
        if value is not None
    }
    if query.breakdown != "none":
        filters["breakdown"] = query.breakdown
    return filters


def aggregate_read_record(actor: Actor, indicator: Indicator, query: IndicatorQuery, surface: str) -> None:
    """Log one indicator query: who, in which role, why, which indicator, period and filters, where."""
    assert actor.staff is not None
    role = actor.audit_role
    AggregateRead.objects.create(
        actor_id=actor.user.pk,
        actor_name=actor.user.display_name,
        actor_role=role,
        purpose=DEFAULT_PURPOSE.get(role, Purpose.FOLLOW_UP),
        municipality_id=actor.staff.municipality_id,
        surface=surface,
        indicator_key=indicator.key,
        period_start=query.period.start,
        period_end=query.period.end,
        filters=query_filters(query),
        request_id=current_request_id(),
    )


def _scope(municipality_id: UUID, query: IndicatorQuery, year: int) -> Scope:
    return Scope(
        municipality_id=municipality_id,
        start=date(year, 1, 1),
        end=date(year, 12, 31),
        condition_code=query.condition,
        device_type=query.device_type,
    )


def _filters(query: IndicatorQuery) -> Filters:
    return Filters(condition=query.condition is not None, device=bool(query.device_type), age_band=query.age_band)


def _evaluated(
    actor: Actor,
    indicator: Indicator,
    query: IndicatorQuery,
    surface: str,
    shown: Callable[[Organisation, Node], list[Node]],
) -> tuple[Organisation, Node, dict[Node, Cell], datetime]:
    """The node asked about and the cells of it and of the nodes ``shown`` beside it."""
    assert actor.staff is not None
    organisation = organisation_of(actor.staff.municipality)
    focus = _focus(organisation, query)
    aggregate_read_record(actor, indicator, query, surface)
    scope = _scope(actor.staff.municipality_id, query, query.period.start.year)
    filters = _filters(query)
    nodes = [focus, *shown(organisation, focus)]
    cells, computed_at = _cells(indicator, scope, organisation, filters, query.period.key, nodes)
    return organisation, focus, cells, computed_at


def _cells(
    indicator: Indicator, scope: Scope, organisation: Organisation, filters: Filters, period: str, nodes: list[Node]
) -> tuple[dict[Node, Cell], datetime]:
    """The suppressed cells (at least those of ``nodes``) of one period and when they were computed."""
    cells, computed_at = _period_cells(indicator, scope, organisation, filters, [period], nodes)
    return cells[period], computed_at


@reads_from_replica
def _period_cells(
    indicator: Indicator,
    scope: Scope,
    organisation: Organisation,
    filters: Filters,
    periods: list[str],
    nodes: list[Node],
) -> tuple[dict[str, dict[Node, Cell]], datetime]:
    """The suppressed cells (at least those of ``nodes``) of each of ``periods`` of the year, all from one
    table, and when they were computed, read where heavy reads go (the replica when one keeps up); nothing
    written here, so a read retried on the primary logs nothing twice. The precomputed table of the filter
    (or of none) is read when there is one for the organisation as it is (``effekt.aggregates``); a
    condition or device type that none of the municipality's rows has gives the cells of an empty
    population; otherwise (before the first refresh, or after the teams changed until the next) the whole
    municipality's cells are computed now."""
    key = filter_key(scope, filters)
    stored = stored_cells(indicator, scope.municipality_id, scope.start.year, organisation, periods, nodes, key)
    if stored is not None:
        return stored.cells, stored.computed_at
    if matches_nothing(scope, filters):
        return evaluate_periods(indicator, scope, organisation, filters, rows=[]), timezone.now()
    return evaluate_periods(indicator, scope, organisation, filters), timezone.now()


def indicator_values(actor: Actor, indicator: Indicator, query: IndicatorQuery, *, surface: str) -> IndicatorResult:
    """The indicator for the caller's municipality, picked from cells computed and suppressed for the whole
    municipality, so a filter on a team or unit shows exactly what the full table shows for it. A team or
    unit of another municipality is a 404 and is not logged; a query answered is logged first."""

    def below(organisation: Organisation, focus: Node) -> list[Node]:
        return [] if query.breakdown == "none" else _below(organisation, focus, query.breakdown)

    organisation, focus, cells, computed_at = _evaluated(actor, indicator, query, surface, below)
    return IndicatorResult(
        indicator, query, cells[focus], [cells[node] for node in below(organisation, focus)], computed_at
    )


def _context(organisation: Organisation, focus: Node) -> list[Node]:
    """What puts a node in context: a municipality's units, a unit's teams, a team's unit and municipality."""
    if focus.level == TEAM:
        assert focus.parent is not None
        return [focus.parent, organisation.municipality]
    return list(organisation.children(focus))


def indicator_in_context(actor: Actor, indicator: Indicator, query: IndicatorQuery, *, surface: str) -> IndicatorResult:
    """The indicator for the node asked about, with the cells that put it in context: a municipality's
    units, a unit's teams, a team's unit and municipality. All from the one suppressed table."""
    organisation, focus, cells, computed_at = _evaluated(actor, indicator, query, surface, _context)
    return IndicatorResult(
        indicator, query, cells[focus], [cells[node] for node in _context(organisation, focus)], computed_at
    )


MONTHLY = "month"
YEARLY = "year"


@dataclass(frozen=True)
class SeriesPoint:
    period: Period
    cell: Cell
    computed_at: datetime


@dataclass
class IndicatorSeries:
    indicator: Indicator
    query: IndicatorQuery  # its period spans the series
    interval: str  # MONTHLY or YEARLY
    total: Cell | None  # a monthly series: the year's cell
    points: list[SeriesPoint]


def indicator_series(
    actor: Actor,
    indicator: Indicator,
    query: IndicatorQuery,
    *,
    interval: str,
    surface: str = AggregateRead.Surface.API,
) -> IndicatorSeries:
    """One cell of the indicator (the municipality, or the team or unit asked about) for each month of the
    year of ``query.period`` with the year's cell beside them, or for each year ``query.period`` spans.
    A monthly series is read from the one table the year, its quarters and its months are suppressed in
    together, so no hidden month is the year less the months shown, nor a quarter less its other months.
    Each year of a yearly series is its own year's cell, as the indicator shows it for that year. Logged
    once, as one aggregate read of the whole span from ``surface``; a team or unit of another municipality
    is a 404."""
    assert actor.staff is not None
    organisation = organisation_of(actor.staff.municipality)
    focus = _focus(organisation, query)
    aggregate_read_record(actor, indicator, query, surface)
    filters = _filters(query)
    municipality_id = actor.staff.municipality_id
    if interval == MONTHLY:
        year = query.period.start.year
        months = month_periods(year)
        cells, computed_at = _period_cells(
            indicator,
            _scope(municipality_id, query, year),
            organisation,
            filters,
            [YEAR, *(month.key for month in months)],
            [focus],
        )
        points = [SeriesPoint(month, cells[month.key][focus], computed_at) for month in months]
        return IndicatorSeries(indicator, query, interval, cells[YEAR][focus], points)
    points = []
    for year in range(query.period.start.year, query.period.end.year + 1):
        cell, computed_at = _cells(
            indicator, _scope(municipality_id, query, year), organisation, filters, YEAR, [focus]
        )
        points.append(SeriesPoint(year_period(year), cell[focus], computed_at))
    return IndicatorSeries(indicator, query, interval, None, points)


def conditions_in(actor: Actor) -> list[tuple[UUID, str]]:
    """The FSIII conditions the municipality's goals are set for, by name: the choices of the condition
    filter. Names of conditions only, nothing of a person."""
    assert actor.staff is not None
    pairs = (
        Goal.objects.filter(episode__team__unit__municipality_id=actor.staff.municipality_id)
        .values_list("condition_code", "condition_display")
        .distinct()
    )
    names: dict[UUID, str] = {}
    for code, display in pairs:
        names.setdefault(code, display)
    return sorted(names.items(), key=lambda pair: (pair[1].lower(), str(pair[0])))


# --- Theories of change ------------------------------------------------------------------------


def theories_visible_to(actor: Actor) -> QuerySet[TheoryOfChange]:
    """Theories of change of the caller's municipality."""
    if actor.staff is None:
        return TheoryOfChange.objects.none()
    return TheoryOfChange.objects.filter(municipality_id=actor.staff.municipality_id)


@dataclass(frozen=True)
class OutcomeValue:
    outcome: Outcome
    cell: Cell

    @property
    def value(self) -> float | None:
        if self.cell.suppressed:
            return None
        if not self.outcome.measure_key:
            return None if self.cell.citizens is None else float(self.cell.citizens)
        return (self.cell.values or {}).get(self.outcome.measure_key)


def outcome_values(actor: Actor, theory: TheoryOfChange, *, period: Period) -> list[OutcomeValue]:
    """Each outcome with the municipality's figure for its indicator in the period, suppressed like any
    other: each indicator the theory uses is computed once."""
    outcomes = list(theory.outcomes.all())
    totals = {
        key: indicator_values(
            actor, indicator_for(key), IndicatorQuery(period=period), surface=AggregateRead.Surface.THEORY
        ).total
        for key in dict.fromkeys(outcome.indicator_key for outcome in outcomes)
    }
    return [OutcomeValue(outcome, totals[outcome.indicator_key]) for outcome in outcomes]


# --- The cross-municipality benchmark -----------------------------------------------------------


def benchmark_joined(actor: Actor) -> BenchmarkParticipation | None:
    assert actor.staff is not None
    return BenchmarkParticipation.objects.filter(municipality_id=actor.staff.municipality_id).first()


def benchmark_participants() -> int:
    """How many municipalities take part in the benchmark."""
    return BenchmarkParticipation.objects.count()


@dataclass(frozen=True)
class BenchmarkCell:
    municipality: Municipality
    is_own: bool
    cell: Cell
    computed_at: datetime


def benchmark_values(actor: Actor, indicator: Indicator, query: IndicatorQuery) -> list[BenchmarkCell]:
    """The indicator at municipality level for every municipality in the benchmark, the caller's first,
    then by name. Each municipality's figure is its own table's municipality cell, suppressed there as it
    is for its own staff; no team or unit of any municipality is shown. Only a municipality that takes
    part sees the others (409 ``benchmark_not_joined`` otherwise); team and unit filters are refused."""
    assert actor.staff is not None
    own = actor.staff.municipality_id
    if query.team is not None or query.unit is not None:
        raise InvalidInput("team", "The benchmark compares whole municipalities: no team or unit filter.")
    if benchmark_joined(actor) is None:
        raise Conflict("Your municipality does not take part in the benchmark.", code="benchmark_not_joined")
    aggregate_read_record(actor, indicator, query, AggregateRead.Surface.BENCHMARK)
    filters = _filters(query)
    participants = sorted(
        (participation.municipality for participation in BenchmarkParticipation.objects.select_related("municipality")),
        key=lambda municipality: (
            municipality.pk != own,
            municipality.name,
            str(municipality.pk),
        ),
    )
    teams_by_municipality: dict[UUID, list[Team]] = {}
    for team in (
        Team.objects.filter(unit__municipality__in=participants).select_related("unit").order_by("unit__name", "name")
    ):
        teams_by_municipality.setdefault(team.unit.municipality_id, []).append(team)
    values = []
    for municipality in participants:
        organisation = _organisation(municipality, teams_by_municipality.get(municipality.pk, []))
        scope = _scope(municipality.pk, query, query.period.start.year)
        cells, computed_at = _cells(
            indicator, scope, organisation, filters, query.period.key, [organisation.municipality]
        )
        values.append(
            BenchmarkCell(municipality, municipality.pk == own, cells[organisation.municipality], computed_at)
        )
    return values
