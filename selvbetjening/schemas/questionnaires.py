"""Request and response shapes of questionnaires, their assignments and answers."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from ninja import Schema
from pydantic import Field

from backend.schemas import InSchema
from selvbetjening.schemas.common import InDate, PageQuery


class AssignmentOut(Schema):
    id: UUID
    citizen_id: UUID
    episode_id: UUID | None
    questionnaire_key: str
    title: str
    version: int
    occasion: str
    occasion_name: str
    due_on: date
    status: str
    answered_at: datetime | None
    score: Decimal | None


class AssignmentPageOut(Schema):
    items: list[AssignmentOut]
    next_cursor: str | None


class AssignmentDetailOut(AssignmentOut):
    items: list[dict[str, Any]] = Field(description="The items of the version to answer, in the caller's language.")
    answers: list[dict[str, Any]] | None


class AnswerIn(InSchema):
    link_id: str = Field(min_length=1, max_length=60)
    value: bool | int | float | str | None


class ResponseIn(InSchema):
    id: UUID | None = Field(default=None, description="Client-generated; a retry with the same id creates nothing.")
    answers: list[AnswerIn] = Field(max_length=200)


class QuestionnaireQuery(PageQuery):
    state: Literal["due", "upcoming", "answered"] = "due"


class AssignIn(InSchema):
    questionnaire_key: str = Field(min_length=1, max_length=60)
    due_on: InDate


class QuestionnaireOut(Schema):
    key: str
    title: str
    version: int
    schedule_with_episodes: bool
    items: list[dict[str, Any]]
    scoring: dict[str, Any] | None


class QuestionnaireListOut(Schema):
    items: list[QuestionnaireOut]
