"""Request and response shapes of the citizen's requests to the care team and their messages."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from ninja import Schema
from pydantic import Field

from backend.schemas import InSchema
from selvbetjening.schemas.common import PageQuery

RequestStatus = Literal["open", "in_progress", "answered", "closed"]


def _unanswered_statuses() -> list[RequestStatus]:
    return ["open", "in_progress"]


class RequestOut(Schema):
    id: UUID
    version: int
    citizen_id: UUID
    citizen_name: str
    episode_id: UUID | None
    team_id: UUID
    team_name: str
    category: str
    category_name: str
    text: str
    status: str
    status_name: str
    respond_by: datetime
    is_overdue: bool
    has_photo: bool
    created_by_role: str
    created_at: datetime
    answered_at: datetime | None
    closed_at: datetime | None
    message_count: int


class MessageOut(Schema):
    id: UUID
    author_name: str
    author_role: str
    text: str
    created_at: datetime


class RequestDetailOut(RequestOut):
    messages: list[MessageOut]


class RequestPageOut(Schema):
    items: list[RequestOut]
    next_cursor: str | None


class RequestCreateIn(InSchema):
    id: UUID | None = Field(default=None, description="Client-generated; a retry with the same id creates nothing.")
    category: Literal["help", "plan_change", "assistive_device", "device_fault", "other"]
    text: str = Field(min_length=1, max_length=4000)
    episode_id: UUID | None = None


class MessageIn(InSchema):
    text: str = Field(min_length=1, max_length=4000)


class RequestStatusIn(InSchema):
    status: Literal["open", "in_progress", "closed"]


class InboxQuery(PageQuery):
    status: list[RequestStatus] = Field(default_factory=_unanswered_statuses)


class PhotoQuery(Schema):
    size: Literal["full", "thumbnail"] = "full"
