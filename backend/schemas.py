"""Schema bases shared by every app's API."""

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from ninja import Schema
from pydantic import ConfigDict, Field


class InSchema(Schema):
    """Request bodies: unknown fields are refused with 422 naming them, strings are stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ProblemOut(Schema):
    type: str
    title: str
    status: int
    code: str
    detail: str
    request_id: str


class PageMeta(Schema):
    next_cursor: str | None


# --- Authentication ------------------------------------------------------------------------------


class TokenRequestIn(InSchema):
    grant_type: Literal["authorization_code", "refresh_token", "password"]
    code: str | None = Field(default=None, max_length=200)
    code_verifier: str | None = Field(default=None, min_length=43, max_length=128)
    redirect_uri: str | None = Field(default=None, max_length=300)
    refresh_token: str | None = Field(default=None, max_length=200)
    username: str | None = Field(default=None, max_length=150)
    password: str | None = Field(default=None, max_length=200)
    totp_code: str | None = Field(default=None, max_length=10)
    install_id: str = Field(default="", max_length=64)
    device_name: str = Field(default="", max_length=100)


class TokenOut(Schema):
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 — the OAuth token type, not a secret
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_at: datetime
    session_id: UUID


class RevokeIn(InSchema):
    token: str = Field(max_length=200)


# --- The caller ----------------------------------------------------------------------------------


class RoleOut(Schema):
    code: str
    name: str


class MembershipOut(Schema):
    team_id: UUID
    team_name: str
    role: str
    role_name: str
    valid_from: date
    valid_to: date | None


class CitizenProfileOut(Schema):
    id: UUID
    given_name: str
    family_name: str
    address_line: str
    postcode: str
    city: str
    phone: str
    language: str
    time_zone: str


class MeOut(Schema):
    id: UUID
    display_name: str
    audience: str
    roles: list[RoleOut]
    citizen: CitizenProfileOut | None
    memberships: list[MembershipOut]


class AppSessionOut(Schema):
    id: UUID
    device_name: str
    install_id: str
    audience: str
    created_at: datetime
    last_used_at: datetime
    is_current: bool


class AccessLogEntryOut(Schema):
    at: datetime
    actor_name: str
    actor_role: str
    actor_role_name: str
    action: str
    action_name: str
    purpose: str
    purpose_name: str
    resource_type: str
    resource_id: str


class AccessLogPageOut(Schema):
    items: list[AccessLogEntryOut]
    next_cursor: str | None


class SessionsOut(Schema):
    items: list[AppSessionOut]


# --- Citizens, as staff see them -----------------------------------------------------------------


class CareRelationOut(Schema):
    id: UUID
    team_id: UUID
    team_name: str
    purpose: str
    valid_from: date
    valid_to: date | None


class CitizenSummaryOut(Schema):
    id: UUID
    given_name: str
    family_name: str
    address_line: str
    postcode: str
    city: str
    phone: str


class CitizenOut(CitizenSummaryOut):
    language: str
    time_zone: str
    deceased_on: date | None
    care_relations: list[CareRelationOut]


class CitizenPageOut(Schema):
    items: list[CitizenSummaryOut]
    next_cursor: str | None


class PageQuery(Schema):
    """A page of a list: after ``cursor``, at most ``limit`` items (100 whatever is asked)."""

    cursor: str | None = None
    limit: int = 50


class CitizenLookupIn(InSchema):
    cpr: str = Field(min_length=10, max_length=11, description="CPR number, sent in the body, never in a URL.")
