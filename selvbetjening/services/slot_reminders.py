"""Reminders of training slots, for the citizen and for relatives whose grant lets them receive them.

A slot's reminders are scheduled once the slot comes within the reminder horizon (48 hours by default),
not when the slot is made 14 days ahead: who may be reminded is decided by the grants of that moment. A
grant given, changed or revoked reconciles the citizen's reminders in its own transaction, and the
periodic job reconciles them every run, which catches grants whose time limit ran out. A slot made
inside the horizon gets its reminders in the transaction that makes it; one done, cancelled or ended
cancels them in its own.
"""

from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from backend.models import Citizen
from notifications.services import ReminderSpec, reminders_schedule
from selvbetjening.models import NetworkGrant, TrainingPlan, TrainingSlot
from selvbetjening.selectors.network import RECEIVE_REMINDERS, grant_in_force_filter

PlanStatus = TrainingPlan.Status
SlotStatus = TrainingSlot.Status

TRAINING_REMINDER = "reminder.training"
TRAINING_REMINDER_RELATIVE = "reminder.training_relative"


def reminder_horizon() -> timedelta:
    horizon: timedelta = settings.REMINDER_HORIZON
    return horizon


def slot_reminder_key(slot_id: UUID) -> str:
    return f"slot:{slot_id}"


def slot_reminders_schedule(slots: QuerySet[TrainingSlot]) -> int:
    """Schedule (or move) the reminders of these slots at their time, for the citizen and the relatives
    with the reminder grant in force, and cancel those of anybody else. Constant queries."""
    rows = list(slots.values_list("pk", "plan_id", "citizen_id", "scheduled_at", "due_until"))
    if not rows:
        return 0
    citizen_ids = {citizen_id for _, _, citizen_id, _, _ in rows}
    users = dict(Citizen.objects.filter(pk__in=citizen_ids, user__is_active=True).values_list("pk", "user_id"))
    relatives: dict[UUID, set[UUID]] = {}
    for granting_citizen_id, relative_user_id in NetworkGrant.objects.filter(
        grant_in_force_filter(scope=RECEIVE_REMINDERS), citizen_id__in=citizen_ids, relative__user__is_active=True
    ).values_list("citizen_id", "relative__user_id"):
        relatives.setdefault(granting_citizen_id, set()).add(relative_user_id)
    specs: list[ReminderSpec] = []
    for slot_id, plan_id, citizen_id, scheduled_at, due_until in rows:
        key = slot_reminder_key(slot_id)
        user_id = users.get(citizen_id)
        if user_id is not None:
            specs.append(
                ReminderSpec(
                    recipient_id=user_id,
                    kind=TRAINING_REMINDER,
                    due_at=scheduled_at,
                    source_key=key,
                    refs={"slot_id": slot_id, "training_plan_id": plan_id},
                    expires_at=due_until,
                )
            )
        specs.extend(
            ReminderSpec(
                recipient_id=relative_user_id,
                kind=TRAINING_REMINDER_RELATIVE,
                due_at=scheduled_at,
                source_key=key,
                refs={"citizen_id": citizen_id, "slot_id": slot_id},
                expires_at=due_until,
            )
            for relative_user_id in sorted(relatives.get(citizen_id, ()))
        )
    return reminders_schedule(items=specs, exclusive=True)


def citizen_slot_reminders_reconcile(*, citizen_id: UUID, now: datetime | None = None) -> int:
    """Bring the reminders of a citizen's slots within the horizon in line with the grants in force now:
    a relative whose grant was revoked, expired or lost the reminder scope has theirs cancelled, and one
    who just got it has them scheduled. Called in the transaction that changes a grant."""
    now = now or timezone.now()
    pending = TrainingSlot.objects.select_for_update(of=("self",)).filter(
        citizen_id=citizen_id,
        status=SlotStatus.PENDING,
        plan__status=PlanStatus.ACTIVE,
        scheduled_at__gte=now,
        scheduled_at__lt=now + reminder_horizon(),
    )
    return slot_reminders_schedule(pending)


def slot_reminders_schedule_ahead(*, now: datetime, batch_size: int = 500) -> int:
    """Schedule the reminders of every pending slot of an active plan due within the reminder horizon,
    and reconcile them with the grants in force; ``batch_size`` slots per transaction. Safe to run
    again: a reminder already scheduled is left as it is. Returns how many reminders were made or changed.

    Each batch locks its slots, so a session filling one of them waits and then cancels its reminders,
    instead of the reminders being scheduled again after it."""
    changed = 0
    window = TrainingSlot.objects.filter(
        status=SlotStatus.PENDING,
        plan__status=PlanStatus.ACTIVE,
        scheduled_at__gte=now,
        scheduled_at__lt=now + reminder_horizon(),
    ).order_by("pk")
    after: UUID | None = None
    while True:
        batch = window if after is None else window.filter(pk__gt=after)
        ids = list(batch.values_list("pk", flat=True)[:batch_size])
        if not ids:
            return changed
        with transaction.atomic():
            locked = TrainingSlot.objects.select_for_update(of=("self",)).filter(pk__in=ids, status=SlotStatus.PENDING)
            changed += slot_reminders_schedule(locked)
        after = ids[-1]
