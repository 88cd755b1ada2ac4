"""Session logs from the phone: idempotent by the phone's id, validated against the plan, filling slots.

Which plan version a session counts against: the version of the slot it fills; for a session done ad hoc,
the version in force when it was performed (the latest made at or before ``performed_at``, else the
first).

Filling a slot marks it done, also when the session comes after the slot's grace period, even after the
missed-slot sweep marked it missed: an offline phone's week arrives late, and the session was done.
Adherence therefore counts such a slot as filled; ``SessionLog.performed_at`` later than the slot's
``due_until`` tells that it was done late (``is_late`` in the responses).
"""

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from backend.actors import Actor
from backend.audit import access_log_record, read_logged
from backend.client_ids import create_once
from backend.concurrency import require_version, save_with_version
from backend.errors import Conflict, InvalidInput
from backend.models import AccessLogEntry
from notifications.services import reminders_cancel
from selvbetjening import events
from selvbetjening.models import (
    PlanExercise,
    SessionLog,
    SessionLogExercise,
    TrainingPlan,
    TrainingPlanVersion,
    TrainingSlot,
)
from selvbetjening.rules.dosage import DOSAGE_FIELDS
from selvbetjening.selectors.plans import plan_active_at
from selvbetjening.services.common import rater_role
from selvbetjening.services.progression import progression_evaluate, progression_pain_check
from selvbetjening.services.slot_reminders import slot_reminder_key

Action = AccessLogEntry.Action

MAX_AHEAD = timedelta(minutes=10)
MAX_AGE = timedelta(days=60)
EDITABLE_FIELDS = frozenset({"pain_before", "pain_after", "effort", "note"})
RESOURCE = "session_log"


# --- Fingerprint ---------------------------------------------------------------------------------


def _decimal_text(value: Decimal | float | None) -> str | None:
    return None if value is None else str(Decimal(str(value)).quantize(Decimal("0.1")))


