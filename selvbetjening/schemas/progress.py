"""Shapes of the staff views of training: a citizen's progress, a team's caseload, training alerts."""

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from ninja import Schema
from pydantic import Field

from backend.schemas import InSchema
from selvbetjening.schemas.common import InDate, PageQuery
from selvbetjening.selectors.adherence import DEFAULT_WINDOW_DAYS, MAX_WINDOW_DAYS
from selvbetjening.selectors.caseload import (
    ADHERENCE_WINDOW_DAYS,
    ENDING_SOON_WITHIN_DAYS,
    INACTIVE_AFTER_DAYS,
    PAIN_TREND_MIN_CHANGE,
    PAIN_WINDOW_DAYS,
    RED_ADHERENCE_BELOW_PERCENT,
    RED_MIN_DUE_SLOTS,
    YELLOW_ADHERENCE_BELOW_PERCENT,
    Light,
    PainTrend,
    Reason,
    SortKey,
)

AlertStatus = Literal["open", "acknowledged", "resolved"]

ADHERENCE_HELP = "Slots filled ÷ slots due, 0–1; null when no slot was due."
DUE_HELP = (
    "Scheduled slots that count: done, missed, or still pending after their grace period (counted as missed "
    "even before the missed-slot sweep has run). Cancelled slots never count; pending slots not yet due do not "
    "count yet."
)
LIGHT_HELP = (
    "Traffic light. red: an unresolved pain alert, or an unresolved missed-training alert, or an unresolved "
    "fall alert on a device the citizen has, or "
    "a request to the team unanswered past its respond_by, or "
    f"adherence below {RED_ADHERENCE_BELOW_PERCENT} % with at "
    f"least {RED_MIN_DUE_SLOTS} slots due in the last {ADHERENCE_WINDOW_DAYS} days. yellow: adherence below "
    f"{YELLOW_ADHERENCE_BELOW_PERCENT} %, or pain rising, or no session logged in the last {INACTIVE_AFTER_DAYS} "
    "days, or a questionnaire still pending after its due day, or a running episode in the team planned to end "
    f"within {ENDING_SOON_WITHIN_DAYS} days, or an unresolved offline (missing heartbeat) or battery alert on a "
    "device the citizen has. green: none of these."
)
PAIN_TREND_HELP = (
    f"Mean session pain (pain after, else pain before; NRS 0–10) of the last {PAIN_WINDOW_DAYS} days against the "
    f"{PAIN_WINDOW_DAYS} days before: rising when it went up by {PAIN_TREND_MIN_CHANGE:g} or more, falling when it "
    "went down by as much, stable in between, unknown when either span has no pain reported."
)
REASONS_HELP = (
    "Why the light shows its colour: pain_alert, missed_training_alert, request_overdue, adherence_below_red, "
    "adherence_below_yellow, pain_rising, no_recent_activity, questionnaire_overdue, episode_ending_soon, "
    "device_fall, device_offline, device_battery_low."
)


# --- A citizen's progress -----------------------------------------------------------------------


class ProgressQuery(Schema):
    from_: InDate | None = Field(
        default=None,
        alias="from",
        description=f"First local day (default: {DEFAULT_WINDOW_DAYS} days up to `to`).",
    )
    to: InDate | None = Field(
        default=None, description=f"Last local day, included (default: today); at most {MAX_WINDOW_DAYS} days."
    )


class SessionValuesOut(Schema):
    id: UUID
    performed_at: datetime
    pain_before: int | None
    pain_after: int | None
    effort: int | None
    is_ad_hoc: bool = Field(description="Done outside the schedule: activity, but it fills no slot.")


class FiguresOut(Schema):
    slots_due: int = Field(description=DUE_HELP)
    slots_filled: int
    slots_missed: int
    slots_upcoming: int = Field(description="Pending slots that can still be filled on time (not counted).")
    adherence: float | None = Field(description=ADHERENCE_HELP)
    sessions: int = Field(description="Sessions logged, in slots and ad hoc.")
    ad_hoc_sessions: int
    pain_before_mean: float | None
    pain_after_mean: float | None
    effort_mean: float | None = Field(description="Borg CR10 0–10.")


class DayOut(FiguresOut):
    date: date
    session_values: list[SessionValuesOut]


class WeekOut(FiguresOut):
    iso_year: int
    iso_week: int
    first_day: date = Field(description="The week's first day inside the window.")
    last_day: date


