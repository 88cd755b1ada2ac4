"""Missed training: a run of missed slots raises a training alert for the contact person.

A *run* is the plan's missed slots since its last activity: the latest session logged against the plan
(on a slot or ad hoc) or the latest slot done, whichever is later. Cancelled slots (a pause, a revision)
neither count nor end a run. Once a run reaches ``MISSED_TRAINING_ALERT_AFTER`` slots (a setting; 0 turns
the rule off) one alert of kind ``missed_training`` is raised, named by the run's first slot, so a run
raises it once however long it grows; a session logged starts a new run. The alert reaches the contact
person and the team as a pain alert does (``events.training_alert_raised``).

The rule is evaluated where slots become missed (``slots.slots_mark_missed``, run by ``training_slots``),
in the same transaction, for the plans whose slots it marked: a run grows only there.
"""

import functools
from collections.abc import Iterable
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery

from selvbetjening import events
from selvbetjening.models import EpisodeContact, SessionLog, TrainingAlert, TrainingPlan, TrainingSlot
from selvbetjening.selectors.episodes import TERMINAL

SlotStatus = TrainingSlot.Status


def missed_training_alert_after() -> int:
    """How many missed slots in a row raise the alert; 0 or less: never."""
    return int(getattr(settings, "MISSED_TRAINING_ALERT_AFTER", 3))


def _plans_with_last_activity(plan_ids: Iterable[UUID]) -> list[TrainingPlan]:
    last_logged = SessionLog.objects.filter(plan=OuterRef("pk")).order_by("-performed_at").values("performed_at")[:1]
    last_done = (
        TrainingSlot.objects.filter(plan=OuterRef("pk"), status=SlotStatus.DONE)
        .order_by("-scheduled_at")
        .values("scheduled_at")[:1]
    )
    return list(
        TrainingPlan.objects.filter(pk__in=list(plan_ids), status=TrainingPlan.Status.ACTIVE)
        .exclude(episode__status__in=TERMINAL)
        .annotate(last_logged=Subquery(last_logged), last_done=Subquery(last_done))
        .order_by("pk")
    )


def _run_since(plan: TrainingPlan, threshold: int) -> tuple[UUID, int] | None:
    """The first slot and the length of the plan's current run of misses, when it is ``threshold`` long."""
    activity = [moment for moment in (plan.last_logged, plan.last_done) if moment is not None]  # type: ignore[attr-defined]
    missed = TrainingSlot.objects.filter(plan=plan, status=SlotStatus.MISSED)
    if activity:
        missed = missed.filter(scheduled_at__gt=max(activity))
    first = list(missed.order_by("scheduled_at", "pk").values_list("pk", flat=True)[:threshold])
    if len(first) < threshold:
        return None
    return first[0], missed.count()


def _contact_person_id(plan: TrainingPlan) -> UUID | None:
    return (
        EpisodeContact.objects.filter(
            episode_id=plan.episode_id, role=EpisodeContact.Role.CONTACT_PERSON, ended_at__isnull=True
        )
        .values_list("staff_id", flat=True)
        .first()
    )


def missed_training_alerts_raise(*, plan_ids: Iterable[UUID]) -> list[TrainingAlert]:
    """Raise the missed-training alert for each of these plans whose current run of misses is long enough
    and has none yet; returns the alerts raised. The events go out once the transaction commits."""
    threshold = missed_training_alert_after()
    if threshold <= 0:
        return []
    raised: list[TrainingAlert] = []
    for plan in _plans_with_last_activity(set(plan_ids)):
        run = _run_since(plan, threshold)
        if run is None:
            continue
        first_slot_id, length = run
        kind = TrainingAlert.Kind.MISSED_TRAINING
        if TrainingAlert.objects.filter(first_missed_slot_id=first_slot_id, kind=kind).exists():
            continue
        contact = _contact_person_id(plan)
        try:
            with transaction.atomic():
                alert = TrainingAlert.objects.create(
                    citizen_id=plan.citizen_id,
                    episode_id=plan.episode_id,
                    plan=plan,
                    first_missed_slot_id=first_slot_id,
                    missed_slots=min(length, 32767),
                    kind=TrainingAlert.Kind.MISSED_TRAINING,
                    contact_person_id=contact,
                )
        except IntegrityError:
            continue  # raised meanwhile by another run of the job
        raised.append(alert)
        transaction.on_commit(
            functools.partial(
                events.training_alert_raised,
                alert_id=alert.pk,
                citizen_id=alert.citizen_id,
                contact_person_id=contact or "",
            )
        )
    return raised
