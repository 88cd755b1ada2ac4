"""Request and response shapes of session logging, today's training and sync for the citizen's phone."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from ninja import Schema
from pydantic import BaseModel, Field

from backend.schemas import InSchema, LocalTime
from selvbetjening.schemas.common import InDate, InDatetime
from selvbetjening.schemas.goals import GoalOut

PERFORMED_AT_MAX_AHEAD_MINUTES = 10
PERFORMED_AT_MAX_AGE_DAYS = 60
BATCH_MAX_ITEMS = 100
SESSION_MAX_EXERCISES = 50

SlotStatus = Literal["pending", "done", "missed", "cancelled"]
LoggedByRole = Literal["citizen", "relative"]

# --- Session logs --------------------------------------------------------------------------------


class SessionExerciseIn(InSchema):
    """What was done of one exercise of the plan; every dosage field is optional."""

    exercise_id: UUID = Field(description="An exercise of the plan version the session is logged against.")
    sets: int | None = Field(default=None, ge=0, le=100)
    repetitions: int | None = Field(default=None, ge=0, le=1000)
    hold_seconds: int | None = Field(default=None, ge=0, le=3600)
    duration_seconds: int | None = Field(default=None, ge=0, le=86_400)
    load_kg: Decimal | None = Field(
        default=None, ge=0, le=999, max_digits=4, decimal_places=1, json_schema_extra={"multipleOf": 0.1}
    )
    is_completed: bool = True


class SessionLogIn(InSchema):
    """One training session from the phone. Send it any number of times: the first creates it, a retry with
    the same ``id`` and the same content returns it again; the same ``id`` with other content is refused."""

    id: UUID = Field(description="Made by the phone when the session is logged; the key of every retry.")
    training_plan_id: UUID
    slot_id: UUID | None = Field(
        default=None, description="The scheduled slot the session fills; leave out for a session done ad hoc."
    )
    performed_at: InDatetime = Field(
        description=(
            "When the session was done, by the phone's clock, with its UTC offset. At most "
            f"{PERFORMED_AT_MAX_AHEAD_MINUTES} minutes ahead of the server's clock and at most "
            f"{PERFORMED_AT_MAX_AGE_DAYS} days old. A slot is filled only by a session done on the slot's day "
            "or later."
        )
    )
    pain_before: int | None = Field(default=None, ge=0, le=10, description="NRS 0–10 before the session.")
    pain_after: int | None = Field(default=None, ge=0, le=10, description="NRS 0–10 after the session.")
    effort: int | None = Field(default=None, ge=0, le=10, description="Borg CR10 0–10.")
    note: str = Field(default="", max_length=2000)
    exercises: list[SessionExerciseIn] = Field(min_length=1, max_length=SESSION_MAX_EXERCISES)


class SessionLogUpdateIn(InSchema):
    """Corrections after sync; ``version`` is the one last read (409 when someone changed it since)."""

    version: int = Field(ge=1)
    pain_before: int | None = Field(default=None, ge=0, le=10)
    pain_after: int | None = Field(default=None, ge=0, le=10)
    effort: int | None = Field(default=None, ge=0, le=10)
    note: str = Field(default="", max_length=2000)
    exercises: list[SessionExerciseIn] | None = Field(
        default=None, min_length=1, max_length=SESSION_MAX_EXERCISES, description="Replaces every exercise."
    )

    def changes(self) -> dict[str, Any]:
        changes = self.model_dump(exclude={"version"}, exclude_unset=True)
        if "exercises" in changes and self.exercises is not None:
            changes["exercises"] = [item.model_dump() for item in self.exercises]
        return changes


class SessionBatchIn(InSchema):
    items: list[Any] = Field(
        max_length=BATCH_MAX_ITEMS,
        description=(
            f"Up to {BATCH_MAX_ITEMS} sessions, each of the shape of a single upload (SessionLogIn). Each is "
            "validated and stored on its own, so one refused item does not hold back the others."
        ),
    )


class SessionExerciseOut(Schema):
    exercise_id: UUID
    plan_exercise_id: UUID
    sets: int | None
    repetitions: int | None
    hold_seconds: int | None
    duration_seconds: int | None
    load_kg: float | None
    is_completed: bool


class SessionLogOut(Schema):
    id: UUID
    version: int = Field(description="Send it back on an edit.")
    training_plan_id: UUID
    plan_version_id: UUID
    plan_version_number: int
    slot_id: UUID | None
    is_ad_hoc: bool
    is_late: bool = Field(description="Filled its slot after the slot's grace period had passed.")
    performed_at: datetime
    pain_before: int | None
    pain_after: int | None
    effort: int | None
    note: str
    logged_by_role: LoggedByRole
    logged_by_name: str
    created_at: datetime
    updated_at: datetime
    exercises: list[SessionExerciseOut]


class SessionLogPageOut(Schema):
    items: list[SessionLogOut]
    next_cursor: str | None


class SessionLogQuery(Schema):
    cursor: str | None = None
    limit: int = 50
    training_plan_id: UUID | None = None


class BatchProblemOut(Schema):
    type: str
    title: str
    status: int
    code: str
    detail: str
    errors: list[dict[str, str]] | None = None


class BatchResultOut(Schema):
    id: UUID | None = Field(description="The item's id; empty when the item carried no valid id.")
    status: Literal["created", "unchanged", "error"]
    http_status: int = Field(description="What the single upload would have answered: 201, 200 or the error.")
    session_log: SessionLogOut | None = None
    problem: BatchProblemOut | None = None


class SessionBatchOut(Schema):
    results: list[BatchResultOut] = Field(description="One per item, in the order sent.")


# --- Today ---------------------------------------------------------------------------------------


class TodayQuery(Schema):
    date: InDate | None = Field(default=None, description="A day in the citizen's time zone; today by default.")


class DictOut(BaseModel):
    """An answer validated from plain dicts, as the today selector makes them.

    Django Ninja's ``Schema`` reads every field of every nested object through its attribute getter (so
    that it can take model instances): for the 15 kB of today's training that was 280 calls per answer
    and a third of the request's CPU. A plain pydantic model validates the same dicts in pydantic's core.
    """


class ImageUrlsOut(DictOut):
    thumbnail: str
    medium: str
    large: str


class ExerciseImageOut(DictOut):
    id: UUID
    alt_text: str
    width: int
    height: int
    urls: ImageUrlsOut


class TodayExerciseOut(DictOut):
    plan_exercise_id: UUID
    exercise_id: UUID
    position: int
    title: str
    instructions: str
    individual_instructions: str
    video_url: str
    sets: int | None
    repetitions: int | None
    hold_seconds: int | None
    duration_seconds: int | None
    load_kg: float | None
    images: list[ExerciseImageOut]


class TodaySlotOut(DictOut):
    id: UUID
    training_plan_id: UUID
    plan_title: str
    plan_version_id: UUID
    plan_version_number: int
    scheduled_at: datetime = Field(description="In UTC.")
    scheduled_local: datetime = Field(description="The same instant in the plan's time zone, with its offset.")
    due_until: datetime
    status: SlotStatus
    status_name: str
    session_log_id: UUID | None
    exercises: list[TodayExerciseOut]


class TodayOut(DictOut):
    date: date
    time_zone: str
    slots: list[TodaySlotOut]
    next_reminder_at: datetime | None = Field(
        description="When the next pending slot of an active plan is due to start, after now; empty if none."
    )


# --- Sync ----------------------------------------------------------------------------------------


class SyncQuery(Schema):
    cursor: str | None = Field(default=None, description="From the previous sync; leave out for everything.")
    limit: int = Field(default=100, description="At most this many slots and this many session logs (≤ 100).")


class SyncPlanExerciseOut(Schema):
    id: UUID
    exercise_id: UUID
    position: int
    instructions: str
    sets: int | None
    repetitions: int | None
    hold_seconds: int | None
    duration_seconds: int | None
    load_kg: float | None


class SyncPlanVersionOut(Schema):
    id: UUID
    number: int
    recurrence_rule: str
    start_date: date
    start_time: LocalTime
    end_date: date
    time_zone: str
    grace_minutes: int
    created_at: datetime
    exercises: list[SyncPlanExerciseOut]


class SyncPlanOut(Schema):
    id: UUID
    version: int
    episode_id: UUID
    title: str
    status: Literal["active", "paused", "ended"]
    goal_ids: list[UUID]
    updated_at: datetime
    current_version: SyncPlanVersionOut | None


class SyncExerciseOut(Schema):
    id: UUID
    version: int
    title: str
    instructions: str
    body_area: str
    equipment: str
    difficulty: int
    video_url: str
    is_active: bool
    updated_at: datetime
    images: list[ExerciseImageOut]


class SyncSlotOut(Schema):
    id: UUID
    training_plan_id: UUID
    plan_version_id: UUID
    scheduled_at: datetime
    local_date: date
    due_until: datetime
    status: SlotStatus
    session_log_id: UUID | None
    updated_at: datetime


class SyncOut(Schema):
    cursor: str = Field(description="Send it with the next sync.")
    has_more: bool = Field(description="More changed than one answer holds: sync again with the cursor at once.")
    server_time: datetime
    plans: list[SyncPlanOut]
    exercises: list[SyncExerciseOut]
    goals: list[GoalOut]
    slots: list[SyncSlotOut]
    session_logs: list[SessionLogOut]
