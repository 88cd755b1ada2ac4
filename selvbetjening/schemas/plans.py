"""Request and response shapes of training plans, their versions and exercises."""

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from ninja import Schema
from pydantic import Field

from backend.schemas import InSchema, LocalTime
from selvbetjening.rules.dosage import EXERCISES_HELP, MAX_EXERCISES
from selvbetjening.schemas.common import InDate, PageQuery
from selvbetjening.schemas.dosage import PrescriptionIn
from selvbetjening.schemas.exercises import ExerciseBriefOut, ImageUrlsOut

PlanStatus = Literal["active", "paused", "ended"]
MAX_PLAN_GOALS = 20
RULE_HELP = (
    "RFC 5545 RRULE read in the citizen's time zone, e.g. FREQ=WEEKLY;BYDAY=MO,WE,FR. At most daily "
    "(BYHOUR/BYMINUTE for several times a day, at most 6); no DTSTART, UNTIL or COUNT: start_date and "
    "end_date decide the period."
)


class PlanExerciseIn(PrescriptionIn):
    """One exercise of a plan with the citizen's dosage, instructions and progression rule."""

    position: int | None = Field(default=None, ge=0, le=1000, description="Order in the plan; list order if left out.")


class TrainingPlanCreateIn(InSchema):
    episode_id: UUID
    title: str = Field(min_length=1, max_length=200)
    goal_ids: list[UUID] = Field(default_factory=list, max_length=MAX_PLAN_GOALS)
    template_id: UUID | None = Field(
        default=None, description="Copies the template's exercises and usual schedule where this request has none."
    )
    recurrence_rule: str | None = Field(default=None, min_length=1, max_length=500, description=RULE_HELP)
    start_time: LocalTime | None = Field(default=None, description="Local time of day, e.g. 10:00.")
    start_date: InDate | None = Field(default=None, description="Default: today, or the episode's start.")
    end_date: InDate | None = Field(default=None, description="Default: the episode's planned end.")
    grace_minutes: int = Field(
        default=480, ge=0, le=1440, description="How long after its time a slot may be filled before it is missed."
    )
    exercises: list[PlanExerciseIn] | None = Field(
        default=None, min_length=1, max_length=MAX_EXERCISES, description=EXERCISES_HELP
    )


class TrainingPlanReviseIn(InSchema):
    """A new version of the plan; what is left out stays as in the current version."""

    version: int = Field(ge=1, description="The plan's version as last read; 409 when someone changed it since.")
    recurrence_rule: str | None = Field(default=None, min_length=1, max_length=500, description=RULE_HELP)
    start_time: LocalTime | None = None
    start_date: InDate | None = None
    end_date: InDate | None = None
    grace_minutes: int | None = Field(default=None, ge=0, le=1440)
    exercises: list[PlanExerciseIn] | None = Field(
        default=None, min_length=1, max_length=MAX_EXERCISES, description=f"Replaces every exercise. {EXERCISES_HELP}"
    )
    change_note: str = Field(default="", max_length=500)


class TrainingPlanUpdateIn(InSchema):
    version: int = Field(ge=1, description="The plan's version as last read; 409 when someone changed it since.")
    title: str | None = Field(default=None, min_length=1, max_length=200)
    goal_ids: list[UUID] | None = Field(default=None, max_length=MAX_PLAN_GOALS)
    status: PlanStatus | None = Field(
        default=None, description="paused or ended cancels the slots ahead; active again makes them anew."
    )


class TrainingPlanQuery(PageQuery):
    citizen_id: UUID | None = None
    episode_id: UUID | None = None
    status: PlanStatus | None = None


class MyTrainingPlanQuery(PageQuery):
    status: PlanStatus | None = None


# --- Out -----------------------------------------------------------------------------------------


class PlanGoalOut(Schema):
    id: UUID
    description: str
    rank: int


class DosageOut(Schema):
    sets: int | None
    repetitions: int | None
    hold_seconds: int | None
    duration_seconds: int | None
    load_kg: float | None


class PlanExerciseOut(DosageOut):
    id: UUID
    exercise_id: UUID
    exercise: ExerciseBriefOut
    position: int
    instructions: str
    progression_after_sessions: int | None
    progression_max_pain: int
    progression_effort_min: int
    progression_effort_max: int
    progression_sets_step: int
    progression_repetitions_step: int
    progression_hold_seconds_step: int
    progression_duration_seconds_step: int
    progression_load_kg_step: float
    stop_pain_level: int


class PlanVersionOut(Schema):
    id: UUID
    number: int
    recurrence_rule: str
    start_date: date
    start_time: LocalTime
    end_date: date
    time_zone: str
    grace_minutes: int
    change_note: str
    is_automatic: bool = Field(description="Made by the platform (automatic progression), not by staff.")
    created_by_name: str | None
    created_at: datetime
    exercises: list[PlanExerciseOut]


class TrainingPlanOut(Schema):
    id: UUID
    version: int
    episode_id: UUID
    citizen_id: UUID
    citizen_name: str
    title: str
    status: PlanStatus
    status_name: str
    template_id: UUID | None
    goals: list[PlanGoalOut]
    current_version: PlanVersionOut | None
    created_at: datetime
    updated_at: datetime


class TrainingPlanPageOut(Schema):
    items: list[TrainingPlanOut]
    next_cursor: str | None


class PlanVersionPageOut(Schema):
    items: list[PlanVersionOut]
    next_cursor: str | None


# --- The citizen's own view ----------------------------------------------------------------------


class MyPlanExerciseOut(DosageOut):
    id: UUID
    exercise_id: UUID
    exercise: ExerciseBriefOut
    exercise_instructions: str = Field(description="How the exercise is done, from the library.")
    video_url: str
    images: list[ImageUrlsOut]
    position: int
    instructions: str = Field(description="The therapist's instructions for this citizen.")
    stop_pain_level: int = Field(description="Stop and tell the contact person at this pain (NRS) or above.")


class MyPlanVersionOut(Schema):
    id: UUID
    number: int
    recurrence_rule: str
    start_date: date
    start_time: LocalTime
    end_date: date
    time_zone: str
    grace_minutes: int
    exercises: list[MyPlanExerciseOut]


class MyTrainingPlanOut(Schema):
    id: UUID
    version: int
    episode_id: UUID
    title: str
    status: PlanStatus
    status_name: str
    goals: list[PlanGoalOut]
    current_version: MyPlanVersionOut | None
    updated_at: datetime


class MyTrainingPlanPageOut(Schema):
    items: list[MyTrainingPlanOut]
    next_cursor: str | None
