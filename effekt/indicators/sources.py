"""The rows an indicator is computed from: one query each (two for adherence), shaped in the database.

Every row carries the citizen, team and unit it counts for, the day that places it in the period (``on``),
the episode's start (for the age band) and one flag per filter other than team and unit (``condition``,
``device``), so that the population with and without each filter comes from the same rows. Team and
unit are never filtered here: the cells of the whole municipality are computed and suppressed together,
and a filter picks cells afterwards. Rows are drawn for a whole calendar year; its quarters are cells.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone

from selvbetjening.models import (
    CitizenRequest,
    Episode,
    Goal,
    GoalRating,
    QuestionnaireResponse,
    SessionLog,
)
from selvbetjening.rules import requests as request_rules
from selvbetjening.rules import slots as slot_rules
from velfaerdsteknologi.models import Assignment

Row = dict[str, Any]


@dataclass(frozen=True)
class Scope:
    """What the rows are drawn for: a municipality, a period of days and the filter values that flag rows."""

    municipality_id: UUID
    start: date
    end: date
    condition_code: UUID | None = None
    device_type: str | None = None
    now: datetime | None = None  # the instant requests past their deadline are counted at (default: now)

    def instants(self) -> tuple[datetime, datetime]:
        """The period as instants: from the first day's start to the last day's end in the municipality's zone."""
        zone = ZoneInfo(settings.DEFAULT_CITIZEN_TIME_ZONE)
        return (
            datetime.combine(self.start, time.min, tzinfo=zone),
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=zone),
        )


def _devices(scope: Scope) -> QuerySet[Assignment]:
    """Installed assignments serving the outer episode, of the device type asked (any type without one)."""
    assignments = Assignment.objects.filter(episode_id=OuterRef("episode_id"), installed_at__isnull=False)
    if scope.device_type:
        assignments = assignments.filter(device__model__category_id=scope.device_type)
    return assignments


def _flags(scope: Scope, *, goal_level: bool = False) -> dict[str, Any]:
    """Annotations that tell, per row, whether it falls inside each filter (the outer row has ``episode_id``)."""
    flags: dict[str, Any] = {}
    if scope.condition_code is not None:
        if goal_level:
            flags["condition"] = ExpressionWrapper(Q(condition_code=scope.condition_code), output_field=BooleanField())
        else:
            flags["condition"] = Exists(
                Goal.objects.filter(episode_id=OuterRef("episode_id"), condition_code=scope.condition_code)
            )
    if scope.device_type:
        flags["device"] = Exists(_devices(scope))
    return flags


def _latest_rating(field: str) -> Subquery:
    ratings = GoalRating.objects.filter(goal_id=OuterRef("pk"), **{f"{field}__isnull": False})
    return Subquery(ratings.order_by("-rated_on", "-created_at").values(field)[:1])


def completed_episodes(scope: Scope) -> QuerySet[Episode]:
    """Episodes of the municipality that ended with a follow-up result inside the period."""
    return Episode.objects.filter(
        team__unit__municipality_id=scope.municipality_id,
        status=Episode.Status.COMPLETED,
        ended_on__gte=scope.start,
        ended_on__lte=scope.end,
    )


def _episode_values(
    queryset: QuerySet[Episode], scope: Scope, *fields: str, counted_on: str = "ended_on", **annotations: Any
) -> list[Row]:
    """Episode rows; ``on`` is the day that places the row in the period (``counted_on``)."""
    return list(
        queryset.annotate(episode_id=F("pk"))
        .annotate(**_flags(scope), **annotations)
        .values(
            "episode_id",
            "citizen_id",
            "team_id",
            "start_date",
            *fields,
            *_flags(scope),
            *annotations,
            unit_id=F("team__unit_id"),
            on=F(counted_on),
        )
    )


# --- Goals of completed episodes ----------------------------------------------------------------


def goals_at_follow_up(scope: Scope) -> list[Row]:
    """Each goal of an episode completed in the period with its last GAS score and FSIII level, and
    whether (and since when) a device of the type asked served the episode."""
    goals = Goal.objects.filter(
        episode__in=completed_episodes(scope),
        lifecycle_status__in=[Goal.LifecycleStatus.ACTIVE, Goal.LifecycleStatus.COMPLETED],
    )
    device_installed_on = Subquery(
        _devices(scope).order_by("installed_at").annotate(day=TruncDate("installed_at")).values("day")[:1]
    )
    before_device = GoalRating.objects.filter(
        goal_id=OuterRef("pk"), function_level__isnull=False, rated_on__lt=OuterRef("device_installed_on")
    )
    return list(
        goals.annotate(
            **_flags(scope, goal_level=True),
            follow_up_gas=_latest_rating("gas_score"),
            follow_up_level=_latest_rating("function_level"),
            has_device=Exists(_devices(scope)),
            device_installed_on=device_installed_on,
        )
        .annotate(
            level_before_device=Subquery(
                before_device.order_by("-rated_on", "-created_at").values("function_level")[:1]
            )
        )
        .values(
            "episode_id",
            "condition_code",
            "condition_display",
            "baseline_level",
            "baseline_gas",
            "gas_weight",
            "follow_up_gas",
            "follow_up_level",
            "has_device",
            "level_before_device",
            *_flags(scope, goal_level=True),
            goal_id=F("pk"),
            citizen_id=F("episode__citizen_id"),
            team_id=F("episode__team_id"),
            unit_id=F("episode__team__unit_id"),
            start_date=F("episode__start_date"),
            on=F("episode__ended_on"),
            group=F("condition_code"),
            group_name_da=F("condition_display"),
            group_name_en=F("condition_display"),
        )
    )


