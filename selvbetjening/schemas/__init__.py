"""Request and response shapes of the self-service API."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from django.utils import timezone
from ninja import Schema
from pydantic import AfterValidator, AwareDatetime, Field

from backend.schemas import InSchema
from backend.timeutil import municipal_today

DATE_WINDOW_YEARS = 50
DATE_WINDOW = timedelta(days=round(365.25 * DATE_WINDOW_YEARS))


def _date_in_window(value: date) -> date:
    today = municipal_today()
    if not today - DATE_WINDOW <= value <= today + DATE_WINDOW:
        raise ValueError(f"must be within {DATE_WINDOW_YEARS} years of today")
    return value


def _datetime_in_window(value: datetime) -> datetime:
    now = timezone.now()
    if not now - DATE_WINDOW <= value <= now + DATE_WINDOW:
        raise ValueError(f"must be within {DATE_WINDOW_YEARS} years of now")
    return value


# Every date and time a client sends: bounded, so that date arithmetic cannot overflow, and times
# with their offset, so that none is read in the server's zone by accident.
InDate = Annotated[date, AfterValidator(_date_in_window)]
InDatetime = Annotated[AwareDatetime, AfterValidator(_datetime_in_window)]

LEVEL_HELP = "FSIII function level: 0 no limitation … 4 total limitation."
ScopeName = Literal["view_progress", "receive_reminders", "log_sessions", "send_encouragement"]
EpisodeStatus = Literal["planned", "active", "on_hold", "completed", "cancelled"]
RequestStatus = Literal["open", "in_progress", "answered", "closed"]


def _running_statuses() -> list[EpisodeStatus]:
    return ["planned", "active", "on_hold"]


def _unanswered_statuses() -> list[RequestStatus]:
    return ["open", "in_progress"]


class PageQuery(Schema):
    cursor: str | None = None
    limit: int = 50


# --- Episodes ------------------------------------------------------------------------------------


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


# --- Goals ---------------------------------------------------------------------------------------


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
    id: UUID | None = Field(
        default=None, description="Client-generated; a retry with the same id creates nothing."
    )
    rated_on: InDate | None = None
    gas_score: int | None = Field(
        default=None, ge=-2, le=2, description="Goal Attainment Scaling score, −2 … +2."
    )
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


# --- Questionnaires ------------------------------------------------------------------------------


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
    items: list[dict[str, Any]] = Field(
        description="The items of the version to answer, in the caller's language."
    )
    answers: list[dict[str, Any]] | None


class AnswerIn(InSchema):
    link_id: str = Field(min_length=1, max_length=60)
    value: bool | int | float | str | None


class ResponseIn(InSchema):
    id: UUID | None = Field(
        default=None, description="Client-generated; a retry with the same id creates nothing."
    )
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


# --- Requests ------------------------------------------------------------------------------------


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
    id: UUID | None = Field(
        default=None, description="Client-generated; a retry with the same id creates nothing."
    )
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


# --- Network -------------------------------------------------------------------------------------


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
