"""Training plans: making, revising, pausing and ending them, and the slots their schedules make.

A plan's content lives in versions that never change once made: a revision makes version N+1 and
keeps the old ones. Slots are made ahead from the current version's schedule (``TRAINING_SLOTS_AHEAD``);
a revision, a pause or an end cancels the plan's pending slots from now on, and a revision or a resume
makes them again from the version then in force. Slots already done or missed stay as they were.
"""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Q, QuerySet
from django.utils import timezone

from backend.actors import Actor
from backend.audit import access_log_record
from backend.concurrency import require_version, save_with_version
from backend.errors import Conflict, InvalidInput
from backend.models import AccessLogEntry, Citizen
from backend.timeutil import municipal_today
from notifications.services import ReminderSpec, reminders_cancel, reminders_schedule
from selvbetjening.models import (
    Episode,
    Exercise,
    NetworkGrant,
    PlanExercise,
    ProgrammeTemplateItem,
    TrainingPlan,
    TrainingPlanStatusChange,
    TrainingPlanVersion,
    TrainingSlot,
)
from selvbetjening.rules.dosage import PRESCRIPTION_FIELDS, dosage_check, entry_complete
from selvbetjening.rules.schedule import local_date, occurrences, validate_recurrence_rule, validate_schedule
from selvbetjening.rules.slots import UNSWEPT
from selvbetjening.selectors.network import grant_in_force_filter
from selvbetjening.selectors.plans import exercises_for_plan, goals_for_plan, template_for_plan

Action = AccessLogEntry.Action
PlanStatus = TrainingPlan.Status
SlotStatus = TrainingSlot.Status
RESOURCE = "training_plan"
TERMINAL_EPISODE = (Episode.Status.COMPLETED, Episode.Status.CANCELLED)

TRAINING_SLOTS_AHEAD = timedelta(days=14)
# The periodic job tops a plan up to TRAINING_SLOTS_AHEAD once fewer than this many days are left,
# so that each run touches only the plans that need it.
TRAINING_SLOTS_REFILL_BELOW = timedelta(days=7)
MAX_PLAN_EXERCISES = 40
EXERCISE_FIELDS = ("position", "instructions", *PRESCRIPTION_FIELDS)


# --- Rules ---------------------------------------------------------------------------------------


def _running(episode: Episode) -> None:
    if episode.status in TERMINAL_EPISODE:
        raise Conflict("The episode has ended.", code="episode_ended")


def _not_ended(plan: TrainingPlan) -> None:
    if plan.status == PlanStatus.ENDED:
        raise Conflict("The training plan has ended.", code="plan_ended")


def _exercise_entries(
    by: Actor, entries: list[dict[str, Any]], *, already_in_plan: set[UUID], carried_over: bool = False
) -> list[tuple[Exercise, dict[str, Any]]]:
    """Each entry checked and paired with its exercise; 422 naming the entry's field otherwise. Entries
    ``carried_over`` unchanged from the current version keep the dosage they were made with."""
    if not entries:
        raise InvalidInput("exercises", "give at least one exercise.")
    if len(entries) > MAX_PLAN_EXERCISES:
        raise InvalidInput("exercises", f"at most {MAX_PLAN_EXERCISES} exercises.")
    seen: set[UUID] = set()
    for index, entry in enumerate(entries):
        if entry["exercise_id"] in seen:
            raise InvalidInput(f"exercises.{index}.exercise_id", "is listed twice.")
        seen.add(entry["exercise_id"])
    exercises = exercises_for_plan(by, [entry["exercise_id"] for entry in entries], already_in_plan=already_in_plan)
    paired = []
    for index, entry in enumerate(entries):
        complete = {
            "position": index if entry.get("position") is None else entry["position"],
            "instructions": entry.get("instructions") or "",
            **entry_complete(entry),
        }
        if not carried_over:
            dosage_check(complete, prefix=f"exercises.{index}")
        paired.append((exercises[entry["exercise_id"]], complete))
    return paired


def _entries(items: Iterable[PlanExercise | ProgrammeTemplateItem]) -> list[dict[str, Any]]:
    """The entries of a template's items or a version's exercises, as a request would give them."""
    return [
        {"exercise_id": item.exercise_id, **{name: getattr(item, name) for name in EXERCISE_FIELDS}} for item in items
    ]


def _version(
    *,
    plan: TrainingPlan,
    episode: Episode,
    number: int,
    recurrence_rule: str,
    start_date: date,
    start_time: time,
    end_date: date,
    grace_minutes: int,
    change_note: str,
    by: Actor | None,
) -> TrainingPlanVersion:
    """An unsaved version with a checked schedule inside the episode."""
    version = TrainingPlanVersion(
        plan=plan,
        number=number,
        recurrence_rule=validate_recurrence_rule(recurrence_rule),
        start_date=start_date,
        start_time=start_time.replace(second=0, microsecond=0),
        end_date=end_date,
        time_zone=episode.citizen.time_zone,
        grace_minutes=grace_minutes,
        change_note=change_note,
        created_by=by.user if by is not None else None,
    )
    if not episode.start_date <= start_date <= episode.planned_end_date:
        raise InvalidInput("start_date", "must be within the episode.")
    if end_date > episode.planned_end_date:
        raise InvalidInput("end_date", "must be within the episode.")
    validate_schedule(version)
    return version


