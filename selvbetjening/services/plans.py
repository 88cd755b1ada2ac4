"""Training plans: making, revising, pausing and ending them.

A plan's content lives in versions that never change once made: a revision makes version N+1 and
keeps the old ones. Its slots (``services.slots``) follow: a revision, a pause or an end cancels the
pending ones from now on, and a revision or a resume makes them again from the version then in force.
"""

from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from backend.actors import Actor
from backend.audit import access_log_record
from backend.concurrency import require_version, save_with_version
from backend.errors import Conflict, InvalidInput
from backend.models import AccessLogEntry
from backend.timeutil import municipal_today
from selvbetjening.models import (
    Episode,
    Exercise,
    PlanExercise,
    ProgrammeTemplateItem,
    TrainingPlan,
    TrainingPlanStatusChange,
    TrainingPlanVersion,
    TrainingSlot,
)
from selvbetjening.rules.dosage import MAX_EXERCISES, PRESCRIPTION_FIELDS, dosage_check, entry_complete
from selvbetjening.rules.schedule import validate_recurrence_rule, validate_schedule
from selvbetjening.selectors.episodes import TERMINAL
from selvbetjening.selectors.plans import exercises_for_plan, goals_for_plan, template_for_plan
from selvbetjening.services.slots import TRAINING_SLOTS_AHEAD, slots_cancel, slots_cancel_pending, slots_materialise

Action = AccessLogEntry.Action
PlanStatus = TrainingPlan.Status
SlotStatus = TrainingSlot.Status
RESOURCE = "training_plan"

EXERCISE_FIELDS = ("position", "instructions", *PRESCRIPTION_FIELDS)


# --- Checks and versions -------------------------------------------------------------------------


def _running(episode: Episode) -> None:
    if episode.status in TERMINAL:
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
    if len(entries) > MAX_EXERCISES:
        raise InvalidInput("exercises", f"at most {MAX_EXERCISES} exercises.")
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
    slots_cancel(TrainingSlot.objects.filter(plan__in=plans, status=SlotStatus.PENDING, scheduled_at__gte=now), now)
    return plans.update(status=PlanStatus.ENDED, slots_until=now, version=F("version") + 1, updated_at=now)
