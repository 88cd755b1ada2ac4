"""An offline phone's queue of sessions, stored in a fixed number of statements per batch.

Each item gets the answer ``session_log_record`` would give it alone, in the order sent, and an item
refused changes nothing for the others; ``session_log_record`` stays the rule, this module its bulk form:

1. the slots the items fill are locked in one statement, in id order (two batches of one queue, or a batch
   and a single upload, wait for each other instead of deadlocking); after the locks, the logs already
   stored under the items' ids are read, so a twin upload that committed meanwhile is seen as such;
2. each item is checked in memory against the plans, their status history, versions, exercises and slots
   read once per batch (an id sent twice in one batch is a retry of its first copy; a slot filled by an
   earlier item is ``slot_already_filled`` for a later one);
3. the accepted logs, their exercises, the slots they fill, their reminders and their access-log rows are
   written with one statement each; progression is evaluated per plan in one pass, as if the sessions
   had been uploaded one by one in the order they were done (``progression_evaluate_batch``);
4. the team, the citizen and relatives hear of the batch once (``events.sessions_logged``).

If the bulk insert meets a log a concurrent upload stored after step 1 (no slot to wait on), the batch is
stored item by item through ``session_log_record`` instead, which answers such an item as a retry.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.actors import Actor
from backend.audit import access_log_record_each, read_logged
from backend.client_ids import ClientIdReused
from backend.errors import ApplicationError, Conflict, InvalidInput, NotFound
from backend.models import Citizen
from notifications.services import reminders_cancel
from selvbetjening import events
from selvbetjening.models import (
    PlanExercise,
    SessionLog,
    SessionLogExercise,
    TrainingPlan,
    TrainingPlanStatusChange,
    TrainingPlanVersion,
    TrainingSlot,
)
from selvbetjening.services.common import rater_role
from selvbetjening.services.progression import progression_evaluate_batch
from selvbetjening.services.sessions import (
    RESOURCE,
    exercise_rows,
    performed_at_rule,
    session_fingerprint,
    session_log_record,
    slot_day_starts,
)
from selvbetjening.services.slot_reminders import slot_reminder_key

type Outcome = tuple[SessionLog, bool] | ApplicationError


@dataclass
class SessionUpload:
    """One item of a batch, as the schema validated it."""

    session_log_id: UUID
    training_plan_id: UUID
    slot_id: UUID | None
    performed_at: datetime
    pain_before: int | None
    pain_after: int | None
    effort: int | None
    note: str
    exercises: list[dict[str, Any]]
    fingerprint: str = field(init=False)

    def __post_init__(self) -> None:
        self.fingerprint = session_fingerprint(
            training_plan_id=self.training_plan_id,
            slot_id=self.slot_id,
            performed_at=self.performed_at,
            pain_before=self.pain_before,
            pain_after=self.pain_after,
            effort=self.effort,
            note=self.note,
            exercises=self.exercises,
        )


@dataclass
class _Batch:
    """What the checks read, once per batch."""

    plans: dict[UUID, TrainingPlan]
    history: dict[UUID, list[tuple[datetime, str]]]
    versions: dict[UUID, list[TrainingPlanVersion]]
    slots: dict[UUID, TrainingSlot]
    stored: dict[UUID, SessionLog]
    plan_exercises: dict[UUID, dict[UUID, PlanExercise]] = field(default_factory=dict)


def _load(citizen: Citizen, uploads: Sequence[SessionUpload]) -> _Batch:
    plan_ids = {upload.training_plan_id for upload in uploads}
    plans = {
        plan.pk: plan
        for plan in TrainingPlan.objects.select_related("episode", "citizen").filter(pk__in=plan_ids, citizen=citizen)
    }
    slot_ids = sorted({upload.slot_id for upload in uploads if upload.slot_id is not None}, key=str)
    slots = {
        slot.pk: slot
        for slot in TrainingSlot.objects.select_for_update(of=("self",))
        .select_related("version")
        .filter(pk__in=slot_ids, plan_id__in=plans)
        .order_by("id")
    }
    history: dict[UUID, list[tuple[datetime, str]]] = defaultdict(list)
    for plan_id, changed_at, to_status in (
        TrainingPlanStatusChange.objects.filter(plan_id__in=plans)
        .order_by("changed_at", "id")
        .values_list("plan_id", "changed_at", "to_status")
    ):
        history[plan_id].append((changed_at, to_status))
    versions: dict[UUID, list[TrainingPlanVersion]] = defaultdict(list)
    for version in TrainingPlanVersion.objects.filter(plan_id__in=plans).order_by("number"):
        versions[version.plan_id].append(version)
    stored = {
        log.pk: log
        for log in SessionLog.objects.filter(pk__in={upload.session_log_id for upload in uploads}).only(
            "id", "citizen_id", "fingerprint"
        )
    }
    return _Batch(plans=plans, history=history, versions=versions, slots=slots, stored=stored)


def _load_plan_exercises(batch: _Batch, version_ids: set[UUID]) -> None:
    for item in PlanExercise.objects.filter(version_id__in=version_ids):
        batch.plan_exercises.setdefault(item.version_id, {})[item.exercise_id] = item


def _active_at(batch: _Batch, plan: TrainingPlan, instant: datetime) -> bool:
    """``plan_active_at`` over the history read for the batch."""
    last = None
    for changed_at, to_status in batch.history.get(plan.pk, []):
        if changed_at > instant:
            break
        last = to_status
    return last is None or last == TrainingPlan.Status.ACTIVE


def _version_at(batch: _Batch, plan: TrainingPlan, performed_at: datetime) -> TrainingPlanVersion:
    """``sessions._version_at`` over the versions read for the batch."""
    versions = batch.versions.get(plan.pk, [])
    if not versions:
        raise InvalidInput("training_plan_id", "has nothing to train yet.", code="plan_not_active")
    made = [version for version in versions if version.created_at <= performed_at]
    return made[-1] if made else versions[0]


def _slot(batch: _Batch, plan: TrainingPlan, upload: SessionUpload, taken: set[UUID]) -> TrainingSlot | None:
    """``sessions._slot_to_fill`` over the locked slots, with the slots earlier items filled."""
    if upload.slot_id is None:
        return None
    slot = batch.slots.get(upload.slot_id)
    if slot is None or slot.plan_id != plan.pk:
        raise InvalidInput("slot_id", "is not a slot of this training plan.")
    if slot.status == TrainingSlot.Status.CANCELLED:
        raise InvalidInput("slot_id", "is cancelled; log the session without a slot.", code="slot_cancelled")
    if slot.status == TrainingSlot.Status.DONE or slot.pk in taken:
        raise Conflict("Another session already filled this slot.", code="slot_already_filled")
    if upload.performed_at < slot_day_starts(slot):
        raise InvalidInput(
            "slot_id", "is on a later day than performed_at; log the session without a slot.", code="slot_not_yet"
        )
    return slot


@dataclass
class _Accepted:
    index: int
    log: SessionLog
    rows: list[SessionLogExercise]
    slot: TrainingSlot | None


def _check(
    batch: _Batch, upload: SessionUpload, by: Actor, now: datetime, taken: set[UUID]
) -> tuple[SessionLog, list[SessionLogExercise], TrainingSlot | None]:
    """The item as ``session_log_record`` would store it, unsaved; raises its refusal."""
    plan = batch.plans[upload.training_plan_id]
    performed_at_rule(upload.performed_at, now)
    if not _active_at(batch, plan, upload.performed_at):
        raise InvalidInput(
            "training_plan_id", "was not an active training plan when the session was done.", code="plan_not_active"
        )
    slot = _slot(batch, plan, upload, taken)
    version = slot.version if slot is not None else _version_at(batch, plan, upload.performed_at)
    rows = exercise_rows(batch.plan_exercises.get(version.pk, {}), upload.exercises)
    log = SessionLog(
        id=upload.session_log_id,
        citizen=plan.citizen,
        plan=plan,
        plan_version=version,
        slot=slot,
        performed_at=upload.performed_at,
        pain_before=upload.pain_before,
        pain_after=upload.pain_after,
        effort=upload.effort,
        note=upload.note,
        logged_by=by.user,
        logged_by_role=rater_role(by),
        logged_by_name=by.user.display_name,
        fingerprint=upload.fingerprint,
    )
    return log, rows, slot


def _versions_needed(batch: _Batch, uploads: Sequence[SessionUpload]) -> set[UUID]:
    needed = set()
    for upload in uploads:
        plan = batch.plans.get(upload.training_plan_id)
        if plan is None:
            continue
        slot = batch.slots.get(upload.slot_id) if upload.slot_id is not None else None
        if slot is not None:
            needed.add(slot.version_id)
        else:
            needed.update(version.pk for version in batch.versions.get(plan.pk, []))
    return needed


def _progression(accepted: list[_Accepted]) -> None:
    """Progression for the new sessions, per plan in one pass (``progression_evaluate_batch``): as if they
    had been uploaded one by one in the order they were done."""
    by_plan: dict[UUID, list[tuple[SessionLog, list[SessionLogExercise]]]] = defaultdict(list)
    for item in accepted:
        by_plan[item.log.plan_id].append((item.log, item.rows))
    for plan_id in sorted(by_plan, key=str):
        progression_evaluate_batch(plan_id=plan_id, sessions=by_plan[plan_id])


def session_logs_record_batch(
    *, citizen: Citizen, by: Actor, uploads: Sequence[SessionUpload], now: datetime | None = None
) -> list[Outcome]:
    """Store a batch of ``citizen``'s sessions; per item, in order, ``(log, created)`` or the refusal
    ``session_log_record`` would give it alone (see the module's description)."""
    try:
        with transaction.atomic():
            return _record_together(citizen=citizen, by=by, uploads=uploads, now=now or timezone.now())
    except IntegrityError:
        return [_record_alone(citizen=citizen, by=by, upload=upload, now=now) for upload in uploads]


def _record_alone(*, citizen: Citizen, by: Actor, upload: SessionUpload, now: datetime | None) -> Outcome:
    plan = (
        TrainingPlan.objects.select_related("episode", "citizen")
        .filter(pk=upload.training_plan_id, citizen=citizen)
        .first()
    )
    if plan is None:
        return NotFound("No such training plan.")
    try:
        return session_log_record(
            plan=plan,
            by=by,
            session_log_id=upload.session_log_id,
            slot_id=upload.slot_id,
            performed_at=upload.performed_at,
            pain_before=upload.pain_before,
            pain_after=upload.pain_after,
            effort=upload.effort,
            note=upload.note,
            exercises=upload.exercises,
            now=now,
        )
    except ApplicationError as exc:
        return exc


def _record_together(*, citizen: Citizen, by: Actor, uploads: Sequence[SessionUpload], now: datetime) -> list[Outcome]:
    batch = _load(citizen, uploads)
    _load_plan_exercises(batch, _versions_needed(batch, uploads))
    outcomes: list[Outcome | None] = [None] * len(uploads)
    accepted: list[_Accepted] = []
    first_of: dict[UUID, tuple[str, int]] = {}
    taken: set[UUID] = set()
    replayed: list[int] = []
    for index, upload in enumerate(uploads):
        earlier = first_of.get(upload.session_log_id)
        if earlier is not None:
            fingerprint, earlier_index = earlier
            if fingerprint != upload.fingerprint:
                outcomes[index] = ClientIdReused("id", "session")
            else:
                replayed.append(index)  # answered as its first copy was
                outcomes[index] = outcomes[earlier_index]
            continue
        first_of[upload.session_log_id] = (upload.fingerprint, index)
        plan = batch.plans.get(upload.training_plan_id)
        if plan is None:
            outcomes[index] = NotFound("No such training plan.")
            continue
        stored = batch.stored.get(upload.session_log_id)
        if stored is not None:
            is_same = stored.citizen_id == plan.citizen_id and stored.fingerprint == upload.fingerprint
            outcomes[index] = (stored, False) if is_same else ClientIdReused("id", "session")
            continue
        try:
            log, rows, slot = _check(batch, upload, by, now, taken)
        except ApplicationError as exc:
            outcomes[index] = exc
            continue
        if slot is not None:
            taken.add(slot.pk)
        accepted.append(_Accepted(index=index, log=log, rows=rows, slot=slot))
        outcomes[index] = (log, True)
    for index in replayed:
        first = outcomes[index]
        if isinstance(first, tuple):
            outcomes[index] = (first[0], False)
    if accepted:
        _store(citizen, by, accepted, now)
    if any(isinstance(outcome, tuple) and not outcome[1] for outcome in outcomes):
        read_logged(by, [citizen.pk], RESOURCE)
    return [outcome for outcome in outcomes if outcome is not None]  # every item has its answer by now


def _store(citizen: Citizen, by: Actor, accepted: list[_Accepted], now: datetime) -> None:
    in_order = sorted(accepted, key=lambda item: str(item.log.pk))
    SessionLog.objects.bulk_create([item.log for item in in_order])
    rows = []
    for item in in_order:
        for row in item.rows:
            row.session_log = item.log
            rows.append(row)
    SessionLogExercise.objects.bulk_create(rows)
    slot_ids = [item.slot.pk for item in in_order if item.slot is not None]
    if slot_ids:
        TrainingSlot.objects.filter(pk__in=slot_ids).update(status=TrainingSlot.Status.DONE, updated_at=now)
        for item in in_order:
            if item.slot is not None:
                item.slot.status = TrainingSlot.Status.DONE
                item.slot.updated_at = now
        reminders_cancel(source_keys=[slot_reminder_key(slot_id) for slot_id in slot_ids])
    access_log_record_each(
        actor=by, citizen=citizen, resource_type=RESOURCE, resource_ids=[str(item.log.pk) for item in accepted]
    )
    _progression(accepted)
    logs = sorted((item.log for item in accepted), key=lambda log: log.performed_at)
    plans = {log.plan_id: log.plan for log in logs}
    session_log_ids = [log.pk for log in logs]
    teams = {plan.episode.team_id: plan_id for plan_id, plan in plans.items()}
    transaction.on_commit(
        lambda: events.sessions_logged(session_log_ids=session_log_ids, citizen_id=citizen.pk, team_plans=teams)
    )
