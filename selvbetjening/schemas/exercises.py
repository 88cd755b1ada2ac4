"""Request and response shapes of the exercise library and the programme templates."""

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from ninja import Schema
from pydantic import Field

from backend.schemas import InSchema, LocalTime
from selvbetjening.models import Exercise
from selvbetjening.rules.dosage import EXERCISES_HELP, MAX_EXERCISES
from selvbetjening.schemas.dosage import PrescriptionIn

# --- Exercises -----------------------------------------------------------------------------------


class ExerciseQuery(Schema):
    q: str | None = Field(
        default=None, max_length=100, description="Words to find in the Danish or English title or instructions."
    )
    body_area: list[Exercise.BodyArea] = Field(default_factory=list, max_length=10)
    equipment: list[Exercise.Equipment] = Field(default_factory=list, max_length=12)
    difficulty: list[Exercise.Difficulty] = Field(default_factory=list, max_length=3)
    scope: Literal["all", "shared", "own"] = Field(
        default="all", description="shared: the library every municipality sees; own: my municipality's."
    )
    include_retired: bool = False
    cursor: str | None = None
    limit: int = 50


class ExerciseIn(InSchema):
    title_da: str = Field(min_length=1, max_length=120)
    title_en: str = Field(default="", max_length=120, description="Empty: the Danish title is shown.")
    instructions_da: str = Field(min_length=1, max_length=5000)
    instructions_en: str = Field(default="", max_length=5000, description="Empty: the Danish text is shown.")
    body_area: Exercise.BodyArea
    equipment: Exercise.Equipment = Exercise.Equipment.NONE
    difficulty: Exercise.Difficulty = Exercise.Difficulty.EASY
    video_url: str = Field(default="", max_length=500, description="An https:// link to a video, or empty.")


class ExerciseUpdateIn(InSchema):
    version: int
    title_da: str | None = Field(default=None, min_length=1, max_length=120)
    title_en: str | None = Field(default=None, max_length=120)
    instructions_da: str | None = Field(default=None, min_length=1, max_length=5000)
    instructions_en: str | None = Field(default=None, max_length=5000)
    body_area: Exercise.BodyArea | None = None
    equipment: Exercise.Equipment | None = None
    difficulty: Exercise.Difficulty | None = None
    video_url: str | None = Field(default=None, max_length=500)
    is_active: bool | None = Field(default=None, description="false retires the exercise; true brings it back.")

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude={"version"}, exclude_unset=True, exclude_none=True)


class ImageUrlsOut(Schema):
    thumbnail: str
    medium: str
    large: str


class ExerciseImageOut(Schema):
    id: UUID
    position: int
    alt_text: str
    alt_text_da: str
    alt_text_en: str
    width: int
    height: int
    urls: ImageUrlsOut


class ExerciseOut(Schema):
    id: UUID
    version: int
    slug: str
    is_shared: bool = Field(description="Part of the library every municipality sees; read-only.")
    municipality_id: UUID | None
    title: str = Field(description="In the language of Accept-Language.")
    title_da: str
    title_en: str
    instructions: str = Field(description="In the language of Accept-Language.")
    instructions_da: str
    instructions_en: str
    body_area: str
    body_area_name: str
    equipment: str
    equipment_name: str
    difficulty: int
    difficulty_name: str
    video_url: str
    is_active: bool
    images: list[ExerciseImageOut]
    updated_at: datetime


class ExercisePageOut(Schema):
    items: list[ExerciseOut]
    next_cursor: str | None


class ExerciseBriefOut(Schema):
    id: UUID
    title: str
    body_area: str
    equipment: str
    difficulty: int
    is_active: bool
    thumbnail_url: str | None


# --- Programme templates -------------------------------------------------------------------------


class TemplateQuery(Schema):
    q: str | None = Field(default=None, max_length=100, description="Words to find in the title.")
    include_retired: bool = False
    cursor: str | None = None
    limit: int = 50


class TemplateItemIn(PrescriptionIn):
    """One exercise of a template, in the order of the list."""


class TemplateIn(InSchema):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    recurrence_rule: str = Field(
        default="", max_length=500, description="Usual RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=MO,WE,FR; or empty."
    )
    start_time: LocalTime | None = Field(default=None, description="Usual local time of day, e.g. 10:00.")
    items: list[TemplateItemIn] = Field(min_length=1, max_length=MAX_EXERCISES, description=EXERCISES_HELP)


class TemplateUpdateIn(InSchema):
    version: int
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    recurrence_rule: str | None = Field(default=None, max_length=500)
    start_time: LocalTime | None = None
    is_active: bool | None = Field(default=None, description="false retires the template; true brings it back.")
    items: list[TemplateItemIn] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_EXERCISES,
        description=f"Replaces every item, in order. {EXERCISES_HELP}",
    )

    def changes(self) -> dict[str, Any]:
        """What was sent; ``start_time`` may be sent as null to clear it."""
        changes = self.model_dump(exclude={"version", "items"}, exclude_unset=True)
        return {name: value for name, value in changes.items() if value is not None or name == "start_time"}

    def item_fields(self) -> list[dict[str, Any]] | None:
        return None if self.items is None else [item.model_dump() for item in self.items]


class TemplateItemOut(Schema):
    id: UUID
    position: int
    exercise: ExerciseBriefOut
    sets: int | None
    repetitions: int | None
    hold_seconds: int | None
    duration_seconds: int | None
    load_kg: Decimal | None
    instructions: str
    progression_after_sessions: int | None
    progression_max_pain: int
    progression_effort_min: int
    progression_effort_max: int
    progression_sets_step: int
    progression_repetitions_step: int
    progression_hold_seconds_step: int
    progression_duration_seconds_step: int
    progression_load_kg_step: Decimal
    stop_pain_level: int


class TemplateOut(Schema):
    id: UUID
    version: int
    title: str
    description: str
    recurrence_rule: str
    start_time: LocalTime | None
    is_active: bool
    created_by_name: str
    created_at: datetime
    updated_at: datetime
    items: list[TemplateItemOut]


class TemplatePageOut(Schema):
    items: list[TemplateOut]
    next_cursor: str | None
