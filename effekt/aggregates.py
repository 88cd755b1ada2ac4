"""Precomputed indicator tables: the suppressed cells of every standard indicator, for each municipality and
calendar year, computed by the evaluator exactly as a query would compute them, and stored so that a query
reads them instead of computing them again. A table is kept without filters and for each single filter:
every FSIII condition the municipality's goals are set for, every device type installed for its episodes,
and every age band. These are all the queries take (``effekt.selectors.IndicatorQuery`` refuses two of
those filters at once), so every query the API and the pages answer has its table.

``tables_refresh`` (run by ``manage.py indicators_refresh`` every five minutes) recomputes an indicator's
tables for a year only when what they are computed from has changed: per kind of row and year it reads the
very columns the indicators read and sums up a fingerprint of them (``input_summaries``), so an edit to
any of them is seen whether or not the row keeps a time of change, and so is a request passing its deadline
unanswered, which changes with time alone. A table computed for other teams and units than the
municipality has now is not used: the query computes its cells as before, until the next refresh."""

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from uuid import UUID

from django.db import connection, transaction
from django.db.models import F, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import ExtractYear
from django.utils import timezone

from backend import sql
from backend.models import Municipality
from backend.timeutil import municipal_today
from effekt.indicators.definitions import INDICATORS, Indicator
from effekt.indicators.evaluator import (
    AGE_BANDS,
    PERIODS,
    Cell,
    Filters,
    Node,
    Organisation,
    birth_dates,
    evaluate_periods,
)
from effekt.indicators.sources import Row, Scope
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
from selvbetjening.rules.requests import deadline_missed
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
    "goal_attainment": (EPISODES_ENDED, GOALS, RATINGS, DEVICES),
    "function_change": (EPISODES_ENDED, GOALS, RATINGS, DEVICES),
    "follow_up_results": (EPISODES_ENDED, GOALS, DEVICES),
    "episode_length": (EPISODES_ENDED, GOALS, DEVICES),
    "referral_to_start": (EPISODES_STARTED,),
    "adherence": (EPISODES_ENDED, SLOTS, GOALS, RATINGS, DEVICES),
    "pain_and_effort": (EPISODES_ENDED, SESSIONS, GOALS, DEVICES),
    "questionnaire_change": (EPISODES_ENDED, ANSWERS, GOALS, DEVICES),
    "request_response": (REQUESTS,),
    "device_effect": (EPISODES_ENDED, GOALS, RATINGS, DEVICES),
}


def organisation_signature(organisation: Organisation) -> str:
    """The teams and units and the periods the cells are computed for: a moved, added or removed team
    gives another signature (names are read with the cells, so a renamed one does not), and so does a
    change to the periods a table holds (a table without months is computed again)."""
    parts = sorted(f"{node.level}:{node.id}:{node.parent.id if node.parent else ''}" for node in _nodes(organisation))
    parts.append("periods:" + ",".join(PERIODS))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _nodes(organisation: Organisation) -> list[Node]:
    return [organisation.municipality, *organisation.units, *organisation.teams]


# --- Which tables are kept ---------------------------------------------------------------------


def filter_key(scope: Scope, filters: Filters) -> str:
    """The key of the stored table a query with these filters reads: "" without filters, or one filter's
    name and value (a query gives at most one)."""
    parts = []
    if filters.condition:
        parts.append(f"condition={scope.condition_code}")
    if filters.device:
        parts.append(f"device_type={scope.device_type}")
    if filters.age_band:
        parts.append(f"age_band={filters.age_band}")
    assert len(parts) <= 1, parts
    return parts[0] if parts else ""


@dataclass(frozen=True)
class Variant:
    """One stored table of an indicator and year: no filter, or one."""

    key: str
    filters: Filters
    condition_code: UUID | None = None
    device_type: str | None = None


def _variants(conditions: Iterable[UUID], device_types: Iterable[str]) -> list[Variant]:
    return [
        Variant("", Filters()),
        *(Variant(f"condition={code}", Filters(condition=True), condition_code=code) for code in sorted(conditions)),
        *(Variant(f"device_type={kind}", Filters(device=True), device_type=kind) for kind in sorted(device_types)),
        *(Variant(f"age_band={band}", Filters(age_band=band)) for band in AGE_BANDS),
    ]


