"""What changed for the citizen's offline-first phone since its last sync.

The phone keeps the citizen's plans (with the current version and its exercises), the library exercises
those plans use, the goals of the citizen's episodes, the slots (cancelled ones too, so it can drop them)
and the citizen's session logs. Each item carries its id and ``version``/``updated_at``, so the phone
upserts it; receiving an item twice is harmless, and the sync relies on that:

- Transactions commit out of order: a row stamped at 12:00:00.5 may become visible only at 12:00:01.
  Every sync therefore re-reads from ``OVERLAP`` before its cursor.
- Slots and session logs grow without bound; at most ``limit`` of each are sent per answer, in
  (``updated_at``, ``id``) order, and ``has_more`` asks the phone to continue at once with the cursor
  given. Continuing walks on from the last row sent (strictly after it, so a burst of rows stamped within
  the overlap cannot hold it in place); when the walk is through, the cursor returned is the instant the
  walk began, so whatever changed meanwhile comes with the next sync. Plans, exercises and goals — a
  handful per citizen — come whole with the first answer of a walk.
- Without a cursor the phone gets everything current: every plan, the exercises of their current
  versions, every goal, the slots from ``INITIAL_SLOTS_DAYS`` days back (cancelled ones left out) and the
  session logs of the last ``INITIAL_LOGS_DAYS`` days.

The cursor is opaque to the phone: base64 of a small JSON of those instants and positions.
"""

import base64
import binascii
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.db.models import Q, QuerySet
from django.utils import timezone

from backend import i18n
from backend.actors import Actor
from backend.audit import read_logged
from backend.errors import InvalidInput
from backend.models import Citizen
from selvbetjening.models import (
    Exercise,
    ExerciseImage,
    Goal,
    GoalRating,
    PlanExercise,
    SessionLog,
    TrainingPlan,
    TrainingPlanVersion,
    TrainingSlot,
)
from selvbetjening.rules.dosage import DOSAGE_FIELDS, dosage_out
from selvbetjening.selectors.episodes import goals_with_latest
from selvbetjening.selectors.sessions import with_session_log_shape
from selvbetjening.selectors.today import exercise_images

OVERLAP = timedelta(seconds=2)
INITIAL_SLOTS_DAYS = 7
INITIAL_LOGS_DAYS = 60
MAX_LIMIT = 100

Position = tuple[datetime, str]


@dataclass(frozen=True)
class SyncCursor:
    """Where a sync starts: ``since`` the instant of the last complete sync (None: everything), and for a
    walk in progress the instant it began and, per growing kind, the last row sent (True when done)."""

    since: datetime | None
    walk_started_at: datetime | None = None
    slots_after: Position | bool | None = None
    logs_after: Position | bool | None = None

    @property
    def is_continuation(self) -> bool:
        return self.walk_started_at is not None


def _instant(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("not an instant")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("not an aware instant")
    return parsed


def _position(value: object) -> Position | bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, list) and len(value) == 2:
        return _instant(value[0]), str(UUID(str(value[1])))
    raise ValueError("not a position")


def _position_json(value: Position | bool | None) -> object:
    if isinstance(value, tuple):
        return [value[0].isoformat(), value[1]]
    return value


def encode_cursor(cursor: SyncCursor) -> str:
    data: dict[str, object] = {"since": cursor.since.isoformat() if cursor.since else None}
    if cursor.walk_started_at is not None:
        data["walk"] = cursor.walk_started_at.isoformat()
        data["slots"] = _position_json(cursor.slots_after)
        data["logs"] = _position_json(cursor.logs_after)
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(text: str | None) -> SyncCursor:
    if not text:
        return SyncCursor(since=None)
    try:
        data = json.loads(base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode()).decode())
        if not isinstance(data, dict):
            raise ValueError("not an object")
        since = None if data.get("since") is None else _instant(data["since"])
        if "walk" not in data:
            return SyncCursor(since=since)
        return SyncCursor(
            since=since,
            walk_started_at=_instant(data["walk"]),
            slots_after=_position(data.get("slots")),
            logs_after=_position(data.get("logs")),
        )
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, OverflowError) as exc:
        raise InvalidInput("cursor", "The cursor is not valid.") from exc


# --- The small kinds: plans, exercises, goals ----------------------------------------------------


