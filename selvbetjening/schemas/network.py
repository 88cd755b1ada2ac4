"""Request and response shapes of the citizen's network: invitations, grants, and what relatives see and send."""

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from ninja import Schema
from pydantic import Field

from backend.schemas import InSchema
from selvbetjening.schemas.common import InDatetime

ScopeName = Literal["view_progress", "receive_reminders", "log_sessions", "send_encouragement"]


class InvitationIn(InSchema):
    label: str = Field(min_length=1, max_length=100)
    kind: Literal["relative", "volunteer"] = "relative"
    scopes: list[ScopeName] = Field(max_length=4)
    grant_valid_until: InDatetime | None = None


class InvitationOut(Schema):
    id: UUID
    label: str
    kind: str
    scopes: list[str]
    grant_valid_until: datetime | None
    expires_at: datetime
    created_at: datetime
    accepted_at: datetime | None
    withdrawn_at: datetime | None


class InvitationCreatedOut(InvitationOut):
    code: str = Field(description="Shown once: the invitee enters it after logging in.")


class GrantOut(Schema):
    id: UUID
    relative_name: str
    label: str
    scopes: list[str]
    valid_until: datetime | None
    created_at: datetime
    revoked_at: datetime | None
    is_in_force: bool


class GrantUpdateIn(InSchema):
    scopes: list[ScopeName] | None = Field(default=None, max_length=4)
    valid_until: InDatetime | None = None
    clear_valid_until: bool = False


class NetworkOut(Schema):
    grants: list[GrantOut]
    invitations: list[InvitationOut]


class AcceptIn(InSchema):
    code: str = Field(min_length=5, max_length=20)


class GrantedCitizenOut(Schema):
    grant_id: UUID
    citizen_id: UUID
    given_name: str
    scopes: list[str]
    valid_until: datetime | None


class GrantedCitizenListOut(Schema):
    items: list[GrantedCitizenOut]


class ProgressGoalOut(Schema):
    id: UUID
    description: str
    rank: int
    due_date: date
    achievement_status: str
    latest_gas: int | None
    latest_rated_on: date | None


class ProgressEpisodeOut(Schema):
    id: UUID
    kind_name: str
    title: str
    status: str
    start_date: date
    planned_end_date: date
    contact_name: str | None
    gas_t_score: float | None
    goals: list[ProgressGoalOut]


class ProgressOut(Schema):
    citizen_id: UUID
    given_name: str
    episodes: list[ProgressEpisodeOut]


class EncouragementIn(InSchema):
    text: str = Field(min_length=1, max_length=500)


class EncouragementOut(Schema):
    id: UUID
    author_name: str
    text: str
    created_at: datetime


class EncouragementPageOut(Schema):
    items: list[EncouragementOut]
    next_cursor: str | None