def _episodes_counted(municipality_id: UUID) -> QuerySet[Episode]:
    """The episodes whose goals and devices flag the municipality's rows: its own, and those its requests
    were made in."""
    return Episode.objects.filter(
        Q(team__unit__municipality_id=municipality_id)
        | Q(pk__in=CitizenRequest.objects.filter(team__unit__municipality_id=municipality_id).values("episode_id"))
    )


def _municipality_goals(municipality_id: UUID) -> QuerySet[Goal]:
    return Goal.objects.filter(episode__in=_episodes_counted(municipality_id))


def _municipality_devices(municipality_id: UUID, *, installed: bool = True) -> QuerySet[Assignment]:
    # An assignment names its episode by id only.
    assignments = Assignment.objects.filter(episode_id__in=_episodes_counted(municipality_id).values("pk"))
    return assignments.filter(installed_at__isnull=False) if installed else assignments


def matches_nothing(scope: Scope, filters: Filters) -> bool:
    """Whether a single condition or device type filter flags none of the municipality's rows in any year:
    then its cells are those of an empty population, whatever else the rows hold."""
    if filters.condition and scope.condition_code is not None and not filters.device:
        return not _municipality_goals(scope.municipality_id).filter(condition_code=scope.condition_code).exists()
    if filters.device and not filters.condition:
        return (
            not _municipality_devices(scope.municipality_id)
            .filter(device__model__category_id=scope.device_type)
            .exists()
        )
    return False


# --- What the figures are computed from --------------------------------------------------------

Summary = dict[Any, tuple[int, int]]  # per year: rows and the sum of their fingerprints


def _summed(rows: Iterable[tuple]) -> Summary:
    """Per year (the first value of each row): how many rows, and the sum modulo 2**64 of a hash of each
    row's values. Any change to a value read, a row added or one removed gives another sum."""
    summary: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
    for year, *values in rows:
        digest = hashlib.blake2b(repr(values).encode(), digest_size=8).digest()
        entry = summary[year]
        entry[0] += 1
        entry[1] = (entry[1] + int.from_bytes(digest, "big")) % 2**64
    return {year: (count, total) for year, (count, total) in summary.items()}


def _read(queryset: QuerySet, year_of: str | None, *columns: str, **annotations: Any) -> Iterable[tuple]:
    year = ExtractYear(year_of) if year_of else F("pk")
    return (
        queryset.annotate(**annotations)
        .annotate(input_year=year)
        .order_by()
        .values_list("input_year", *columns, *annotations)
        .iterator(chunk_size=5000)
    )


def _flagged(rows: Iterable[tuple], dimensions: "_Dimensions") -> Iterable[tuple]:
    """Rows whose second value is an episode, with what flags the episode for the condition and device
    filters: the conditions of its goals and the types of the devices installed for it."""
    for year, episode_id, *values in rows:
        yield (
            year,
            episode_id,
            *values,
            sorted(map(str, dimensions.conditions.get(episode_id, ()))),
            sorted(dimensions.devices.get(episode_id, ())),
        )


def _overdue(rows: Iterable[tuple], now: datetime) -> Iterable[tuple]:
    """Requests ending in their deadline and answer, with whether the one has passed without the other: that
    changes with time alone."""
    for *values, respond_by, answered_at in rows:
        missed = deadline_missed(respond_by=respond_by, answered_at=answered_at, now=now)
        yield (*values, respond_by, answered_at, missed)


