"""Finished episodes written as history: the episode with its goals and their ratings, a training plan with
slots and logged sessions, questionnaire answers, a request and a device serving the episode, as they
would stand after the episode ended. The demo (``manage.py seed_effekt_demo``) and the effect benchmark
(``bench/effekt/seed.py``) describe their episodes as ``EpisodeHistory`` and both write them here, with
``bulk_create`` in batches; nothing runs the services that carry an episode while it happens, and the
registration and request times are set as they were (``auto_now_add`` would make them now).
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from backend import sql
from backend.models import Citizen, Team, User
from selvbetjening.models import (
    CitizenRequest,
    Episode,
    Goal,
    GoalRating,
    QuestionnaireAssignment,
    QuestionnaireResponse,
    QuestionnaireVersion,
    SessionLog,
    TrainingPlan,
    TrainingPlanVersion,
    TrainingSlot,
)
from selvbetjening.rules import slots as slot_rules
from velfaerdsteknologi.models import Assignment, Device, DeviceModel, DeviceStatus

BATCH = 5000
GAS_TEXTS = {
    "gas_minus_2": "Meget mindre end forventet",
    "gas_minus_1": "Mindre end forventet",
    "gas_0": "Som forventet",
    "gas_plus_1": "Mere end forventet",
    "gas_plus_2": "Meget mere end forventet",
}


@dataclass
class GoalHistory:
    condition: tuple[uuid.UUID, str]  # FSIII condition code and name
    baseline_level: int
    ratings: list[tuple[date, int, int]]  # (rated on, GAS score, FSIII level), the baseline first
    description: str = "Mål"
    area: str = Goal.Area.MOBILITY
    target_level: int | None = None
    baseline_gas: int = -1  # the GAS scale starts at −1 unless the goal says otherwise


@dataclass
class SlotHistory:
    scheduled_at: datetime
    done: bool
    # (pain before, pain after, effort) of the session logged for a slot done, if one was.
    session: tuple[int, int, int] | None = None


@dataclass
class SessionHistory:
    """A session logged outside a slot."""

    performed_at: datetime
    pain_before: int
    pain_after: int
    effort: int


@dataclass
class RequestHistory:
    made_at: datetime
    respond_by: datetime
    answered_at: datetime | None
    category: str = CitizenRequest.Category.HELP
    text: str = "Hjælp"
    status: str = CitizenRequest.Status.ANSWERED
    closed_at: datetime | None = None


@dataclass
class DeviceHistory:
    model: DeviceModel
    serial_number: str
    installed_at: datetime
    returned_at: datetime | None = None
    status: str = DeviceStatus.IN_USE
    address: str = "Adresse"


@dataclass
class EpisodeHistory:
    citizen: Citizen
    team: Team
    start: date
    planned_end: date
    ended_on: date
    result: str  # follow-up result code, E1–E4
    registered_at: datetime  # when the episode (the referral) was recorded
    title: str = ""
    goals: list[GoalHistory] = field(default_factory=list)
    slots: list[SlotHistory] = field(default_factory=list)
    sessions: list[SessionHistory] = field(default_factory=list)
    # (occasion, due and answered on, score) of a scored questionnaire answer.
    answers: list[tuple[str, date, int]] = field(default_factory=list)
    requests: list[RequestHistory] = field(default_factory=list)
    devices: list[DeviceHistory] = field(default_factory=list)


@dataclass
class _Rows:
    by_model: dict[type, list[Any]] = field(default_factory=dict)
    plan_goals: list[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=list)
    registered: list[tuple[Any, datetime]] = field(default_factory=list)
    requests_made: list[tuple[Any, datetime]] = field(default_factory=list)
    answers_submitted: list[tuple[Any, datetime]] = field(default_factory=list)

    def add(self, row: Any) -> Any:
        self.by_model.setdefault(type(row), []).append(row)
        return row


ORDER = (
    Episode,
    Goal,
    GoalRating,
    TrainingPlan,
    TrainingPlanVersion,
    TrainingSlot,
    SessionLog,
    QuestionnaireAssignment,
    QuestionnaireResponse,
    CitizenRequest,
    Device,
    Assignment,
)


def histories_write(
    histories: Sequence[EpisodeHistory], *, by: User, questionnaire: QuestionnaireVersion | None
) -> dict[str, int]:
    """Write the episodes and all that belongs to them (call it inside a transaction); how many rows of
    each kind were written."""
    rows = _Rows()
    for history in histories:
        _episode_rows(history, rows, by, questionnaire)
    for model in ORDER:
        objects = rows.by_model.get(model, [])
        for start in range(0, len(objects), BATCH):
            model.objects.bulk_create(objects[start : start + BATCH])
    through = TrainingPlan.goals.through
    through.objects.bulk_create(
        [through(trainingplan_id=plan_id, goal_id=goal_id) for plan_id, goal_id in rows.plan_goals], batch_size=BATCH
    )
    _set_times(Episode, "created_at", rows.registered)
    _set_times(CitizenRequest, "created_at", rows.requests_made)
    _set_times(QuestionnaireResponse, "submitted_at", rows.answers_submitted)
    sql.analyze(*ORDER, through)
    return {model._meta.verbose_name_plural: len(rows.by_model.get(model, [])) for model in ORDER}  # type: ignore[misc]


def _set_times(model: Any, column: str, values: list[tuple[datetime, Any]]) -> None:
    """Set a time ``auto_now_add`` filled in on insert to the time it was."""
    for row, when in values:
        setattr(row, column, when)
    model.objects.bulk_update([row for row, _ in values], [column], batch_size=1000)


def _episode_rows(history: EpisodeHistory, rows: _Rows, by: User, questionnaire: QuestionnaireVersion | None) -> None:
    citizen = history.citizen
    episode = rows.add(
        Episode(
            id=uuid.uuid4(),
            citizen=citizen,
            team=history.team,
            kind=Episode.Kind.EVERYDAY_REHABILITATION,
            title=history.title,
            start_date=history.start,
            planned_end_date=history.planned_end,
            ended_on=history.ended_on,
            status=Episode.Status.COMPLETED,
            follow_up_result_id=history.result,
            created_by=by,
        )
    )
    rows.registered.append((episode, history.registered_at))
    goals = []
    for rank, spec in enumerate(history.goals, 1):
        last_gas = spec.ratings[-1][1] if spec.ratings else None
        goal = rows.add(
            Goal(
                id=uuid.uuid4(),
                episode=episode,
                description=spec.description,
                rank=rank,
                area=spec.area,
                condition_code=spec.condition[0],
                condition_display=spec.condition[1],
                baseline_level=spec.baseline_level,
                target_level=max(0, spec.baseline_level - 1) if spec.target_level is None else spec.target_level,
                baseline_gas=spec.baseline_gas,
                due_date=history.planned_end,
                lifecycle_status=Goal.LifecycleStatus.COMPLETED,
                achievement_status=(
                    Goal.AchievementStatus.ACHIEVED
                    if last_gas is not None and last_gas >= 0
                    else Goal.AchievementStatus.NOT_ACHIEVED
                ),
                created_by=by,
                **GAS_TEXTS,
            )
        )
        goals.append(goal)
        for rated_on, gas, level in spec.ratings:
            rows.add(
                GoalRating(
                    goal=goal,
                    rated_on=rated_on,
                    rater_role=GoalRating.RaterRole.STAFF,
                    rated_by=by,
                    rated_by_name=by.display_name,
                    gas_score=gas,
                    function_level=level,
                )
            )
    if history.slots or history.sessions:
        _training(history, episode, goals, rows, by)
    user = citizen.user or by
    if questionnaire is not None:
        for occasion, answered_on, score in history.answers:
            assignment = rows.add(
                QuestionnaireAssignment(
                    id=uuid.uuid4(),
                    citizen=citizen,
                    episode=episode,
                    version=questionnaire,
                    occasion=occasion,
                    due_on=answered_on,
                    status=QuestionnaireAssignment.Status.ANSWERED,
                )
            )
            response = rows.add(
                QuestionnaireResponse(
                    id=uuid.uuid4(),
                    assignment=assignment,
                    version=questionnaire,
                    answers=[{"link_id": item["link_id"], "value": score} for item in questionnaire.items],
                    score=Decimal(score),
                    submitted_by=user,
                )
            )
            rows.answers_submitted.append((response, datetime.combine(answered_on, time(11), tzinfo=UTC)))
    for request in history.requests:
        made = rows.add(
            CitizenRequest(
                id=uuid.uuid4(),
                citizen=citizen,
                episode=episode,
                team=history.team,
                category=request.category,
                text=request.text,
                status=request.status,
                respond_by=request.respond_by,
                answered_at=request.answered_at,
                closed_at=request.closed_at,
                created_by=user,
                created_by_role="citizen",
            )
        )
        rows.requests_made.append((made, request.made_at))
    for spec_device in history.devices:
        device = rows.add(
            Device(
                id=uuid.uuid4(),
                municipality=citizen.municipality,
                model=spec_device.model,
                serial_number=spec_device.serial_number,
                status=spec_device.status,
            )
        )
        rows.add(
            Assignment(
                device=device,
                citizen=citizen,
                episode_id=episode.id,
                installation_address=spec_device.address,
                installed_at=spec_device.installed_at,
                returned_at=spec_device.returned_at,
                consent_basis="consent",
                consent_reference="historik",
                consent_review_on=history.ended_on + timedelta(days=365),
            )
        )


def _training(history: EpisodeHistory, episode: Episode, goals: list[Goal], rows: _Rows, by: User) -> None:
    """An ended plan with its slots (and the sessions that filled them) and the sessions logged besides."""
    plan = rows.add(
        TrainingPlan(
            id=uuid.uuid4(),
            episode=episode,
            citizen=history.citizen,
            title="Træning derhjemme",
            status=TrainingPlan.Status.ENDED,
            created_by=by,
        )
    )
    version = rows.add(
        TrainingPlanVersion(
            id=uuid.uuid4(),
            plan=plan,
            number=1,
            recurrence_rule="FREQ=WEEKLY;BYDAY=MO,WE,FR",
            start_date=history.start,
            start_time=time(10),
            end_date=history.planned_end,
            time_zone=settings.DEFAULT_CITIZEN_TIME_ZONE,
            created_by=by,
        )
    )
    plan.current_version = version
    rows.plan_goals.extend((plan.id, goal.id) for goal in goals)
    user = history.citizen.user or by
    name = user.display_name

    def session(performed_at: datetime, values: tuple[int, int, int], slot: TrainingSlot | None) -> None:
        pain_before, pain_after, effort = values
        rows.add(
            SessionLog(
                id=uuid.uuid4(),
                citizen=history.citizen,
                plan=plan,
                plan_version=version,
                slot=slot,
                performed_at=performed_at,
                pain_before=pain_before,
                pain_after=pain_after,
                effort=effort,
                logged_by=user,
                logged_by_role=SessionLog.LoggedByRole.CITIZEN,
                logged_by_name=name,
                fingerprint=uuid.uuid4().hex,
            )
        )

    zone = ZoneInfo(settings.DEFAULT_CITIZEN_TIME_ZONE)
    for spec in history.slots:
        slot = rows.add(
            TrainingSlot(
                id=uuid.uuid4(),
                plan=plan,
                version=version,
                citizen=history.citizen,
                scheduled_at=spec.scheduled_at,
                local_date=spec.scheduled_at.astimezone(zone).date(),
                due_until=slot_rules.due_until(spec.scheduled_at, version.grace_minutes),
                status=TrainingSlot.Status.DONE if spec.done else TrainingSlot.Status.MISSED,
            )
        )
        if spec.done and spec.session is not None:
            session(spec.scheduled_at + timedelta(minutes=20), spec.session, slot)
    for logged in history.sessions:
        session(logged.performed_at, (logged.pain_before, logged.pain_after, logged.effort), None)