def _save_version(version: TrainingPlanVersion, entries: Iterable[tuple[Exercise, dict[str, Any]]]) -> None:
    version.save()
    PlanExercise.objects.bulk_create(
        PlanExercise(version=version, exercise=exercise, **{name: entry[name] for name in EXERCISE_FIELDS})
        for exercise, entry in entries
    )


def _log(actor: Actor, plan: TrainingPlan, action: str) -> None:
    access_log_record(
        actor=actor, citizens=[plan.citizen], resource_type=RESOURCE, action=action, resource_id=str(plan.pk)
    )


def _locked(plan: TrainingPlan) -> TrainingPlan:
    """The plan's row, locked for the rest of the transaction: the periodic slot job and progression
    take the same lock, so none of them makes slots from a version another is replacing."""
    return TrainingPlan.objects.select_for_update().select_related("citizen", "episode__citizen").get(pk=plan.pk)


# --- Slots ---------------------------------------------------------------------------------------


def slots_cancel_pending(*, plan: TrainingPlan, now: datetime) -> int:
    """Cancel the plan's pending slots from ``now`` on, and their reminders; those done, missed or
    earlier stay."""
    return _slots_cancel(TrainingSlot.objects.filter(plan=plan, status=SlotStatus.PENDING, scheduled_at__gte=now), now)