def input_summaries(municipality_id: UUID, now: datetime, dimensions: "_Dimensions") -> dict[str, Summary]:
    """Per kind of row and year: a fingerprint of every value the indicators read from such rows, the
    citizen's encrypted CPR number (the birth date, for the age bands) with each episode and request. One
    query per kind; the episodes started in the year and the requests carry the filter flags of their
    episodes (``dimensions``), which may end in another year or not yet."""
    dimensions.load()
    in_municipality = {"team__unit__municipality_id": municipality_id}
    episodes = Episode.objects.filter(**in_municipality)
    by_episode = {f"episode__{key}": value for key, value in in_municipality.items()}
    requests = CitizenRequest.objects.filter(**in_municipality)
    ended = {Episode.Status.COMPLETED}
    return {
        EPISODES_ENDED: _summed(
            _read(
                episodes.filter(status__in=ended),
                "ended_on",
                *(
                    "pk",
                    "citizen_id",
                    "citizen__cpr_ciphertext",
                    "team_id",
                    "start_date",
                    "ended_on",
                    "planned_end_date",
                ),
                *("follow_up_result_id", "follow_up_result__display_da", "follow_up_result__display_en"),
            )
        ),
        EPISODES_STARTED: _summed(
            _flagged(
                _read(
                    episodes.exclude(status=Episode.Status.CANCELLED),
                    "start_date",
                    *("pk", "citizen_id", "citizen__cpr_ciphertext", "team_id", "start_date", "created_at"),
                ),
                dimensions,
            )
        ),
        GOALS: _summed(
            _read(
                _municipality_goals(municipality_id),
                "episode__ended_on",
                *("pk", "episode_id", "lifecycle_status", "condition_code", "condition_display"),
                *("baseline_level", "baseline_gas", "gas_weight"),
            )
        ),
        RATINGS: _summed(
            _read(
                GoalRating.objects.filter(**{f"goal__{key}": value for key, value in by_episode.items()}),
                "goal__episode__ended_on",
                *("pk", "goal_id", "rated_on", "created_at", "gas_score", "function_level"),
            )
        ),
        SLOTS: _summed(
            _read(
                TrainingSlot.objects.filter(**{f"plan__{key}": value for key, value in by_episode.items()}),
                "plan__episode__ended_on",
                *("pk", "plan__episode_id", "status"),
            )
        ),
        SESSIONS: _summed(
            _read(
                SessionLog.objects.filter(**{f"plan__{key}": value for key, value in by_episode.items()}),
                "plan__episode__ended_on",
                *("pk", "plan__episode_id", "performed_at", "pain_before", "effort"),
            )
        ),
        ANSWERS: _summed(
            _read(
                QuestionnaireResponse.objects.filter(
                    **{f"assignment__{key}": value for key, value in by_episode.items()}
                ),
                "assignment__episode__ended_on",
                *("pk", "assignment__episode_id", "score", "submitted_at", "version__questionnaire__key"),
                *("version__questionnaire__title_da", "version__questionnaire__title_en"),
            )
        ),
        REQUESTS: _summed(
            _flagged(
                _overdue(
                    _read(
                        requests,
                        "created_at",
                        *("episode_id", "pk", "citizen_id", "team_id"),
                        "respond_by",
                        "answered_at",
                    ),
                    now,
                ),
                dimensions,
            )
        ),
        DEVICES: _summed(
            _read(
                _municipality_devices(municipality_id, installed=False),
                "episode_ended_on",
                *("pk", "episode_id", "installed_at", "device__model__category_id"),
                episode_ended_on=Subquery(Episode.objects.filter(pk=OuterRef("episode_id")).values("ended_on")[:1]),
            )
        ),
    }


def _inputs_of(indicator: Indicator, year: int, summaries: dict[str, Summary], variants: list[Variant]) -> str:
    # Requests are summed up by the year of their UTC instant; the municipality's year starts in the
    # last hours of the UTC year before.
    parts = [
        f"{kind}:{summaries[kind].get(year - 1) if kind == REQUESTS else ''}:{summaries[kind].get(year)}"
        for kind in INPUTS[indicator.key]
    ]
    parts.append(" ".join(variant.key for variant in variants))
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


@dataclass
class _Dimensions:
    """What flags a source's rows for each single filter, read once per refresh and municipality: each
    episode's goal conditions and installed device types, and the citizens' birth dates."""

    municipality_id: UUID
    conditions: dict[UUID, set[UUID]] = field(default_factory=dict)
    devices: dict[UUID | None, set[str]] = field(default_factory=dict)
    born: dict[UUID, date] = field(default_factory=dict)
    read: bool = False

    def load(self) -> None:
        if self.read:
            return
        conditions: dict[UUID, set[UUID]] = defaultdict(set)
        for episode_id, code in _municipality_goals(self.municipality_id).values_list("episode_id", "condition_code"):
            conditions[episode_id].add(code)
        devices: dict[UUID | None, set[str]] = defaultdict(set)
        for served, kind in _municipality_devices(self.municipality_id).values_list(
            "episode_id", "device__model__category_id"
        ):
            devices[served].add(kind)
        self.conditions, self.devices, self.read = dict(conditions), dict(devices), True

    def variants(self) -> list[Variant]:
        self.load()
        return _variants(
            {code for codes in self.conditions.values() for code in codes},
            {kind for kinds in self.devices.values() for kind in kinds},
        )

    def birth_dates(self, rows: list[Row]) -> dict[UUID, date]:
        missing = {row["citizen_id"] for row in rows} - set(self.born)
        if missing:
            self.born.update(birth_dates(missing))
        return self.born

    def flag(self, rows: list[Row], variant: Variant) -> None:
        """Set the condition and device flags of the variant's filter on rows read without filters, as the
        sources set them when the filter is given: a goal's own condition, else any goal of the episode."""
        for row in rows:
            if variant.condition_code is not None:
                row["condition"] = (
                    row["condition_code"] == variant.condition_code
                    if "goal_id" in row
                    else variant.condition_code in self.conditions.get(row["episode_id"], ())
                )
            if variant.device_type is not None:
                row["device"] = variant.device_type in self.devices.get(row["episode_id"], ())


