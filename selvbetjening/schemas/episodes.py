"""Request and response shapes of episodes, their contacts and evaluation tasks."""

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from ninja import Schema
from pydantic import Field

from backend.schemas import InSchema
from selvbetjening.schemas.common import InDate, PageQuery

EpisodeStatus = Literal["planned", "active", "on_hold", "completed", "cancelled"]


def _running_statuses() -> list[EpisodeStatus]:
    return ["planned", "active", "on_hold"]


class ContactOut(Schema):
    staff_id: UUID
    name: str
    title: str
    role: str
    role_name: str
    started_at: datetime
    ended_at: datetime | None
    until: date | None
    reason: str


class CodeOut(Schema):
    code: str
    display: str


class EpisodeOut(Schema):
    id: UUID
    version: int
    citizen_id: UUID
    citizen_name: str
    team_id: UUID
    team_name: str
    kind: str
    kind_name: str
    title: str
    start_date: date
    planned_end_date: date
    ended_on: date | None
    days_left: int | None
    status: str
    status_name: str
    contact_person: ContactOut | None
    stand_in: ContactOut | None
    contact_now: ContactOut | None = Field(
        description="Whom the citizen contacts today: the stand-in while one is named."
    )
    response_working_days: int
    follow_up_result: CodeOut | None
    follow_up_note: str
    gas_t_score: float | None
    gas_t_score_baseline: float | None


class StatusChangeOut(Schema):
    from_status: str
    to_status: str
    note: str
    changed_at: datetime


class EpisodeDetailOut(EpisodeOut):
    contact_history: list[ContactOut]
    status_history: list[StatusChangeOut]


class EpisodePageOut(Schema):
    items: list[EpisodeOut]
    next_cursor: str | None


class EpisodeCreateIn(InSchema):
    citizen_id: UUID
    team_id: UUID
    kind: Literal["everyday_rehabilitation", "retraining", "training"]
    title: str = Field(default="", max_length=200)
    start_date: InDate
    planned_end_date: InDate
    contact_person_id: UUID
    response_working_days: int = Field(default=2, ge=1, le=10)


class EpisodeUpdateIn(InSchema):
    version: int
    title: str | None = Field(default=None, max_length=200)
    planned_end_date: InDate | None = None
    response_working_days: int | None = Field(default=None, ge=1, le=10)


class EpisodeTransitionIn(InSchema):
    version: int
    status: EpisodeStatus
    follow_up_result: str | None = Field(default=None, max_length=8)
    note: str = Field(default="", max_length=500)


class HandoverIn(InSchema):
    staff_id: UUID
    reason: str = Field(default="", max_length=300)


class StandInIn(InSchema):
    staff_id: UUID
    until: InDate
    reason: str = Field(default="", max_length=300)


class EpisodeQuery(PageQuery):
    status: list[EpisodeStatus] = Field(default_factory=_running_statuses)
    citizen_id: UUID | None = None


class EvaluationTaskOut(Schema):
    id: UUID
    episode_id: UUID
    citizen_id: UUID
    citizen_name: str
    team_name: str
    due_on: date
    planned_end_date: date
    status: str


class EvaluationTaskPageOut(Schema):
    items: list[EvaluationTaskOut]
    next_cursor: str | None


class FollowUpResultOut(Schema):
    code: str
    display: str
    fhir_achievement_status: str
