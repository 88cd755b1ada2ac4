"""Precomputed indicator tables: the suppressed cells of every standard indicator, for each municipality and
calendar year, computed by the evaluator exactly as a query without filters would compute them, and stored
so that such a query reads them instead of computing them again.

``tables_refresh`` (run by ``manage.py indicators_refresh`` every five minutes) recomputes a table only when
the rows behind it have changed: per year and kind of row it sums up how many rows there are and when the
latest changed (``inputs``), plus for requests how many have passed their deadline unanswered, which
changes with time alone. A table computed for other teams and units than the municipality has now is not
used: the query computes its cells as before, until the next refresh.

Queries with a condition, device type or age band filter are always computed: their tables would be one
per filter value."""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import Count, Max, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import ExtractYear
from django.utils import timezone

from backend.models import Municipality
from backend.timeutil import municipal_today
from effekt.indicators.definitions import INDICATORS, Indicator
from effekt.indicators.evaluator import Cell, Filters, Node, Organisation, evaluate_periods
from effekt.indicators.sources import Scope
from effekt.models import IndicatorTable, IndicatorTableCell
from selvbetjening.models import (
    CitizenRequest,
    Episode,
    Goal,
    GoalRating,
    QuestionnaireResponse,
    SessionLog,
    TrainingSlot,
)
from velfaerdsteknologi.models import Assignment

# The kinds of rows each indicator is computed from (the organisation counts for all of them).
EPISODES_ENDED = "episodes_ended"
EPISODES_STARTED = "episodes_started"
GOALS = "goals"
RATINGS = "ratings"
SLOTS = "slots"
SESSIONS = "sessions"
ANSWERS = "answers"
REQUESTS = "requests"
DEVICES = "devices"

INPUTS: dict[str, tuple[str, ...]] = {
    "goal_attainment": (EPISODES_ENDED, GOALS, RATINGS),
    "function_change": (EPISODES_ENDED, GOALS, RATINGS),
    "follow_up_results": (EPISODES_ENDED,),
    "episode_length": (EPISODES_ENDED,),
    "referral_to_start": (EPISODES_STARTED,),
    "adherence": (EPISODES_ENDED, SLOTS, GOALS, RATINGS),
    "pain_and_effort": (EPISODES_ENDED, SESSIONS),
    "questionnaire_change": (EPISODES_ENDED, ANSWERS),
    "request_response": (REQUESTS,),
    "device_effect": (EPISODES_ENDED, GOALS, RATINGS, DEVICES),
}


def organisation_signature(organisation: Organisation) -> str:
    """The teams and units the cells are computed for: a moved, added or removed team gives another
    signature (names are read with the cells, so a renamed one does not)."""
    parts = sorted(f"{node.level}:{node.id}:{node.parent.id if node.parent else ''}" for node in _nodes(organisation))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _nodes(organisation: Organisation) -> list[Node]:
    return [organisation.municipality, *organisation.units, *organisation.teams]


# --- What the figures are computed from --------------------------------------------------------


def _by_year(queryset: QuerySet, year_of: str, latest: str, **extra: Any) -> dict[int, tuple]:
    rows = (
        queryset.annotate(input_year=ExtractYear(year_of))
        .order_by()
        .values("input_year")
        .annotate(rows=Count("pk"), latest=Max(latest), **extra)
    )
    return {
        row.pop("input_year"): tuple(str(value) for _, value in sorted(row.items()))
        for row in rows
        if row["input_year"]
    }


def input_summaries(municipality_id: UUID, now: datetime) -> dict[str, dict[int, tuple]]:
    """Per kind of row and year: how many rows there are and when the latest of them changed. One query
    per kind, each grouped by year."""
    completed = {"status": Episode.Status.COMPLETED}
    episodes = Episode.objects.filter(team__unit__municipality_id=municipality_id)
    by_episode = {"episode__team__unit__municipality_id": municipality_id, "episode__status": Episode.Status.COMPLETED}
    return {
        EPISODES_ENDED: _by_year(episodes.filter(**completed), "ended_on", "updated_at"),
        EPISODES_STARTED: _by_year(episodes.exclude(status=Episode.Status.CANCELLED), "start_date", "updated_at"),
        GOALS: _by_year(Goal.objects.filter(**by_episode), "episode__ended_on", "updated_at"),
        RATINGS: _by_year(
            GoalRating.objects.filter(**{f"goal__{key}": value for key, value in by_episode.items()}),
            "goal__episode__ended_on",
            "created_at",
            rated=Max("rated_on"),
        ),
        SLOTS: _by_year(
            TrainingSlot.objects.filter(**{f"plan__{key}": value for key, value in by_episode.items()}),
            "plan__episode__ended_on",
            "updated_at",
        ),
        SESSIONS: _by_year(
            SessionLog.objects.filter(**{f"plan__{key}": value for key, value in by_episode.items()}),
            "plan__episode__ended_on",
            "updated_at",
        ),
        ANSWERS: _by_year(
            QuestionnaireResponse.objects.filter(**{f"assignment__{key}": value for key, value in by_episode.items()}),
            "assignment__episode__ended_on",
            "submitted_at",
        ),
        REQUESTS: _by_year(
            CitizenRequest.objects.filter(team__unit__municipality_id=municipality_id),
            "created_at",
            "updated_at",
            overdue=Count("pk", filter=Q(answered_at__isnull=True, respond_by__lt=now)),
        ),
        DEVICES: _by_year(
            # An assignment names its episode by id only.
            Assignment.objects.filter(episode_id__in=episodes.filter(**completed).values("pk")).annotate(
                episode_ended_on=Subquery(Episode.objects.filter(pk=OuterRef("episode_id")).values("ended_on")[:1])
            ),
            "episode_ended_on",
            "created_at",
            installed=Count("installed_at"),
            latest_installed=Max("installed_at"),
        ),
    }