def device_comparison(scope: Scope) -> list[Row]:
    """Goals of episodes with the device type against comparable goals without: the same FSIII condition
    and starting level. Goals without a counterpart in the other group are left out."""
    rows = goals_at_follow_up(scope)
    with_device = {(row["condition_code"], row["baseline_level"]) for row in rows if row["has_device"]}
    without_device = {(row["condition_code"], row["baseline_level"]) for row in rows if not row["has_device"]}
    comparable = with_device & without_device
    compared = [row for row in rows if (row["condition_code"], row["baseline_level"]) in comparable]
    for row in compared:
        row["group"] = "with_device" if row["has_device"] else "without_device"
        row.pop("device", None)
    return compared


# --- Episodes ----------------------------------------------------------------------------------


def episodes_at_end(scope: Scope) -> list[Row]:
    """Episodes completed in the period with their follow-up result and their lengths in days."""
    rows = _episode_values(
        completed_episodes(scope),
        scope,
        "planned_end_date",
        "ended_on",
        group=F("follow_up_result_id"),
        group_name_da=F("follow_up_result__display_da"),
        group_name_en=F("follow_up_result__display_en"),
    )
    for row in rows:
        row["planned_days"] = (row["planned_end_date"] - row["start_date"]).days
        row["actual_days"] = (row["ended_on"] - row["start_date"]).days
    return rows


def episodes_started(scope: Scope) -> list[Row]:
    """Episodes that started in the period (cancelled ones left out), with the days from their
    registration to their start."""
    episodes = Episode.objects.filter(
        team__unit__municipality_id=scope.municipality_id, start_date__gte=scope.start, start_date__lte=scope.end
    ).exclude(status=Episode.Status.CANCELLED)
    rows = _episode_values(episodes, scope, "created_at", counted_on="start_date")
    zone = ZoneInfo(settings.DEFAULT_CITIZEN_TIME_ZONE)
    for row in rows:
        registered_on = row.pop("created_at").astimezone(zone).date()
        row["waiting_days"] = max(0, (row["start_date"] - registered_on).days)
    return rows


def _episode_goal_attainment(scope: Scope) -> dict[UUID, tuple[int, int]]:
    """Per episode: goals with a follow-up GAS score, and of those how many reached the expected level."""
    counts: dict[UUID, list[int]] = defaultdict(lambda: [0, 0])
    for row in goals_at_follow_up(scope):
        if row["follow_up_gas"] is not None:
            counts[row["episode_id"]][0] += 1
            counts[row["episode_id"]][1] += int(row["follow_up_gas"] >= 0)
    return {episode_id: (rated, reached) for episode_id, (rated, reached) in counts.items()}


ADHERENCE_THRESHOLD = Decimal("0.8")


def episode_adherence(scope: Scope) -> list[Row]:
    """Episodes completed in the period that had training slots due: slots done ÷ slots due, and the
    episode's goal attainment beside it."""
    now, slots = scope.now or timezone.now(), "training_plans__slots__"
    rows = _episode_values(
        completed_episodes(scope),
        scope,
        slots_due=Count("training_plans__slots", filter=slot_rules.SETTLED.q(now, through=slots)),
        slots_done=Count("training_plans__slots", filter=slot_rules.FILLED.q(now, through=slots)),
    )
    attainment = _episode_goal_attainment(scope)
    kept = []
    for row in rows:
        if not row["slots_due"]:
            continue
        row["adherence"] = Decimal(row["slots_done"]) / Decimal(row["slots_due"])
        row["group"] = "adherence_high" if row["adherence"] >= ADHERENCE_THRESHOLD else "adherence_low"
        row["goals_rated"], row["goals_reached"] = attainment.get(row["episode_id"], (0, 0))
        kept.append(row)
    return kept