# --- Refreshing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefreshReport:
    computed: int  # indicators and years whose tables were computed (each without filters and per filter)
    unchanged: int
    tables: int = 0  # stored tables written


def tables_refresh(
    *,
    now: datetime | None = None,
    municipalities: Iterable[Municipality] | None = None,
    years: Iterable[int] | None = None,
) -> RefreshReport:
    """Recompute the tables of every indicator and year whose inputs or organisation changed since they were
    computed, and compute those not computed yet, for every municipality (or those given) from its first
    year to this one (or the years given). Safe to run twice: a second run finds nothing changed."""
    from effekt.selectors import organisation_of

    now = now or timezone.now()
    today = municipal_today()
    computed = unchanged = written = 0
    for municipality in municipalities if municipalities is not None else Municipality.objects.all():
        organisation = organisation_of(municipality)
        signature = organisation_signature(organisation)
        dimensions = _Dimensions(municipality.pk)
        summaries = input_summaries(municipality.pk, now, dimensions)
        variants = dimensions.variants()
        existing: dict[tuple[str, int], dict[str, IndicatorTable]] = defaultdict(dict)
        for table in IndicatorTable.objects.filter(municipality=municipality):
            existing[(table.indicator_key, table.year)][table.filters] = table
        keys = {variant.key for variant in variants}
        for year in _years(municipality.pk, today) if years is None else years:
            scope = Scope(municipality_id=municipality.pk, start=date(year, 1, 1), end=date(year, 12, 31), now=now)
            for indicator in INDICATORS:
                inputs = _inputs_of(indicator, year, summaries, variants)
                tables = existing.get((indicator.key, year), {})
                if set(tables) == keys and all(
                    (table.inputs, table.organisation) == (inputs, signature) for table in tables.values()
                ):
                    unchanged += 1
                    continue
                written += _indicator_store(
                    municipality, indicator, scope, organisation, dimensions, variants, now, signature, inputs
                )
                computed += 1
    return RefreshReport(computed=computed, unchanged=unchanged, tables=written)


def _indicator_store(
    municipality: Municipality,
    indicator: Indicator,
    scope: Scope,
    organisation: Organisation,
    dimensions: _Dimensions,
    variants: list[Variant],
    now: datetime,
    signature: str,
    inputs: str,
) -> int:
    """Compute the indicator's tables of the year, without filters and for each single filter, from its
    source read once (the device effect reads it again for each device type compared), and store them in
    place of the year's tables before."""
    rows = indicator.source(scope)
    born = dimensions.birth_dates(rows)
    computed: dict[str, dict[str, dict[Node, Cell]]] = {}
    for variant in variants:
        filtered = replace(scope, condition_code=variant.condition_code, device_type=variant.device_type)
        if indicator.device_type_compares and variant.device_type is not None:
            variant_rows = indicator.source(filtered)
            born = dimensions.birth_dates(variant_rows)
        else:
            dimensions.flag(rows, variant)
            variant_rows = rows
        computed[variant.key] = evaluate_periods(
            indicator, filtered, organisation, variant.filters, rows=variant_rows, born=born
        )
    _store(municipality, indicator, scope.start.year, now, signature, inputs, computed)
    return len(computed)


@transaction.atomic
def _store(
    municipality: Municipality,
    indicator: Indicator,
    year: int,
    now: datetime,
    signature: str,
    inputs: str,
    computed: dict[str, dict[str, dict[Node, Cell]]],
) -> None:
    IndicatorTable.objects.filter(municipality=municipality, indicator_key=indicator.key, year=year).delete()
    cells: list[tuple] = []
    for key, tables in computed.items():
        table = IndicatorTable.objects.create(
            municipality=municipality,
            indicator_key=indicator.key,
            year=year,
            filters=key,
            computed_at=now,
            organisation=signature,
            inputs=inputs,
        )
        cells.extend(
            _cell_values(table.pk, period, row)
            for period, period_cells in tables.items()
            for cell in period_cells.values()
            for row in (cell, *cell.groups)
        )
    _cells_insert(cells)


