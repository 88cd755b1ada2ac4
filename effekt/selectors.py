"""Reads for the effect layer: the organisation of the caller's municipality, and an indicator's cells
for the part of it asked about. Aggregates only; nothing here returns or logs a person."""

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from backend.actors import Actor
from backend.errors import NotFound
from backend.models import Municipality, Team
from effekt.indicators.definitions import BY_KEY, Indicator
from effekt.indicators.evaluator import MUNICIPALITY, TEAM, UNIT, Cell, Filters, Node, Organisation, evaluate
from effekt.indicators.sources import Scope


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
    start: date
    end: date
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


def indicator_values(actor: Actor, indicator: Indicator, query: IndicatorQuery) -> IndicatorResult:
    """The indicator for the caller's municipality, picked from cells computed and suppressed for the whole
    municipality, so a filter on a team or unit shows exactly what the full table shows for it."""
    assert actor.staff is not None
    organisation = organisation_of(actor.staff.municipality)
    focus = _focus(organisation, query)
    scope = Scope(
        municipality_id=actor.staff.municipality_id,
        start=query.start,
        end=query.end,
        condition_code=query.condition,
        device_type=query.device_type,
    )
    filters = Filters(condition=query.condition is not None, device=bool(query.device_type), age_band=query.age_band)
    cells = evaluate(indicator, scope, organisation, filters)
    below = [] if query.breakdown == "none" else _below(organisation, focus, query.breakdown)
    return IndicatorResult(indicator, query, cells[focus], [cells[node] for node in below])
