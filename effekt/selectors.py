"""Reads for the effect layer: the organisation of the caller's municipality, and an indicator's cells
for the part of it asked about. Aggregates only; nothing here returns or logs a person."""

from dataclasses import dataclass
from uuid import UUID

from django.db.models import QuerySet

from backend.actors import Actor
from backend.errors import NotFound
from backend.models import Municipality, Team
from backend.replica import reads_from_replica
from effekt.indicators.definitions import BY_KEY, Indicator
from effekt.indicators.evaluator import MUNICIPALITY, TEAM, UNIT, Cell, Filters, Node, Organisation, evaluate
from effekt.indicators.sources import Scope
from effekt.models import Outcome, TheoryOfChange
from effekt.periods import Period


def organisation_of(municipality: Municipality) -> Organisation:
    """The municipality, its units with teams, and its teams: one query."""
    root = Node(MUNICIPALITY, municipality.pk, municipality.name)
    units: dict[UUID, Node] = {}
    teams = []
    for team in (
        Team.objects.filter(unit__municipality=municipality).select_related("unit").order_by("unit__name", "name")
    ):
        unit = units.setdefault(team.unit_id, Node(UNIT, team.unit_id, team.unit.name, root))
        teams.append(Node(TEAM, team.pk, team.name, unit))
    return Organisation(root, tuple(units.values()), tuple(teams))


def indicator_for(key: str) -> Indicator:
    try:
        return BY_KEY[key]
    except KeyError as exc:
        raise NotFound("No such indicator.") from exc


@dataclass(frozen=True)
class IndicatorQuery:
    period: Period
    team: UUID | None = None
    unit: UUID | None = None
    condition: UUID | None = None
    age_band: str | None = None
    device_type: str | None = None
    breakdown: str = "none"


@dataclass
class IndicatorResult:
    indicator: Indicator
    query: IndicatorQuery
    total: Cell
    cells: list[Cell]


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


@reads_from_replica
def indicator_values(actor: Actor, indicator: Indicator, query: IndicatorQuery) -> IndicatorResult:
    """The indicator for the caller's municipality, picked from cells computed and suppressed for the whole
    municipality, so a filter on a team or unit shows exactly what the full table shows for it."""
    assert actor.staff is not None
    organisation = organisation_of(actor.staff.municipality)
    focus = _focus(organisation, query)
    scope = Scope(
        municipality_id=actor.staff.municipality_id,
        start=query.period.year_start,
        end=query.period.year_end,
        condition_code=query.condition,
        device_type=query.device_type,
    )
    filters = Filters(condition=query.condition is not None, device=bool(query.device_type), age_band=query.age_band)
    cells = evaluate(indicator, scope, organisation, filters, period=query.period.key)
    below = [] if query.breakdown == "none" else _below(organisation, focus, query.breakdown)
    return IndicatorResult(indicator, query, cells[focus], [cells[node] for node in below])


# --- Theories of change ------------------------------------------------------------------------


def theories_visible_to(actor: Actor) -> QuerySet[TheoryOfChange]:
    """Theories of change of the caller's municipality."""
    if actor.staff is None:
        return TheoryOfChange.objects.none()
    return TheoryOfChange.objects.filter(municipality_id=actor.staff.municipality_id)


def access_theory_of_change(actor: Actor, theory_id: UUID) -> TheoryOfChange:
    try:
        return theories_visible_to(actor).prefetch_related("outcomes").get(pk=theory_id)
    except TheoryOfChange.DoesNotExist as exc:
        raise NotFound("No such theory of change.") from exc


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
        key: indicator_values(actor, indicator_for(key), IndicatorQuery(period=period)).total
        for key in dict.fromkeys(outcome.indicator_key for outcome in outcomes)
    }
    return [OutcomeValue(outcome, totals[outcome.indicator_key]) for outcome in outcomes]
