"""Safe progression: after a session, advance, hold or stop each exercise by its rule.

An exercise's dosage advances only after ``progression_after_sessions`` (N) completed sessions at its
current dosage, and only if in each of the last N the reported pain (after the session, else before)
stayed at or below ``progression_max_pain`` and the effort within the band. The count starts at the
version in which the exercise's dosage last changed, so a revision that changes another exercise, the
schedule or the rule itself does not start it again.

Pain at or above an exercise's ``stop_pain_level`` stops the session's progression altogether and
raises one alert for the episode's contact person.
"""

from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from selvbetjening import events
from selvbetjening.models import (
    EpisodeContact,
    PlanExercise,
    ProgressionDecision,
    SessionLog,
    SessionLogExercise,
    TrainingAlert,
    TrainingPlan,
    TrainingPlanVersion,
    TrainingSlot,
)
from selvbetjening.rules.dosage import ADVANCED, advanced_dosage, dosage_of, progression_verdict
from selvbetjening.rules.slots import UPCOMING

Outcome = ProgressionDecision.Outcome
AT_MAXIMUM = "dosage_at_maximum"
PAIN_AT_STOP_LEVEL = "pain_at_stop_level"
STOPPED_IN_SESSION = "session_stopped_by_pain"
AUTOMATIC_NOTE = "Automatisk progression: "
CHANGE_NOTE_LENGTH = TrainingPlanVersion._meta.get_field("change_note").max_length or 500


def _effective_number(exercise_id: UUID, current: PlanExercise, history: dict[int, dict[UUID, tuple]]) -> int:
    """The number of the earliest version from which on the exercise's dosage has been what it is now."""
    dosage = dosage_of(current)
    effective = current.version.number
    for number in sorted((n for n in history if n < current.version.number), reverse=True):
        if history[number].get(exercise_id) != dosage:
            break
        effective = number
    return effective


def _recent_sessions(plan: TrainingPlan, exercise_id: UUID, since_number: int, count: int) -> list[SessionLog]:
    """The last ``count`` sessions (by when they were done) in which the exercise was completed against
    a version numbered ``since_number`` or later."""
    rows = (
        SessionLogExercise.objects.filter(
            session_log__plan=plan,
            exercise_id=exercise_id,
            is_completed=True,
            session_log__plan_version__number__gte=since_number,
        )
        .select_related("session_log")
        .order_by("-session_log__performed_at", "-session_log__created_at")[:count]
    )
    return [row.session_log for row in rows]


def _new_version(
    plan: TrainingPlan, current: TrainingPlanVersion, advanced: dict[UUID, dict], titles: list[str]
) -> TrainingPlanVersion:
    """Version N+1, made by the platform: the same schedule and exercises, the advanced ones at their
    new dosage. The plan moves to it, and its pending slots with it (the schedule did not change)."""
    note = (AUTOMATIC_NOTE + ", ".join(titles))[:CHANGE_NOTE_LENGTH]
    version = TrainingPlanVersion.objects.create(
        plan=plan,
        number=current.number + 1,
        recurrence_rule=current.recurrence_rule,
        start_date=current.start_date,
        start_time=current.start_time,
        end_date=current.end_date,
        time_zone=current.time_zone,
        grace_minutes=current.grace_minutes,
        change_note=note,
        created_by=None,
    )
    copied = []
    for item in current.exercises.all():
        values = {
            field.attname: getattr(item, field.attname)
            for field in PlanExercise._meta.concrete_fields
            if field.attname not in ("id", "version_id")
        }
        values.update(advanced.get(item.exercise_id, {}))
        copied.append(PlanExercise(version=version, **values))
    PlanExercise.objects.bulk_create(copied)
    now = timezone.now()
    TrainingPlan.objects.filter(pk=plan.pk).update(current_version=version, version=F("version") + 1, updated_at=now)
    TrainingSlot.objects.filter(UPCOMING.q(now), plan=plan).update(version=version, updated_at=now)
    return version


def _raise_pain_alert(plan: TrainingPlan, log: SessionLog, stopped: list[SessionLogExercise], pain: int) -> None:
    """One alert per session, for the episode's contact person; the event goes out once it is stored."""
    contact = (
        EpisodeContact.objects.filter(
            episode_id=plan.episode_id, role=EpisodeContact.Role.CONTACT_PERSON, ended_at__isnull=True
        )
        .values_list("staff_id", flat=True)
        .first()
    )
    try:
        with transaction.atomic():
            alert = TrainingAlert.objects.create(
                citizen_id=plan.citizen_id,
                episode_id=plan.episode_id,
                plan=plan,
                session_log=log,
                exercise_id=stopped[0].exercise_id,
                kind=TrainingAlert.Kind.PAIN_STOP,
                pain=pain,
                contact_person_id=contact,
            )
    except IntegrityError:
        return  # already raised for this session
    transaction.on_commit(
        lambda: events.training_alert_raised(
            alert_id=alert.pk, citizen_id=plan.citizen_id, contact_person_id=contact or ""
        )
    )