def _session_value(field: str, *, last: bool) -> Subquery:
    logs = SessionLog.objects.filter(plan__episode_id=OuterRef("episode_id"), **{f"{field}__isnull": False})
    order = ("-performed_at", "-id") if last else ("performed_at", "id")
    return Subquery(logs.order_by(*order).values(field)[:1])


def _session_count(field: str) -> Subquery:
    logs = SessionLog.objects.filter(plan__episode_id=OuterRef("episode_id"), **{f"{field}__isnull": False})
    return Subquery(logs.order_by().values("plan__episode_id").annotate(count=Count("pk")).values("count")[:1])


def episode_pain_and_effort(scope: Scope) -> list[Row]:
    """Episodes completed in the period: pain before training (NRS) and effort (Borg CR10) in the first
    and the last logged session that recorded them; an episode with fewer than two such sessions has no
    change to show for that measure."""
    rows = _episode_values(
        completed_episodes(scope),
        scope,
        pain_first=_session_value("pain_before", last=False),
        pain_last=_session_value("pain_before", last=True),
        pain_sessions=_session_count("pain_before"),
        effort_first=_session_value("effort", last=False),
        effort_last=_session_value("effort", last=True),
        effort_sessions=_session_count("effort"),
    )
    kept = []
    for row in rows:
        pain = (row["pain_sessions"] or 0) >= 2
        effort = (row["effort_sessions"] or 0) >= 2
        row["pain_change"] = row["pain_last"] - row["pain_first"] if pain else None
        row["effort_change"] = row["effort_last"] - row["effort_first"] if effort else None
        if pain or effort:
            kept.append(row)
    return kept


# --- Questionnaires ----------------------------------------------------------------------------


def questionnaire_changes(scope: Scope) -> list[Row]:
    """Per episode completed in the period and questionnaire: the last scored answer's score minus the
    first's. Pairs with fewer than two scored answers are left out."""
    responses = (
        QuestionnaireResponse.objects.filter(assignment__episode__in=completed_episodes(scope), score__isnull=False)
        .annotate(episode_id=F("assignment__episode_id"), **_flags(scope))
        .order_by("submitted_at", "id")
        .values(
            "episode_id",
            "score",
            *_flags(scope),
            citizen_id=F("assignment__episode__citizen_id"),
            team_id=F("assignment__episode__team_id"),
            unit_id=F("assignment__episode__team__unit_id"),
            start_date=F("assignment__episode__start_date"),
            on=F("assignment__episode__ended_on"),
            questionnaire=F("version__questionnaire__key"),
            group_name_da=F("version__questionnaire__title_da"),
            group_name_en=F("version__questionnaire__title_en"),
        )
    )
    pairs: dict[tuple[UUID, str], list[Row]] = defaultdict(list)
    for response in responses:
        pairs[(response["episode_id"], response["questionnaire"])].append(response)
    rows = []
    for answers in pairs.values():
        if len(answers) < 2:
            continue
        row = dict(answers[0])
        row["group"] = row.pop("questionnaire")
        row["score_change"] = answers[-1]["score"] - answers[0]["score"]
        rows.append(row)
    return rows


# --- Requests ----------------------------------------------------------------------------------


def requests_answered(scope: Scope) -> list[Row]:
    """Requests made in the period and either answered or past the team's promised time: how long the
    answer took and whether it came in time."""
    start, end = scope.instants()
    requests = CitizenRequest.objects.filter(
        team__unit__municipality_id=scope.municipality_id, created_at__gte=start, created_at__lt=end
    )
    flags: dict[str, Any] = {}
    if scope.condition_code is not None:
        flags["condition"] = Exists(
            Goal.objects.filter(episode_id=OuterRef("episode_id"), condition_code=scope.condition_code)
        )
    if scope.device_type:
        flags["device"] = Exists(_devices(scope))
    now = scope.now or timezone.now()
    rows = list(
        requests.filter(request_rules.judged_q(now))
        .annotate(**flags)
        .values(
            "episode_id",
            "citizen_id",
            "team_id",
            "created_at",
            "respond_by",
            "answered_at",
            *flags,
            unit_id=F("team__unit_id"),
            start_date=F("episode__start_date"),
        )
    )
    zone = ZoneInfo(settings.DEFAULT_CITIZEN_TIME_ZONE)
    for row in rows:
        created_at, answered_at = row.pop("created_at"), row["answered_at"]
        row["on_time"] = request_rules.answered_in_time(respond_by=row["respond_by"], answered_at=answered_at)
        row["hours_to_answer"] = (
            None if answered_at is None else Decimal((answered_at - created_at).total_seconds()) / 3600
        )
        row["on"] = created_at.astimezone(zone).date()
        if row["start_date"] is None:
            # A request outside an episode: the citizen's age is taken on the day of the request.
            row["start_date"] = row["on"]
    return rows


Source = Callable[[Scope], list[Row]]
