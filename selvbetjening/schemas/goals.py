"""Request and response shapes of goals and their ratings."""

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from ninja import Schema
from pydantic import Field

from backend.schemas import InSchema
from selvbetjening.schemas.common import InDate, PageQuery

LEVEL_HELP = "FSIII function level: 0 no limitation … 4 total limitation."


class GoalOut(Schema):
    id: UUID
    version: int
    episode_id: UUID
    description: str
    rank: int
    area: str
    area_name: str
    condition: dict[str, str] = Field(description="FSIII condition: system, code (UUID) and display.")
    direction: str
    baseline_level: int
    target_level: int
    baseline_gas: int
    gas_weight: int
    gas_outcomes: dict[str, str] = Field(description="The five described outcomes, keyed '-2' … '2'.")
    copm_importance: int | None
    due_date: date
    expressed_by: str
    lifecycle_status: str
    achievement_status: str
    latest_gas: int | None
    latest_function_level: int | None
    latest_rated_on: date | None


class GoalPageOut(Schema):
    items: list[GoalOut]
    next_cursor: str | None


class GoalFields(InSchema):
    description: str = Field(min_length=1, max_length=2000)
    rank: int = Field(ge=1, le=20)
    area: Literal[
        "self_care",
        "household",
        "mobility",
        "muscle_function",
        "communication",
        "social_life",
        "mental_functions",
        "health",
    ]
    condition_code: UUID
    condition_display: str = Field(min_length=1, max_length=200)
    direction: Literal["improve", "maintain"] = "improve"
    baseline_level: int = Field(ge=0, le=4, description=LEVEL_HELP)
    target_level: int = Field(ge=0, le=4, description=LEVEL_HELP)
    baseline_gas: int = Field(default=-1, ge=-2, le=2)
    gas_weight: int = Field(default=1, ge=1, le=10)
    gas_minus_2: str = Field(min_length=1, max_length=500)
    gas_minus_1: str = Field(min_length=1, max_length=500)
    gas_0: str = Field(min_length=1, max_length=500)
    gas_plus_1: str = Field(min_length=1, max_length=500)
    gas_plus_2: str = Field(min_length=1, max_length=500)
    copm_importance: int | None = Field(default=None, ge=1, le=10)
    due_date: InDate
    expressed_by: Literal["citizen", "staff", "relative"] = "citizen"


class GoalCreateIn(GoalFields):
    pass


class GoalUpdateIn(InSchema):
    version: int
    description: str | None = Field(default=None, min_length=1, max_length=2000)
    rank: int | None = Field(default=None, ge=1, le=20)
    condition_code: UUID | None = None
    condition_display: str | None = Field(default=None, min_length=1, max_length=200)
    direction: Literal["improve", "maintain"] | None = None
    baseline_level: int | None = Field(default=None, ge=0, le=4)
    target_level: int | None = Field(default=None, ge=0, le=4)
    baseline_gas: int | None = Field(default=None, ge=-2, le=2)
    gas_weight: int | None = Field(default=None, ge=1, le=10)
    gas_minus_2: str | None = Field(default=None, min_length=1, max_length=500)
    gas_minus_1: str | None = Field(default=None, min_length=1, max_length=500)
    gas_0: str | None = Field(default=None, min_length=1, max_length=500)
    gas_plus_1: str | None = Field(default=None, min_length=1, max_length=500)
    gas_plus_2: str | None = Field(default=None, min_length=1, max_length=500)
    copm_importance: int | None = Field(default=None, ge=1, le=10)
    due_date: InDate | None = None
    lifecycle_status: Literal["proposed", "active", "completed", "cancelled"] | None = None
    achievement_status: (
        Literal[
            "in-progress",
            "improving",
            "worsening",
            "no-change",
            "achieved",
            "sustaining",
            "not-achieved",
            "no-progress",
            "not-attainable",
        ]
        | None
    ) = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude={"version"}, exclude_unset=True, exclude_none=True)


class RatingIn(InSchema):
    id: UUID | None = Field(default=None, description="Client-generated; a retry with the same id creates nothing.")
    rated_on: InDate | None = None
    gas_score: int | None = Field(default=None, ge=-2, le=2, description="Goal Attainment Scaling score, −2 … +2.")
    function_level: int | None = Field(default=None, ge=0, le=4)
    copm_performance: int | None = Field(default=None, ge=1, le=10)
    copm_satisfaction: int | None = Field(default=None, ge=1, le=10)
    note: str = Field(default="", max_length=1000)


class RatingOut(Schema):
    id: UUID
    goal_id: UUID
    rated_on: date
    rater_role: str
    rated_by_name: str
    gas_score: int | None
    function_level: int | None
    copm_performance: int | None
    copm_satisfaction: int | None
    note: str
    created_at: datetime


class RatingPageOut(Schema):
    items: list[RatingOut]
    next_cursor: str | None


class GoalQuery(PageQuery):
    episode_id: UUID | None = None