def _plans(citizen: Citizen, lower: datetime | None) -> list[dict[str, Any]]:
    plans = TrainingPlan.objects.filter(citizen=citizen)
    if lower is not None:
        revised = TrainingPlanVersion.objects.filter(plan__citizen=citizen, created_at__gt=lower).values("plan_id")
        plans = plans.filter(Q(updated_at__gt=lower) | Q(pk__in=revised))
    rows = list(plans.select_related("current_version").order_by("created_at", "id"))
    if not rows:
        return []
    version_ids = {plan.current_version_id for plan in rows if plan.current_version_id is not None}
    exercises: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
    for item in (
        PlanExercise.objects.filter(version_id__in=version_ids)
        .order_by("version_id", "position", "id")
        .values("id", "version_id", "exercise_id", "position", "instructions", *DOSAGE_FIELDS)
    ):
        exercises[item["version_id"]].append(
            {name: item[name] for name in ("id", "exercise_id", "position", "instructions")} | dosage_out(item)
        )
    goal_ids: dict[UUID, list[UUID]] = defaultdict(list)
    links = TrainingPlan.goals.through.objects.filter(trainingplan_id__in=[plan.pk for plan in rows])
    for plan_id, goal_id in links.order_by("goal_id").values_list("trainingplan_id", "goal_id"):
        goal_ids[plan_id].append(goal_id)
    result = []
    for plan in rows:
        version = plan.current_version
        result.append(
            {
                "id": plan.pk,
                "version": plan.version,
                "episode_id": plan.episode_id,
                "title": plan.title,
                "status": plan.status,
                "goal_ids": goal_ids.get(plan.pk, []),
                "updated_at": plan.updated_at,
                "current_version": None
                if version is None
                else {
                    "id": version.pk,
                    "number": version.number,
                    "recurrence_rule": version.recurrence_rule,
                    "start_date": version.start_date,
                    "start_time": version.start_time,
                    "end_date": version.end_date,
                    "time_zone": version.time_zone,
                    "grace_minutes": version.grace_minutes,
                    "created_at": version.created_at,
                    "exercises": exercises.get(version.pk, []),
                },
            }
        )
    return result


def _exercises(citizen: Citizen, lower: datetime | None) -> list[dict[str, Any]]:
    """Exercises of the current versions of the citizen's plans that changed, got a picture, or came into
    a plan version since ``lower``."""
    current_versions = TrainingPlan.objects.filter(citizen=citizen).values("current_version_id")
    exercises = Exercise.objects.filter(
        pk__in=PlanExercise.objects.filter(version_id__in=current_versions).values("exercise_id")
    )
    if lower is not None:
        newly_planned = PlanExercise.objects.filter(
            version__plan__citizen=citizen, version__created_at__gt=lower
        ).values("exercise_id")
        new_pictures = ExerciseImage.objects.filter(created_at__gt=lower).values("exercise_id")
        exercises = exercises.filter(Q(updated_at__gt=lower) | Q(pk__in=newly_planned) | Q(pk__in=new_pictures))
    language = i18n.language()
    rows = list(
        exercises.order_by("id").values(
            "id",
            "version",
            f"title_{language}",
            f"instructions_{language}",
            "body_area",
            "equipment",
            "difficulty",
            "video_url",
            "is_active",
            "updated_at",
        )
    )
    if not rows:
        return []
    images = exercise_images({row["id"] for row in rows}, language)
    for row in rows:
        row["title"] = row.pop(f"title_{language}")
        row["instructions"] = row.pop(f"instructions_{language}")
        row["images"] = images.get(row["id"], [])
    return rows


def _goals(citizen: Citizen, lower: datetime | None) -> list[Goal]:
    goals = Goal.objects.filter(episode__citizen=citizen)
    if lower is not None:
        rated = GoalRating.objects.filter(goal__episode__citizen=citizen, created_at__gt=lower).values("goal_id")
        goals = goals.filter(Q(updated_at__gt=lower) | Q(pk__in=rated))
    return list(goals_with_latest(goals).order_by("episode_id", "rank", "id"))


# --- The growing kinds: slots and session logs ---------------------------------------------------


def _after(queryset: QuerySet[Any], position: Position | bool | None) -> QuerySet[Any]:
    if isinstance(position, tuple):
        stamp, row_id = position
        return queryset.filter(Q(updated_at__gt=stamp) | Q(updated_at=stamp, id__gt=row_id))
    return queryset


def _page(rows: list[Any], limit: int) -> tuple[list[Any], bool]:
    return rows[:limit], len(rows) > limit