class SummaryOut(FiguresOut):
    streak_slots: int = Field(
        description="The current run of done slots, most recent first, up to now (a missed slot ends it; "
        "pending slots not yet due are skipped)."
    )
    streak_days: int = Field(
        description="Consecutive days with at least one session, counted back from the window's last day "
        "(which does not break the run while it has none yet)."
    )


class RatingPointOut(Schema):
    rated_on: date
    gas_score: int | None
    function_level: int | None
    rater_role: str


class GoalTrendOut(Schema):
    goal_id: UUID
    episode_id: UUID
    description: str
    rank: int
    lifecycle_status: str
    baseline_gas: int
    baseline_level: int
    target_level: int
    ratings: list[RatingPointOut] = Field(description="Ratings within the window, oldest first.")


class CitizenProgressOut(Schema):
    citizen_id: UUID
    name: str
    time_zone: str
    from_date: date
    to_date: date
    summary: SummaryOut
    days: list[DayOut]
    weeks: list[WeekOut]
    goals: list[GoalTrendOut]


# --- A team's caseload --------------------------------------------------------------------------


class CaseloadQuery(Schema):
    sort: SortKey = Field(
        default="status",
        description="status (red first), adherence (lowest first, none last), last_activity (longest ago "
        "first, never first), name; a leading - reverses.",
    )
    cursor: str | None = None
    limit: int = Field(default=50, description="At most 100, whatever is asked.")
    contact_person: UUID | None = Field(
        default=None,
        description="A staff id: only citizens whose running episode in the team has this contact person.",
    )
    reason: Reason | None = Field(
        default=None, description=f"Only citizens the light shows this reason for. {REASONS_HELP}"
    )


class CaseloadItemOut(Schema):
    citizen_id: UUID
    name: str
    status: Light = Field(description=LIGHT_HELP)
    status_reasons: list[str] = Field(description=REASONS_HELP)
    adherence: float | None = Field(description=f"Over the last {ADHERENCE_WINDOW_DAYS} days. {ADHERENCE_HELP}")
    slots_due: int = Field(description=f"In the last {ADHERENCE_WINDOW_DAYS} days. {DUE_HELP}")
    slots_filled: int
    pain_trend: PainTrend = Field(description=PAIN_TREND_HELP)
    pain_mean_recent: float | None = Field(description=f"Mean pain of the last {PAIN_WINDOW_DAYS} days.")
    pain_mean_previous: float | None = Field(description=f"Mean pain of the {PAIN_WINDOW_DAYS} days before.")
    last_activity_at: datetime | None = Field(description="When the latest session was performed.")
    open_alerts: int = Field(description="Training alerts not yet resolved (open or acknowledged).")
    questionnaires_overdue: int = Field(
        description="Questionnaires (of the team's episodes, or of none) still pending after their due day."
    )
    requests_overdue: int = Field(description="Requests to the team, open or in progress, whose respond_by has passed.")
    episode_ends_on: date | None = Field(
        description=f"The planned end of a running episode in the team ending within {ENDING_SOON_WITHIN_DAYS} "
        "days (today included); null when none does."
    )


class CaseloadPageOut(Schema):
    team_id: UUID
    team_name: str
    computed_at: datetime
    items: list[CaseloadItemOut]
    next_cursor: str | None


# --- Training alerts ----------------------------------------------------------------------------


def _unresolved() -> list[AlertStatus]:
    return ["open", "acknowledged"]


class TrainingAlertQuery(PageQuery):
    status: list[AlertStatus] = Field(default_factory=_unresolved)
    citizen_id: UUID | None = None


class TrainingAlertOut(Schema):
    id: UUID
    citizen_id: UUID
    citizen_name: str
    episode_id: UUID
    team_id: UUID
    plan_id: UUID
    plan_title: str
    session_log_id: UUID | None = Field(description="The session that reported the pain (pain_stop).")
    performed_at: datetime | None = Field(description="When that session was done (pain_stop).")
    missed_slots: int | None = Field(
        description="How many slots in a row were missed when the alert was raised (missed_training)."
    )
    exercise_id: UUID | None
    exercise_title: str | None
    kind: str
    kind_name: str
    pain: int | None
    status: AlertStatus
    status_name: str
    contact_person_name: str | None
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by_name: str | None
    resolved_at: datetime | None
    resolved_by_name: str | None
    resolution_note: str


class TrainingAlertPageOut(Schema):
    items: list[TrainingAlertOut]
    next_cursor: str | None


class TrainingAlertResolveIn(InSchema):
    note: str = Field(min_length=1, max_length=1000, description="What was done about it.")
