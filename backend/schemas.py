"""Schema bases shared by every app's API."""

import re
from datetime import date, datetime, time
from typing import Annotated, Literal
from uuid import UUID

from ninja import Schema
from pydantic import BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

LOCAL_TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"


def _wall_clock(value: object) -> object:
    """A time of day as the API writes it, HH:MM or HH:MM:SS, without an offset (a stored ``time`` passes)."""
    if isinstance(value, time):
        if value.tzinfo is not None:
            raise PydanticCustomError("local_time", "must be a local time of day without an offset, e.g. 10:00")
        return value
    if not isinstance(value, str) or not re.fullmatch(LOCAL_TIME_PATTERN, value):
        raise PydanticCustomError("local_time", "must be a local time of day without an offset, e.g. 10:00")
    return value


# A time of day on the citizen's wall clock: the zone is the citizen's (Europe/Copenhagen unless another is
# named beside it), never sent with the time. ``format: time`` would demand an offset, so it is not used.
LocalTime = Annotated[
    time,
    BeforeValidator(_wall_clock),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": LOCAL_TIME_PATTERN,
            "description": (
                "Local time of day, HH:MM or HH:MM:SS, without an offset: wall-clock time in the citizen's "
                "time zone (Europe/Copenhagen unless another zone is given beside it)."
            ),
            "examples": ["07:30", "22:00:00"],
        }
    ),
]


class InSchema(Schema):
    """Request bodies: unknown fields are refused with 422 naming them, strings are stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FieldProblemOut(Schema):
    field: str = Field(description="The field, dotted for a nested one (e.g. exercises.0.sets).")
    message: str = Field(description="What is wrong with it, in the request's language.")


class ProblemOut(Schema):
    """An RFC 9457 problem: every error of the API, as ``application/problem+json``."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str = Field(description="What went wrong, in Danish unless Accept-Language asks for English.")
    status: int
    code: str = Field(description="Stable and machine-readable; the same in every language.")
    detail: str = Field(description="This case of it, in the request's language.")
    request_id: str
    errors: list[FieldProblemOut] | None = Field(
        default=None, description="For 422: each field in error, in the request's language."
    )


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
    session_expires_at: datetime | None = Field(
        description="When this login ends at the latest (UTC): its absolute lifetime, fixed at login and never "
        "extended. It may end sooner (unused past the idle timeout, signed out here or on every device); an "
        "app that keeps data offline forgets it once this moment has passed, even without a connection."
    )


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