def _slots_cancel(pending: QuerySet[TrainingSlot], now: datetime) -> int:
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
    grace = timedelta(minutes=version.grace_minutes)
    rows = [
        TrainingSlot(
            plan=plan,
            version=version,
            citizen_id=plan.citizen_id,
            scheduled_at=instant,
            local_date=local_date(instant, version.time_zone),
            due_until=instant + grace,
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


def slots_mark_missed(*, now: datetime, batch_size: int | None = None) -> int:
    """Pending slots whose grace period has passed become missed, in one UPDATE (of at most
    ``batch_size`` rows when given); returns how many."""
    overdue = TrainingSlot.objects.filter(UNSWEPT.q(now))
    if batch_size is not None:
        # The condition is checked again by the UPDATE: a slot filled meanwhile stays done.
        overdue = overdue.filter(pk__in=list(overdue.values_list("pk", flat=True)[:batch_size]))
    return overdue.update(status=SlotStatus.MISSED, updated_at=now)


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
        .exclude(episode__status__in=TERMINAL_EPISODE)
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


# --- Reminders -----------------------------------------------------------------------------------
#
# A slot's reminders (the citizen's, and those of relatives whose grant in force lets them receive
# reminders) are scheduled once the slot comes within the reminder horizon (48 hours by default),
# not when the slot is made 14 days ahead: who may be reminded is decided by the grants of that
# moment. A grant given, changed or revoked reconciles the citizen's reminders in its own transaction,
# and the periodic job reconciles them every run, which catches grants whose time limit ran out. A slot
# made inside the horizon gets its reminders in the transaction that makes it; one done, cancelled or
# ended cancels them in its own.

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
        grant_in_force_filter(), citizen_id__in=citizen_ids, can_receive_reminders=True, relative__user__is_active=True
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


# --- Plans ---------------------------------------------------------------------------------------


@transaction.atomic
def training_plan_create(
    *,
    episode: Episode,
    by: Actor,
    title: str,
    goal_ids: list[UUID],
    template_id: UUID | None,
    recurrence_rule: str | None,
    start_time: time | None,
    start_date: date | None,
    end_date: date | None,
    grace_minutes: int,
    exercises: list[dict[str, Any]] | None,
    now: datetime | None = None,
) -> TrainingPlan:
    """A personal plan inside a running episode, tied to some of its goals, with its first version.

    What the request leaves out (schedule, start time, exercises) comes from the template when one is
    named; the period defaults to today (or the episode's start) through the episode's planned end. Its
    slots for the next ``TRAINING_SLOTS_AHEAD`` are made at once.
    """
    now = now or timezone.now()
    _running(episode)
    template = template_for_plan(by, template_id) if template_id is not None else None
    goals = goals_for_plan(episode.pk, goal_ids)
    rule = recurrence_rule or (template.recurrence_rule if template is not None else "")
    if not rule:
        raise InvalidInput("recurrence_rule", "is required (the template has no schedule).")
    start_time = start_time or (template.start_time if template is not None else None)
    if start_time is None:
        raise InvalidInput("start_time", "is required (the template has no start time).")
    if exercises is None:
        exercises = _entries(template.items.all()) if template is not None else []
    entries = _exercise_entries(by, exercises, already_in_plan=set())
    plan = TrainingPlan(
        episode=episode,
        citizen=episode.citizen,
        title=title,
        template=template,
        created_by=by.user,
    )
    version = _version(
        plan=plan,
        episode=episode,
        number=1,
        recurrence_rule=rule,
        start_date=start_date or max(municipal_today(), episode.start_date),
        start_time=start_time,
        end_date=end_date or episode.planned_end_date,
        grace_minutes=grace_minutes,
        change_note="",
        by=by,
    )
    plan.save()
    _save_version(version, entries)
    plan.current_version = version
    plan.save(update_fields=["current_version"])
    plan.goals.set(goals)
    slots_materialise(plan=plan, until=now + TRAINING_SLOTS_AHEAD, now=now)
    _log(by, plan, Action.CREATE)
    return plan


@transaction.atomic
def training_plan_revise(
    *,
    plan: TrainingPlan,
    by: Actor,
    version: int,
    recurrence_rule: str | None = None,
    start_time: time | None = None,
    start_date: date | None = None,
    end_date: date | None = None,
    grace_minutes: int | None = None,
    exercises: list[dict[str, Any]] | None = None,
    change_note: str = "",
    now: datetime | None = None,
) -> TrainingPlan:
    """Make version N+1 of the plan, if nobody changed the plan since ``version`` was read (409
    otherwise). What the request leaves out is kept from the current version. The plan's pending
    slots from now on are cancelled and made again from the new version; done and missed slots stay.
    """
    now = now or timezone.now()
    locked = _locked(plan)
    require_version(locked, version)
    _running(locked.episode)
    _not_ended(locked)
    assert locked.current_version_id is not None
    current = TrainingPlanVersion.objects.prefetch_related("exercises").get(pk=locked.current_version_id)
    entries = _exercise_entries(
        by,
        exercises if exercises is not None else _entries(current.exercises.all()),
        already_in_plan={item.exercise_id for item in current.exercises.all()},
        carried_over=exercises is None,
    )
    revision = _version(
        plan=locked,
        episode=locked.episode,
        number=(locked.versions.aggregate(last=Max("number"))["last"] or 0) + 1,
        recurrence_rule=recurrence_rule or current.recurrence_rule,
        start_date=start_date or current.start_date,
        start_time=start_time or current.start_time,
        end_date=end_date or current.end_date,
        grace_minutes=grace_minutes if grace_minutes is not None else current.grace_minutes,
        change_note=change_note,
        by=by,
    )
    _save_version(revision, entries)
    slots_cancel_pending(plan=locked, now=now)
    locked.current_version = revision
    locked.slots_until = now
    save_with_version(locked, expected_version=version, update_fields=["current_version", "slots_until"])
    slots_materialise(plan=locked, until=now + TRAINING_SLOTS_AHEAD, now=now)
    _log(by, locked, Action.UPDATE)
    return locked


@transaction.atomic
def training_plan_update(
    *,
    plan: TrainingPlan,
    by: Actor,
    version: int,
    title: str | None = None,
    goal_ids: list[UUID] | None = None,
    status: str | None = None,
    now: datetime | None = None,
) -> TrainingPlan:
    """Rename the plan, change its goals, or pause, resume or end it, if nobody changed it since
    ``version`` was read (409 otherwise). Pausing or ending cancels the pending slots from now on;
    resuming makes them again from now. An ended plan stays ended (409 ``plan_ended``)."""
    now = now or timezone.now()
    locked = _locked(plan)
    require_version(locked, version)
    _running(locked.episode)
    _not_ended(locked)
    goals = goals_for_plan(locked.episode_id, goal_ids) if goal_ids is not None else None
    fields = []
    if title is not None:
        locked.title = title
        fields.append("title")
    resumed = False
    if status is not None and status != locked.status:
        TrainingPlanStatusChange.objects.create(
            plan=locked, from_status=locked.status, to_status=status, changed_at=now, changed_by=by.user
        )
        if status in (PlanStatus.PAUSED, PlanStatus.ENDED):
            slots_cancel_pending(plan=locked, now=now)
        else:
            resumed = True
        locked.status = status
        locked.slots_until = now
        fields += ["status", "slots_until"]
    save_with_version(locked, expected_version=version, update_fields=fields)
    if goals is not None:
        locked.goals.set(goals)
    if resumed:
        slots_materialise(plan=locked, until=now + TRAINING_SLOTS_AHEAD, now=now)
    _log(by, locked, Action.UPDATE)
    return locked


def training_plans_end_for_episode(*, episode_id: UUID, citizen_id: UUID, now: datetime | None = None) -> int:
    """When an episode is completed or cancelled, its plans end with it and their pending slots from
    now on are cancelled, so they neither remind nor count as missed. Returns how many plans ended.

    Shaped as a ``backend.care_events.on_episode_ended`` handler; call it in the episode's transaction.
    """
    now = now or timezone.now()
    plans = TrainingPlan.objects.filter(episode_id=episode_id).exclude(status=PlanStatus.ENDED)
    TrainingPlanStatusChange.objects.bulk_create(
        TrainingPlanStatusChange(plan_id=plan_id, from_status=from_status, to_status=PlanStatus.ENDED, changed_at=now)
        for plan_id, from_status in plans.values_list("pk", "status")
    )
    _slots_cancel(TrainingSlot.objects.filter(plan__in=plans, status=SlotStatus.PENDING, scheduled_at__gte=now), now)
    return plans.update(status=PlanStatus.ENDED, slots_until=now, version=F("version") + 1, updated_at=now)