def at_stop_level(log: SessionLog, logged: list[SessionLogExercise]) -> tuple[int, list[SessionLogExercise]]:
    """The worst pain reported in the session and the exercises whose stop level it reached."""
    pains = [pain for pain in (log.pain_before, log.pain_after) if pain is not None]
    if not pains:
        return 0, []
    worst = max(pains)
    return worst, [entry for entry in logged if worst >= entry.plan_exercise.stop_pain_level]


def _logged_exercises(log: SessionLog) -> list[SessionLogExercise]:
    return list(log.exercises.select_related("plan_exercise", "exercise").order_by("plan_exercise__position", "id"))


def _stop(plan: TrainingPlan, log: SessionLog, logged: list[SessionLogExercise]) -> list[ProgressionDecision] | None:
    """When pain reached an exercise's stop level: ``stopped`` for those exercises, ``held`` for the
    session's others with a progression rule, and the alert. None when no stop level was reached."""
    decisions = _stop_decisions(plan, log, logged)
    return None if decisions is None else ProgressionDecision.objects.bulk_create(decisions)


def _stop_decisions(
    plan: TrainingPlan, log: SessionLog, logged: list[SessionLogExercise]
) -> list[ProgressionDecision] | None:
    """``_stop``'s decisions, unsaved, with the alert raised; None when no stop level was reached."""
    worst, stopped = at_stop_level(log, logged)
    if not stopped:
        return None
    decisions = [
        ProgressionDecision(
            plan=plan,
            plan_exercise=entry.plan_exercise,
            session_log=log,
            outcome=Outcome.STOPPED if entry in stopped else Outcome.HELD,
            reason=PAIN_AT_STOP_LEVEL if entry in stopped else STOPPED_IN_SESSION,
        )
        for entry in logged
        if entry in stopped or entry.plan_exercise.progression_after_sessions is not None
    ]
    _raise_pain_alert(plan, log, stopped, worst)
    return decisions


@transaction.atomic
def progression_evaluate(*, session_log: SessionLog) -> list[ProgressionDecision]:
    """Decide, after a stored session, for each exercise in it: advance, hold or stop, and record why.

    Evaluating a session that already has decisions changes nothing and returns them. When dosages
    advance, one new plan version (``created_by`` empty) holds all of them.
    """
    already = list(session_log.progression_decisions.all())
    if already:
        return already
    plan = TrainingPlan.objects.select_for_update().get(pk=session_log.plan_id)
    logged = _logged_exercises(session_log)
    stopped = _stop(plan, session_log, logged)
    if stopped is not None:
        return stopped
    if plan.current_version_id is None or plan.status != TrainingPlan.Status.ACTIVE:
        return []  # a paused or ended plan does not advance; a late session still raises its pain alert
    current = TrainingPlanVersion.objects.prefetch_related("exercises").get(pk=plan.current_version_id)
    current_items = {item.exercise_id: item for item in current.exercises.all()}
    candidates = [
        (entry, current_items[entry.exercise_id])
        for entry in logged
        if entry.is_completed
        and entry.exercise_id in current_items
        and current_items[entry.exercise_id].progression_after_sessions is not None
    ]
    if not candidates:
        return []
    history: dict[int, dict[UUID, tuple]] = {}
    for item in PlanExercise.objects.filter(
        version__plan=plan, exercise_id__in=[entry.exercise_id for entry, _ in candidates]
    ).select_related("version"):
        history.setdefault(item.version.number, {})[item.exercise_id] = dosage_of(item)
    for number in plan.versions.values_list("number", flat=True):
        history.setdefault(number, {})
    decisions: list[ProgressionDecision] = []
    advanced: dict[UUID, dict] = {}
    titles: list[str] = []
    for entry, rule in candidates:
        rule.version = current
        since = _effective_number(entry.exercise_id, rule, history)
        recent = _recent_sessions(plan, entry.exercise_id, since, rule.progression_after_sessions or 0)
        decisions.append(_decided(plan, entry, rule, recent, session_log, advanced, titles))
    _advance(plan, current, advanced, titles, decisions)
    return ProgressionDecision.objects.bulk_create(decisions)


def _decided(
    plan: TrainingPlan,
    entry: SessionLogExercise,
    rule: PlanExercise,
    recent: list[SessionLog],
    session_log: SessionLog,
    advanced: dict[UUID, dict],
    titles: list[str],
) -> ProgressionDecision:
    """The decision for one exercise of a session from its recent sessions; an advance is noted in
    ``advanced`` (the new dosage) and ``titles`` for the version that carries it."""
    reason = progression_verdict(rule, recent)
    if reason == ADVANCED:
        dosage = advanced_dosage(rule)
        if all(getattr(rule, name) == value for name, value in dosage.items()):
            reason = AT_MAXIMUM
        else:
            advanced[entry.exercise_id] = dosage
            titles.append(entry.exercise.title_da)
    return ProgressionDecision(
        plan=plan,
        plan_exercise=rule,
        session_log=session_log,
        outcome=Outcome.ADVANCED if reason == ADVANCED else Outcome.HELD,
        reason=reason,
    )


