"""Training slots: made ahead from a plan's current version, cancelled when it changes, missed when
their grace period passes unfilled.

Slots are made ``TRAINING_SLOTS_AHEAD`` ahead; a revision, a pause or an end cancels the plan's pending
slots from now on, and a revision or a resume makes them again from the version then in force. Slots
already done or missed stay as they were.
"""

from datetime import datetime, timedelta
from uuid import UUID

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from notifications.services import reminders_cancel
from selvbetjening.models import TrainingPlan, TrainingSlot
from selvbetjening.rules import slots as slot_rules
from selvbetjening.rules.schedule import local_date, occurrences
from selvbetjening.rules.slots import UNSWEPT
from selvbetjening.selectors.episodes import TERMINAL
from selvbetjening.services.missed_training import missed_training_alerts_raise
from selvbetjening.services.slot_reminders import (
    reminder_horizon,
    slot_reminder_key,
    slot_reminders_schedule,
    slot_reminders_schedule_ahead,
)

PlanStatus = TrainingPlan.Status
SlotStatus = TrainingSlot.Status

TRAINING_SLOTS_AHEAD = timedelta(days=14)
# The periodic job tops a plan up to TRAINING_SLOTS_AHEAD once fewer than this many days are left,
# so that each run touches only the plans that need it.
TRAINING_SLOTS_REFILL_BELOW = timedelta(days=7)


def slots_cancel_pending(*, plan: TrainingPlan, now: datetime) -> int:
    """Cancel the plan's pending slots from ``now`` on, and their reminders; those done, missed or
    earlier stay."""
    return slots_cancel(TrainingSlot.objects.filter(plan=plan, status=SlotStatus.PENDING, scheduled_at__gte=now), now)


def slots_cancel(pending: QuerySet[TrainingSlot], now: datetime) -> int:
    """Cancel these pending slots and their reminders; returns how many were still pending."""
    slot_ids = list(pending.values_list("pk", flat=True))
    if not slot_ids:
        return 0
    reminders_cancel(source_keys=[slot_reminder_key(slot_id) for slot_id in slot_ids])
    return TrainingSlot.objects.filter(pk__in=slot_ids, status=SlotStatus.PENDING).update(
        status=SlotStatus.CANCELLED, updated_at=now
    )


def slots_materialise(*, plan: TrainingPlan, until: datetime, now: datetime | None = None) -> int:
    """Make the slots of the plan's current version from where the last run stopped (``slots_until``,
    or now for a plan without slots yet) up to ``until``; returns how many were made.

    Safe to run again: a time that already has a live slot gets no second one (the database refuses
    one too, so a concurrent run cannot double it). Only an active plan gets slots.
    """
    now = now or timezone.now()
    version = plan.current_version
    if plan.status != PlanStatus.ACTIVE or version is None:
        return 0
    start = plan.slots_until or now
    if until <= start:
        return 0
    instants = occurrences(version, start, until)
    taken = set(
        TrainingSlot.objects.filter(plan=plan, scheduled_at__gte=start, scheduled_at__lt=until)
        .exclude(status=SlotStatus.CANCELLED)
        .values_list("scheduled_at", flat=True)
    )
    rows = [
        TrainingSlot(
            plan=plan,
            version=version,
            citizen_id=plan.citizen_id,
            scheduled_at=instant,
            local_date=local_date(instant, version.time_zone),
            due_until=slot_rules.due_until(instant, version.grace_minutes),
        )
        for instant in instants
        if instant not in taken
    ]
    TrainingSlot.objects.bulk_create(rows, ignore_conflicts=True)
    TrainingPlan.objects.filter(pk=plan.pk).update(slots_until=until)
    plan.slots_until = until
    if rows:
        slot_reminders_schedule(
            TrainingSlot.objects.filter(
                plan=plan, status=SlotStatus.PENDING, scheduled_at__gte=now, scheduled_at__lt=now + reminder_horizon()
            )
        )
    return len(rows)


@transaction.atomic
def slots_mark_missed(*, now: datetime, batch_size: int | None = None) -> int:
    """Pending slots whose grace period has passed become missed, in one UPDATE (of at most
    ``batch_size`` rows when given); returns how many. In the same transaction, a plan whose run of
    missed slots has grown long enough raises its missed-training alert (``missed_training``)."""
    overdue = TrainingSlot.objects.filter(UNSWEPT.q(now))
    found = overdue.values_list("pk", "plan_id")
    rows = list(found if batch_size is None else found[:batch_size])
    if not rows:
        return 0
    # The condition is checked again by the UPDATE: a slot filled meanwhile stays done.
    marked = overdue.filter(pk__in=[slot_id for slot_id, _ in rows]).update(status=SlotStatus.MISSED, updated_at=now)
    if marked:
        missed_training_alerts_raise(plan_ids={plan_id for _, plan_id in rows})
    return marked


def slots_materialise_ahead(*, now: datetime, batch_size: int = 200) -> int:
    """Top up every active plan of a running episode whose slots end within
    ``TRAINING_SLOTS_REFILL_BELOW``, ``batch_size`` plans per query, each in its own transaction; then
    the reminders of the slots coming within the reminder horizon (``slot_reminders_schedule_ahead``)."""
    made = _slots_materialise_plans(now=now, batch_size=batch_size)
    slot_reminders_schedule_ahead(now=now, batch_size=max(batch_size, 1))
    return made


def _slots_materialise_plans(*, now: datetime, batch_size: int) -> int:
    made = 0
    until = now + TRAINING_SLOTS_AHEAD
    due = (
        TrainingPlan.objects.filter(status=PlanStatus.ACTIVE, current_version__isnull=False)
        .exclude(episode__status__in=TERMINAL)
        .filter(Q(slots_until__isnull=True) | Q(slots_until__lt=now + TRAINING_SLOTS_REFILL_BELOW))
        .order_by("pk")
    )
    after: UUID | None = None
    while True:
        batch = due if after is None else due.filter(pk__gt=after)
        ids = list(batch.values_list("pk", flat=True)[:batch_size])
        if not ids:
            return made
        for plan_id in ids:
            with transaction.atomic():
                plan = (
                    # Only the plan row: its version is joined by a nullable key, which cannot be locked.
                    TrainingPlan.objects.select_for_update(of=("self",))
                    .select_related("current_version")
                    .filter(pk=plan_id, status=PlanStatus.ACTIVE)
                    .first()
                )
                if plan is not None:
                    made += slots_materialise(plan=plan, until=until, now=now)
        after = ids[-1]