def session_fingerprint(
    *,
    training_plan_id: UUID,
    slot_id: UUID | None,
    performed_at: datetime,
    pain_before: int | None,
    pain_after: int | None,
    effort: int | None,
    note: str,
    exercises: list[dict[str, Any]],
) -> str:
    """sha256 of a canonical JSON of what was sent: the same session written differently (another UTC
    offset, ``2.50`` for ``2.5``, exercises in another order) has the same fingerprint."""
    canonical = {
        "training_plan_id": str(training_plan_id),
        "slot_id": None if slot_id is None else str(slot_id),
        "performed_at": performed_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "pain_before": pain_before,
        "pain_after": pain_after,
        "effort": effort,
        "note": note,
        "exercises": sorted(
            (
                {
                    "exercise_id": str(item["exercise_id"]),
                    "sets": item.get("sets"),
                    "repetitions": item.get("repetitions"),
                    "hold_seconds": item.get("hold_seconds"),
                    "duration_seconds": item.get("duration_seconds"),
                    "load_kg": _decimal_text(item.get("load_kg")),
                    "is_completed": bool(item.get("is_completed", True)),
                }
                for item in exercises
            ),
            key=lambda item: str(item["exercise_id"]),
        ),
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


# --- Rules ---------------------------------------------------------------------------------------


def performed_at_rule(performed_at: datetime, now: datetime) -> None:
    if performed_at > now + MAX_AHEAD:
        raise InvalidInput("performed_at", "is more than 10 minutes ahead of the server's clock.")
    if performed_at < now - MAX_AGE:
        raise InvalidInput("performed_at", "is more than 60 days ago.")


def exercise_rows(
    plan_exercises: Mapping[UUID, PlanExercise], exercises: list[dict[str, Any]]
) -> list[SessionLogExercise]:
    """Unsaved rows for ``exercises`` done of a plan version's ``plan_exercises`` (by exercise id); 422 naming
    ``exercises.<index>.exercise_id`` for one that is not in the plan version or is given twice."""
    seen: set[UUID] = set()
    rows = []
    for index, item in enumerate(exercises):
        exercise_id = item["exercise_id"]
        plan_exercise = plan_exercises.get(exercise_id)
        if plan_exercise is None:
            raise InvalidInput(f"exercises.{index}.exercise_id", "is not an exercise of this plan version.")
        if exercise_id in seen:
            raise InvalidInput(f"exercises.{index}.exercise_id", "is given twice.")
        seen.add(exercise_id)
        rows.append(
            SessionLogExercise(
                plan_exercise=plan_exercise,
                exercise_id=exercise_id,
                is_completed=item.get("is_completed", True),
                **{name: item.get(name) for name in DOSAGE_FIELDS},
            )
        )
    return rows


def _exercise_rows(version: TrainingPlanVersion, exercises: list[dict[str, Any]]) -> list[SessionLogExercise]:
    """``exercise_rows`` of the plan version's exercises."""
    return exercise_rows({item.exercise_id: item for item in PlanExercise.objects.filter(version=version)}, exercises)


def slot_day_starts(slot: TrainingSlot) -> datetime:
    """The start of the slot's day in its plan's zone: a session done before it cannot fill the slot."""
    return datetime.combine(slot.local_date, time.min, tzinfo=ZoneInfo(slot.version.time_zone))


def _slot_to_fill(plan: TrainingPlan, slot_id: UUID, performed_at: datetime) -> TrainingSlot:
    """The slot, locked: of this plan, not cancelled, not filled, and not on a later day than the session."""
    slot = (
        TrainingSlot.objects.select_for_update(of=("self",))
        .select_related("version")
        .filter(pk=slot_id, plan=plan)
        .first()
    )
    if slot is None:
        raise InvalidInput("slot_id", "is not a slot of this training plan.")
    if slot.status == TrainingSlot.Status.CANCELLED:
        raise InvalidInput("slot_id", "is cancelled; log the session without a slot.", code="slot_cancelled")
    if slot.status == TrainingSlot.Status.DONE:
        raise Conflict("Another session already filled this slot.", code="slot_already_filled")
    if performed_at < slot_day_starts(slot):
        raise InvalidInput(
            "slot_id", "is on a later day than performed_at; log the session without a slot.", code="slot_not_yet"
        )
    return slot


def _version_at(plan: TrainingPlan, performed_at: datetime) -> TrainingPlanVersion:
    """The version in force at ``performed_at``: the latest made by then, else the first."""
    versions = TrainingPlanVersion.objects.filter(plan=plan)
    version = versions.filter(created_at__lte=performed_at).order_by("-number").first()
    version = version or versions.order_by("number").first()
    if version is None:
        raise InvalidInput("training_plan_id", "has nothing to train yet.", code="plan_not_active")
    return version


def _stored(session_log_id: UUID) -> SessionLog | None:
    return SessionLog.objects.filter(pk=session_log_id).first()


def _is_retry(existing: SessionLog, plan: TrainingPlan, fingerprint: str) -> bool:
    """Whether a stored log is what an upload asks for: the same citizen's, with the same content."""
    return existing.citizen_id == plan.citizen_id and existing.fingerprint == fingerprint


# --- Services ------------------------------------------------------------------------------------


@transaction.atomic
def session_log_record(
    *,
    plan: TrainingPlan,
    by: Actor,
    session_log_id: UUID,
    slot_id: UUID | None,
    performed_at: datetime,
    pain_before: int | None,
    pain_after: int | None,
    effort: int | None,
    note: str,
    exercises: list[dict[str, Any]],
    now: datetime | None = None,
) -> tuple[SessionLog, bool]:
    """Record a session of ``plan``'s citizen, by the citizen or by a relative with the logging grant.

    A session done while the plan was active is accepted after the plan was paused or ended, as a phone that
    was offline sends it; one done while it was paused or ended is refused. Returns the log and whether it
    was made now. A retry (same id, same content) returns the stored log and
    changes nothing, progression included. Each refusal names the field and stores nothing: ``id``
    (``id_reused``), ``training_plan_id`` (``plan_not_active``), ``performed_at``, ``slot_id``,
    ``exercises.<index>.exercise_id``; a slot already filled is a 409 (``slot_already_filled``).
    A slot it fills has its reminders (the citizen's, relatives', snoozed ones) cancelled with it. After the
    log is stored, the plan's progression rules are evaluated in the same transaction, and the event
    ``session_logged`` goes out on commit.
    """
    fingerprint = session_fingerprint(
        training_plan_id=plan.pk,
        slot_id=slot_id,
        performed_at=performed_at,
        pain_before=pain_before,
        pain_after=pain_after,
        effort=effort,
        note=note,
        exercises=exercises,
    )

    def create() -> SessionLog:
        performed_at_rule(performed_at, now or timezone.now())
        if not plan_active_at(plan, performed_at):
            raise InvalidInput(
                "training_plan_id", "was not an active training plan when the session was done.", code="plan_not_active"
            )
        slot = None if slot_id is None else _slot_to_fill(plan, slot_id, performed_at)
        version = slot.version if slot is not None else _version_at(plan, performed_at)
        rows = _exercise_rows(version, exercises)
        log = SessionLog.objects.create(
            id=session_log_id,
            citizen=plan.citizen,
            plan=plan,
            plan_version=version,
            slot=slot,
            performed_at=performed_at,
            pain_before=pain_before,
            pain_after=pain_after,
            effort=effort,
            note=note,
            logged_by=by.user,
            logged_by_role=rater_role(by),
            logged_by_name=by.user.display_name,
            fingerprint=fingerprint,
        )
        for row in rows:
            row.session_log = log
        SessionLogExercise.objects.bulk_create(rows)
        if slot is not None:
            slot.status = TrainingSlot.Status.DONE
            slot.save(update_fields=["status", "updated_at"])
            reminders_cancel(source_keys=[slot_reminder_key(slot.pk)])
        return log

    log, created = create_once(
        find=lambda: _stored(session_log_id),
        is_same=lambda existing: _is_retry(existing, plan, fingerprint),
        create=create,
        what="session",
    )
    if not created:
        read_logged(by, [plan.citizen_id], RESOURCE, log.pk)
        return log, False
    access_log_record(
        actor=by, citizens=[plan.citizen], resource_type=RESOURCE, action=Action.CREATE, resource_id=str(log.pk)
    )
    progression_evaluate(session_log=log)
    team_id = plan.episode.team_id
    transaction.on_commit(
        lambda: events.session_logged(
            session_log_id=log.pk, citizen_id=plan.citizen_id, plan_id=plan.pk, team_id=team_id
        )
    )
    return log, True


@transaction.atomic
def session_log_update(*, session_log: SessionLog, by: Actor, version: int, changes: dict[str, Any]) -> SessionLog:
    """Correct pain, effort, note or the exercises (all replaced) of a log, if nobody changed it since
    ``version`` was read (409 ``stale_version`` otherwise). The slot, the time and the plan version stay.
    Progression is not evaluated again: it judged the session as first reported; but pain corrected up to
    an exercise's stop level raises the alert as a first report would have."""
    require_version(session_log, version)
    changes = dict(changes)
    replaces_exercises = "exercises" in changes
    exercises = changes.pop("exercises", None)
    if replaces_exercises and not exercises:
        raise InvalidInput("exercises", "cannot be empty.")
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise InvalidInput(sorted(unknown)[0], "cannot be changed.")
    rows = None if exercises is None else _exercise_rows(session_log.plan_version, exercises)
    for name, value in changes.items():
        setattr(session_log, name, value)
    save_with_version(session_log, expected_version=version, update_fields=list(changes))
    if rows is not None:
        SessionLogExercise.objects.filter(session_log=session_log).delete()
        for row in rows:
            row.session_log = session_log
        SessionLogExercise.objects.bulk_create(rows)
    if rows is not None or {"pain_before", "pain_after"} & set(changes):
        progression_pain_check(session_log=session_log)
    access_log_record(
        actor=by,
        citizens=[session_log.citizen],
        resource_type=RESOURCE,
        action=Action.UPDATE,
        resource_id=str(session_log.pk),
    )
    return session_log