# The columns a stored cell is written with, in the order of ``_cell_values``.
STORED_COLUMNS = (
    "table",
    "period",
    "level",
    "node_id",
    "group",
    "group_name",
    "suppressed",
    "citizens",
    "count",
    "share",
    "values",
)


def _cell_values(table_id: int, period: str, cell: Cell) -> tuple:
    assert cell.node.id is not None
    return (
        table_id,
        period,
        cell.node.level,
        cell.node.id,
        cell.group or "",
        list(cell.group_name) if cell.group_name is not None else None,
        cell.suppressed,
        cell.citizens,
        cell.count,
        cell.share,
        cell.values,
    )


def _cells_insert(cells: list[tuple]) -> None:
    """Write the cells (``_cell_values``) in one statement run for all of them. A refresh stores some
    80,000 cells (a year, its quarters and months for every team, unit and group, for each indicator and
    filter); made into models and inserted by ``bulk_create`` they took half of a refresh, in building
    each model and each value's SQL. Here only the node's id and the two JSON values are prepared, by
    their fields, as the ORM prepares them; the rest are plain numbers and text."""
    if not cells:
        return
    node, group_name, values = (
        sql.model_field(IndicatorTableCell, name) for name in ("node_id", "group_name", "values")
    )
    statement = (
        f"INSERT INTO {sql.table(IndicatorTableCell)} "  # noqa: S608  (names from the model, values parameters)
        f"({', '.join(sql.column(IndicatorTableCell, name) for name in STORED_COLUMNS)}) "
        f"VALUES ({sql.placeholders(len(STORED_COLUMNS))})"
    )
    rows = [
        (
            table_id,
            period,
            level,
            node.get_db_prep_save(node_id, connection),
            group,
            group_name.get_db_prep_save(name, connection),
            suppressed,
            citizens,
            count,
            share,
            values.get_db_prep_save(figures, connection),
        )
        for table_id, period, level, node_id, group, name, suppressed, citizens, count, share, figures in cells
    ]
    with connection.cursor() as cursor:
        cursor.executemany(statement, rows)


# --- Reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredCells:
    cells: dict[str, dict[Node, Cell]]  # by period
    computed_at: datetime


CELL_COLUMNS = ("period", "node_id", "group", "group_name", "suppressed", "citizens", "count", "share", "values")


def stored_cells(
    indicator: Indicator,
    municipality_id: UUID,
    year: int,
    organisation: Organisation,
    periods: Iterable[str],
    nodes: Iterable[Node],
    filters: str = "",
) -> StoredCells | None:
    """The cells of ``nodes`` (with their groups) for each of ``periods`` from the stored table with the
    filter keyed ``filters`` (``filter_key``), when there is one computed for the organisation and periods
    as they are now; None otherwise. One query."""
    wanted = {node.id: node for node in nodes}
    periods = list(periods)
    rows = list(
        IndicatorTableCell.objects.filter(
            table__municipality_id=municipality_id,
            table__indicator_key=indicator.key,
            table__year=year,
            table__filters=filters,
            period__in=periods,
            node_id__in=list(wanted),
        ).values_list("table__computed_at", "table__organisation", *CELL_COLUMNS)
    )
    if not rows or rows[0][1] != organisation_signature(organisation):
        return None
    cells: dict[str, dict[Node, Cell]] = {period: {} for period in periods}
    groups: dict[tuple[str, Node], list[Cell]] = {}
    for _, _, period, node_id, group, group_name, suppressed, citizens, count, share, values in rows:
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
            groups.setdefault((period, node), []).append(cell)
        else:
            cells[period][node] = cell
    if any(set(period_cells) != set(wanted.values()) for period_cells in cells.values()):
        return None
    for period, period_cells in cells.items():
        for node, cell in period_cells.items():
            # In the evaluator's order: by the group's key as a string.
            cell.groups = sorted(groups.get((period, node), []), key=lambda group: group.group or "")
    return StoredCells(cells, rows[0][0])