def _inputs_of(indicator: Indicator, year: int, summaries: dict[str, dict[int, tuple]]) -> str:
    # Requests are summed up by the year of their UTC instant; the municipality's year starts in the
    # last hours of the UTC year before.
    parts = [
        f"{kind}:{summaries[kind].get(year - 1) if kind == REQUESTS else ''}:{summaries[kind].get(year)}"
        for kind in INPUTS[indicator.key]
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _years(municipality_id: UUID, today: date) -> range:
    """From the first year anything of the municipality's happened to this year."""
    first = Episode.objects.filter(team__unit__municipality_id=municipality_id).aggregate(
        first=Min("start_date"), ended=Min("ended_on")
    )
    request = CitizenRequest.objects.filter(team__unit__municipality_id=municipality_id).aggregate(
        first=Min("created_at")
    )["first"]
    days = [day for day in (first["first"], first["ended"], request and request.date()) if day is not None]
    return range(min(days).year if days else today.year, today.year + 1)


# --- Refreshing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefreshReport:
    computed: int
    unchanged: int


def tables_refresh(
    *,
    now: datetime | None = None,
    municipalities: Iterable[Municipality] | None = None,
    years: Iterable[int] | None = None,
) -> RefreshReport:
    """Recompute every table whose inputs or organisation changed since it was computed, and compute those
    not computed yet, for every municipality (or those given) from its first year to this one (or the years
    given). Safe to run twice: a second run finds nothing changed."""
    from effekt.selectors import organisation_of

    now = now or timezone.now()
    today = municipal_today()
    computed = unchanged = 0
    for municipality in municipalities if municipalities is not None else Municipality.objects.all():
        organisation = organisation_of(municipality)
        signature = organisation_signature(organisation)
        summaries = input_summaries(municipality.pk, now)
        existing = {
            (table.indicator_key, table.year): table
            for table in IndicatorTable.objects.filter(municipality=municipality)
        }
        for year in _years(municipality.pk, today) if years is None else years:
            scope = Scope(municipality_id=municipality.pk, start=date(year, 1, 1), end=date(year, 12, 31), now=now)
            for indicator in INDICATORS:
                inputs = _inputs_of(indicator, year, summaries)
                table = existing.get((indicator.key, year))
                if table is not None and (table.inputs, table.organisation) == (inputs, signature):
                    unchanged += 1
                    continue
                _store(
                    municipality,
                    indicator,
                    year,
                    now,
                    signature,
                    inputs,
                    evaluate_periods(indicator, scope, organisation, Filters()),
                )
                computed += 1
    return RefreshReport(computed=computed, unchanged=unchanged)


@transaction.atomic
def _store(
    municipality: Municipality,
    indicator: Indicator,
    year: int,
    now: datetime,
    signature: str,
    inputs: str,
    tables: dict[str, dict[Node, Cell]],
) -> None:
    table, _ = IndicatorTable.objects.update_or_create(
        municipality=municipality,
        indicator_key=indicator.key,
        year=year,
        defaults={"computed_at": now, "organisation": signature, "inputs": inputs},
    )
    table.cells.all().delete()
    IndicatorTableCell.objects.bulk_create(
        [
            _cell_row(table, period, row)
            for period, cells in tables.items()
            for cell in cells.values()
            for row in (cell, *cell.groups)
        ],
        batch_size=2000,
    )


def _cell_row(table: IndicatorTable, period: str, cell: Cell) -> IndicatorTableCell:
    assert cell.node.id is not None
    return IndicatorTableCell(
        table=table,
        period=period,
        level=cell.node.level,
        node_id=cell.node.id,
        group=cell.group or "",
        group_name=list(cell.group_name) if cell.group_name is not None else None,
        suppressed=cell.suppressed,
        citizens=cell.citizens,
        count=cell.count,
        share=cell.share,
        values=cell.values,
    )


# --- Reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredCells:
    cells: dict[Node, Cell]
    computed_at: datetime


CELL_COLUMNS = ("node_id", "group", "group_name", "suppressed", "citizens", "count", "share", "values")


def stored_cells(
    indicator: Indicator,
    municipality_id: UUID,
    year: int,
    organisation: Organisation,
    period: str,
    nodes: Iterable[Node],
) -> StoredCells | None:
    """The period's cells of ``nodes`` (with their groups) from the stored table, when there is one computed
    for the organisation as it is now; None otherwise. One query."""
    wanted = {node.id: node for node in nodes}
    rows = list(
        IndicatorTableCell.objects.filter(
            table__municipality_id=municipality_id,
            table__indicator_key=indicator.key,
            table__year=year,
            period=period,
            node_id__in=list(wanted),
        ).values_list("table__computed_at", "table__organisation", *CELL_COLUMNS)
    )
    if not rows or rows[0][1] != organisation_signature(organisation):
        return None
    cells: dict[Node, Cell] = {}
    groups: dict[Node, list[Cell]] = {}
    for _, _, node_id, group, group_name, suppressed, citizens, count, share, values in rows:
        node = wanted[node_id]
        cell = Cell(
            node=node,
            group=group or None,
            group_name=None if group_name is None else (group_name[0], group_name[1]),
            suppressed=suppressed,
            citizens=citizens,
            count=count,
            share=share,
            values=values,
        )
        if group:
            groups.setdefault(node, []).append(cell)
        else:
            cells[node] = cell
    if set(cells) != set(wanted.values()):
        return None
    for node, cell in cells.items():
        # In the evaluator's order: by the group's key as a string.
        cell.groups = sorted(groups.get(node, []), key=lambda group: group.group or "")
    return StoredCells(cells, rows[0][0])