def _advance(
    plan: TrainingPlan,
    current: TrainingPlanVersion,
    advanced: dict[UUID, dict],
    titles: list[str],
    decisions: list[ProgressionDecision],
) -> TrainingPlanVersion | None:
    """The new version carrying the advanced dosages, linked from the decisions that advanced; None when
    nothing advanced."""
    if not advanced:
        return None
    version = _new_version(plan, current, advanced, titles)
    for decision in decisions:
        if decision.outcome == Outcome.ADVANCED:
            decision.new_version = version
    return version


@transaction.atomic
def progression_pain_check(*, session_log: SessionLog) -> bool:
    """After a correction of a stored session: pain now at an exercise's stop level raises the session's
    alert for the contact person (once per session, as on first report). The decisions already made stand.
    Returns whether the session is at a stop level."""
    logged = _logged_exercises(session_log)
    worst, stopped = at_stop_level(session_log, logged)
    if not stopped:
        return False
    _raise_pain_alert(TrainingPlan.objects.get(pk=session_log.plan_id), session_log, stopped, worst)
    return True


@transaction.atomic
def progression_evaluate_batch(
    *, plan_id: UUID, sessions: list[tuple[SessionLog, list[SessionLogExercise]]]
) -> list[ProgressionDecision]:
    """``progression_evaluate`` for a batch of new sessions of one plan (an offline phone's queue, each with
    its exercise rows, ``plan_exercise`` loaded), decided as if they had been uploaded one by one in the order
    they were done: each session is judged with the sessions stored before the batch and the batch's own
    done up to it. The plan's versions, rules and completed sessions are read once, not per session."""
    plan = TrainingPlan.objects.select_for_update().get(pk=plan_id)
    ordered = sorted(sessions, key=lambda item: (item[0].performed_at, item[0].created_at, str(item[0].pk)))
    batch_ids = {log.pk for log, _ in ordered}
    ruled = set(
        PlanExercise.objects.filter(version__plan=plan, progression_after_sessions__isnull=False).values_list(
            "exercise_id", flat=True
        )
    )
    numbers = dict(TrainingPlanVersion.objects.filter(plan=plan).values_list("pk", "number"))
    history: dict[int, dict[UUID, tuple]] = {number: {} for number in numbers.values()}
    for item in PlanExercise.objects.filter(version__plan=plan, exercise_id__in=ruled).select_related("version"):
        history.setdefault(item.version.number, {})[item.exercise_id] = dosage_of(item)
    # Completed exercises of the sessions stored before the batch: (exercise, session, version number).
    done: dict[UUID, list[tuple[SessionLog, int]]] = {}
    for row in (
        SessionLogExercise.objects.filter(session_log__plan=plan, exercise_id__in=ruled, is_completed=True)
        .exclude(session_log_id__in=batch_ids)
        .select_related("session_log")
    ):
        done.setdefault(row.exercise_id, []).append((row.session_log, numbers[row.session_log.plan_version_id]))
    current: TrainingPlanVersion | None = None
    decisions: list[ProgressionDecision] = []
    for log, unordered in ordered:
        logged = sorted(unordered, key=lambda entry: (entry.plan_exercise.position, str(entry.pk)))
        for entry in logged:
            if entry.is_completed and entry.exercise_id in ruled:
                done.setdefault(entry.exercise_id, []).append((log, numbers[log.plan_version_id]))
        stopped = _stop_decisions(plan, log, logged)
        if stopped is not None:
            decisions += stopped
            continue
        if plan.current_version_id is None or plan.status != TrainingPlan.Status.ACTIVE:
            continue
        if current is None or current.pk != plan.current_version_id:
            current = TrainingPlanVersion.objects.prefetch_related("exercises").get(pk=plan.current_version_id)
        current_items = {item.exercise_id: item for item in current.exercises.all()}
        candidates = [
            (entry, current_items[entry.exercise_id])
            for entry in logged
            if entry.is_completed
            and entry.exercise_id in current_items
            and current_items[entry.exercise_id].progression_after_sessions is not None
        ]
        made: list[ProgressionDecision] = []
        advanced: dict[UUID, dict] = {}
        titles: list[str] = []
        for entry, rule in candidates:
            rule.version = current
            since = _effective_number(entry.exercise_id, rule, history)
            count = rule.progression_after_sessions or 0
            recent = sorted(
                (session for session, number in done.get(entry.exercise_id, []) if number >= since),
                key=lambda session: (session.performed_at, session.created_at),
                reverse=True,
            )[:count]
            made.append(_decided(plan, entry, rule, recent, log, advanced, titles))
        version = _advance(plan, current, advanced, titles, made)
        if version is not None:
            plan.current_version_id = version.pk
            numbers[version.pk] = version.number
            history[version.number] = {
                item.exercise_id: dosage_of(item) for item in PlanExercise.objects.filter(version=version)
            }
        decisions += made
    return ProgressionDecision.objects.bulk_create(decisions)