def _slots(
    citizen: Citizen, cursor: SyncCursor, lower: datetime | None, walk_started_at: datetime, limit: int
) -> tuple[list[dict[str, Any]], Position | bool]:
    slots = TrainingSlot.objects.filter(citizen=citizen)
    if lower is None:
        slots = slots.filter(scheduled_at__gte=walk_started_at - timedelta(days=INITIAL_SLOTS_DAYS)).exclude(
            status=TrainingSlot.Status.CANCELLED
        )
    else:
        slots = slots.filter(updated_at__gt=lower)
    rows = list(
        _after(slots, cursor.slots_after)
        .order_by("updated_at", "id")
        .values(
            "id",
            "plan_id",
            "version_id",
            "scheduled_at",
            "local_date",
            "due_until",
            "status",
            "session_log__id",
            "updated_at",
        )[: limit + 1]
    )
    rows, has_more = _page(rows, limit)
    items = [
        {
            "id": row["id"],
            "training_plan_id": row["plan_id"],
            "plan_version_id": row["version_id"],
            "scheduled_at": row["scheduled_at"],
            "local_date": row["local_date"],
            "due_until": row["due_until"],
            "status": row["status"],
            "session_log_id": row["session_log__id"],
            "updated_at": row["updated_at"],
        }
        for row in rows
    ]
    return items, (rows[-1]["updated_at"], str(rows[-1]["id"])) if has_more else True


def _session_logs(
    citizen: Citizen, cursor: SyncCursor, lower: datetime | None, walk_started_at: datetime, limit: int
) -> tuple[list[SessionLog], Position | bool]:
    logs = SessionLog.objects.filter(citizen=citizen)
    if lower is None:
        logs = logs.filter(performed_at__gte=walk_started_at - timedelta(days=INITIAL_LOGS_DAYS))
    else:
        logs = logs.filter(updated_at__gt=lower)
    rows = list(with_session_log_shape(_after(logs, cursor.logs_after)).order_by("updated_at", "id")[: limit + 1])
    rows, has_more = _page(rows, limit)
    return rows, (rows[-1].updated_at, str(rows[-1].pk)) if has_more else True


# --- The sync ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncPage:
    cursor: str
    has_more: bool
    server_time: datetime
    plans: list[dict[str, Any]]
    exercises: list[dict[str, Any]]
    goals: list[Goal]
    slots: list[dict[str, Any]]
    session_logs: list[SessionLog]  # shaped by ``with_session_log_shape``

    @property
    def is_empty(self) -> bool:
        return not (self.plans or self.exercises or self.goals or self.slots or self.session_logs)


def sync_for_citizen(
    citizen: Citizen, cursor_text: str | None, *, limit: int = MAX_LIMIT, now: datetime | None = None
) -> SyncPage:
    """The changes since the cursor (see the module's description), in a fixed number of queries."""
    now = now or timezone.now()
    limit = min(max(limit, 1), MAX_LIMIT)
    cursor = decode_cursor(cursor_text)
    walk_started_at = cursor.walk_started_at or now
    lower = None if cursor.since is None else cursor.since - OVERLAP
    first_answer = not cursor.is_continuation
    plans = _plans(citizen, lower) if first_answer else []
    exercises = _exercises(citizen, lower) if first_answer else []
    goals = _goals(citizen, lower) if first_answer else []
    slots: list[dict[str, Any]] = []
    session_logs: list[SessionLog] = []
    slots_after: Position | bool = True
    logs_after: Position | bool = True
    if cursor.slots_after is not True:
        slots, slots_after = _slots(citizen, cursor, lower, walk_started_at, limit)
    if cursor.logs_after is not True:
        session_logs, logs_after = _session_logs(citizen, cursor, lower, walk_started_at, limit)
    has_more = slots_after is not True or logs_after is not True
    if has_more:
        next_cursor = SyncCursor(
            since=cursor.since, walk_started_at=walk_started_at, slots_after=slots_after, logs_after=logs_after
        )
    else:
        next_cursor = SyncCursor(since=walk_started_at)
    return SyncPage(
        cursor=encode_cursor(next_cursor),
        has_more=has_more,
        server_time=now,
        plans=plans,
        exercises=exercises,
        goals=goals,
        slots=slots,
        session_logs=session_logs,
    )


def own_sync(actor: Actor, cursor_text: str | None, *, limit: int = MAX_LIMIT) -> SyncPage:
    """The citizen's own changes since the cursor, the read logged when there are any."""
    citizen = actor.citizen
    assert citizen is not None
    page = sync_for_citizen(citizen, cursor_text, limit=limit)
    read_logged(actor, [] if page.is_empty else [citizen], "training_sync")
    return page
