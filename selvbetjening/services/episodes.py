"""Episodes: creation with contact person, evaluation task and scheduled questionnaires; edits,
status transitions, handovers and stand-ins."""

from datetime import date, timedelta
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from backend import care_events
from backend.access import active_care_relation_filter, is_active_care_member
from backend.actors import Actor
from backend.audit import access_log_record
from backend.concurrency import require_version, save_with_version
from backend.errors import Conflict, InvalidInput
from backend.models import AccessLogEntry, CareRelation, Citizen, Staff, Team
from backend.timeutil import municipal_today
from selvbetjening import events
from selvbetjening.models import (
    Episode,
    EpisodeContact,
    EpisodeStatusChange,
    EvaluationTask,
    FollowUpResult,
    Goal,
    QuestionnaireAssignment,
)
from selvbetjening.services.plans import training_plans_end_for_episode
from selvbetjening.services.questionnaires import (
    episode_questionnaires_reschedule,
    episode_questionnaires_schedule,
    questionnaire_reminders_cancel_for_episode,
)

Action = AccessLogEntry.Action
Status = Episode.Status
EVALUATION_LEAD_DAYS = 7
ENDING_SOON_DAYS = 7

TRANSITIONS: dict[str, frozenset[str]] = {
    Status.PLANNED: frozenset({Status.ACTIVE, Status.CANCELLED}),
    Status.ACTIVE: frozenset({Status.ON_HOLD, Status.COMPLETED, Status.CANCELLED}),
    Status.ON_HOLD: frozenset({Status.ACTIVE, Status.COMPLETED, Status.CANCELLED}),
    Status.COMPLETED: frozenset(),
    Status.CANCELLED: frozenset(),
}


def evaluation_due_on(start_date: date, planned_end_date: date) -> date:
    return max(start_date, planned_end_date - timedelta(days=EVALUATION_LEAD_DAYS))


def _log(actor: Actor, episode: Episode, action: str) -> None:
    access_log_record(
        actor=actor,
        citizens=[episode.citizen],
        resource_type="episode",
        action=action,
        resource_id=str(episode.pk),
    )


def _care_staff(staff_id: UUID, team: Team, field: str) -> Staff:
    staff = Staff.objects.select_related("user").filter(pk=staff_id).first()
    if staff is None or not is_active_care_member(staff, team):
        raise InvalidInput(field, "must be a member of the episode's care team.")
    return staff


def _period(start_date: date, planned_end_date: date) -> None:
    if planned_end_date < start_date:
        raise InvalidInput("planned_end_date", "must be on or after the start date.")


def _open(episode: Episode) -> None:
    if episode.status in (Status.COMPLETED, Status.CANCELLED):
        raise Conflict("The episode has ended.", code="episode_ended")


@transaction.atomic
def episode_create(
    *,
    by: Actor,
    citizen: Citizen,
    team_id: UUID,
    kind: str,
    title: str,
    start_date: date,
    planned_end_date: date,
    contact_person_id: UUID,
    response_working_days: int,
) -> Episode:
    """A new planned episode for a citizen in ``team``'s care, led by a contact person of that team.

    The evaluation task for the contact person and the episode's questionnaires are created with it.
    """
    if team_id not in by.care_team_ids():
        raise InvalidInput("team_id", "must be one of your care teams.")
    team = Team.objects.get(pk=team_id)
    if not CareRelation.objects.filter(active_care_relation_filter(prefix=""), citizen=citizen, team=team).exists():
        raise InvalidInput("team_id", "the team has no active care relation to the citizen.")
    _period(start_date, planned_end_date)
    contact = _care_staff(contact_person_id, team, "contact_person_id")
    episode = Episode.objects.create(
        citizen=citizen,
        team=team,
        kind=kind,
        title=title,
        start_date=start_date,
        planned_end_date=planned_end_date,
        response_working_days=response_working_days,
        created_by=by.user,
    )
    EpisodeStatusChange.objects.create(episode=episode, to_status=Status.PLANNED, changed_by=by.user)
    EpisodeContact.objects.create(
        episode=episode, staff=contact, role=EpisodeContact.Role.CONTACT_PERSON, assigned_by=by.user
    )
    EvaluationTask.objects.create(
        episode=episode, assignee=contact, due_on=evaluation_due_on(start_date, planned_end_date)
    )
    episode_questionnaires_schedule(episode=episode)
    _log(by, episode, Action.CREATE)
    return episode


@transaction.atomic
def episode_update(
    *,
    episode: Episode,
    by: Actor,
    version: int,
    title: str | None = None,
    planned_end_date: date | None = None,
    response_working_days: int | None = None,
) -> Episode:
    require_version(episode, version)
    _open(episode)
    fields = []
    if title is not None:
        episode.title = title
        fields.append("title")
    if response_working_days is not None:
        episode.response_working_days = response_working_days
        fields.append("response_working_days")
    if planned_end_date is not None:
        _period(episode.start_date, planned_end_date)
        if (
            episode.goals.exclude(lifecycle_status=Goal.LifecycleStatus.CANCELLED)
            .filter(due_date__gt=planned_end_date)
            .exists()
        ):
            raise InvalidInput("planned_end_date", "goals are due after this date; move their due dates first.")
        episode.planned_end_date = planned_end_date
        episode.ending_soon_notified_at = None
        fields += ["planned_end_date", "ending_soon_notified_at"]
        EvaluationTask.objects.filter(episode=episode, status=EvaluationTask.Status.OPEN).update(
            due_on=evaluation_due_on(episode.start_date, planned_end_date)
        )
        episode_questionnaires_reschedule(episode=episode)
    save_with_version(episode, expected_version=version, update_fields=fields)
    _log(by, episode, Action.UPDATE)
    return episode


@transaction.atomic
def episode_transition(
    *,
    episode: Episode,
    by: Actor,
    version: int,
    to_status: str,
    follow_up_result: str | None = None,
    note: str = "",
) -> Episode:
    """Move the episode along planned → active ⇄ on hold, then to completed (from active or on hold), or
    cancel it.

    Completing needs a follow-up result from the code list; ending closes the evaluation task and
    withdraws questionnaires not yet answered.
    """
    require_version(episode, version)
    from_status = episode.status
    if to_status not in TRANSITIONS[from_status]:
        raise Conflict(f"An episode cannot go from {from_status} to {to_status}.", code="illegal_transition")
    fields = ["status"]
    if to_status == Status.COMPLETED:
        result = FollowUpResult.objects.filter(pk=follow_up_result or "", is_active=True).first()
        if result is None:
            raise InvalidInput("follow_up_result", "a follow-up result from the code list (E1–E4) is required.")
        episode.follow_up_result = result
        episode.follow_up_note = note
        fields += ["follow_up_result", "follow_up_note"]
    elif follow_up_result:
        raise InvalidInput("follow_up_result", "is given only when the episode is completed.")
    episode.status = to_status
    if to_status in (Status.COMPLETED, Status.CANCELLED):
        episode.ended_on = municipal_today()
        fields.append("ended_on")
        task_status = EvaluationTask.Status.DONE if to_status == Status.COMPLETED else EvaluationTask.Status.CANCELLED
        EvaluationTask.objects.filter(episode=episode, status=EvaluationTask.Status.OPEN).update(
            status=task_status, completed_at=timezone.now()
        )
        QuestionnaireAssignment.objects.filter(episode=episode, status=QuestionnaireAssignment.Status.PENDING).update(
            status=QuestionnaireAssignment.Status.CANCELLED
        )
        questionnaire_reminders_cancel_for_episode(episode_id=episode.pk)
    save_with_version(episode, expected_version=version, update_fields=fields)
    if to_status in (Status.COMPLETED, Status.CANCELLED):
        # Its training plans end with it, and devices installed for it are to be fetched back
        # (welfare technology acts on this).
        training_plans_end_for_episode(episode_id=episode.pk, citizen_id=episode.citizen_id)
        care_events.episode_ended(episode_id=episode.pk, citizen_id=episode.citizen_id)
    EpisodeStatusChange.objects.create(
        episode=episode, from_status=from_status, to_status=to_status, note=note[:500], changed_by=by.user
    )
    _log(by, episode, Action.UPDATE)
    return episode


def _lock(episode: Episode) -> None:
    """Serialise changes of the episode's contacts behind a lock on the episode's row."""
    Episode.objects.select_for_update().filter(pk=episode.pk).values_list("pk").first()


def _open_contact(episode: Episode, role: str) -> EpisodeContact | None:
    return EpisodeContact.objects.select_for_update().filter(episode=episode, role=role, ended_at__isnull=True).first()


def _contact_add(*, episode: Episode, code: str, **fields: object) -> EpisodeContact:
    """Insert an open contact; losing a race to another open one of the same role is a 409."""
    try:
        with transaction.atomic():
            return EpisodeContact.objects.create(episode=episode, **fields)
    except IntegrityError as exc:
        raise Conflict("Someone else changed the episode's contacts at the same time; reload.", code=code) from exc


@transaction.atomic
def episode_contact_person_hand_over(*, episode: Episode, by: Actor, staff_id: UUID, reason: str) -> Episode:
    """Hand the episode to a new contact person; the old assignment stays in the history.

    A concurrent hand-over that got there first is a 409 ``contact_person_changed``.
    """
    _open(episode)
    staff = _care_staff(staff_id, episode.team, "staff_id")
    _lock(episode)
    current = _open_contact(episode, EpisodeContact.Role.CONTACT_PERSON)
    if current is not None and current.staff_id == staff.pk:
        raise InvalidInput("staff_id", "is already the contact person.")
    now = timezone.now()
    if current is not None:
        current.ended_at = now
        current.save(update_fields=["ended_at"])
    _contact_add(
        episode=episode,
        code="contact_person_changed",
        staff=staff,
        role=EpisodeContact.Role.CONTACT_PERSON,
        reason=reason,
        assigned_by=by.user,
    )
    EvaluationTask.objects.filter(episode=episode, status=EvaluationTask.Status.OPEN).update(assignee=staff)
    _log(by, episode, Action.UPDATE)
    return episode


@transaction.atomic
def episode_stand_in_set(*, episode: Episode, by: Actor, staff_id: UUID, until: date, reason: str) -> Episode:
    """Name a stand-in the citizen contacts while the contact person is away, up to ``until``."""
    _open(episode)
    staff = _care_staff(staff_id, episode.team, "staff_id")
    if until < municipal_today():
        raise InvalidInput("until", "must not be in the past.")
    if until > episode.planned_end_date:
        raise InvalidInput("until", "must be within the episode.")
    _lock(episode)
    EpisodeContact.objects.filter(episode=episode, role=EpisodeContact.Role.STAND_IN, ended_at__isnull=True).update(
        ended_at=timezone.now()
    )
    _contact_add(
        episode=episode,
        code="stand_in_changed",
        staff=staff,
        role=EpisodeContact.Role.STAND_IN,
        until=until,
        reason=reason,
        assigned_by=by.user,
    )
    _log(by, episode, Action.UPDATE)
    return episode


@transaction.atomic
def episode_stand_in_end(*, episode: Episode, by: Actor) -> Episode:
    ended = EpisodeContact.objects.filter(
        episode=episode, role=EpisodeContact.Role.STAND_IN, ended_at__isnull=True
    ).update(ended_at=timezone.now())
    if ended:
        _log(by, episode, Action.UPDATE)
    return episode


def episodes_ending_soon_notify(*, today: date | None = None) -> int:
    """Emit ``episode_ending_soon`` once for each running episode whose planned end is near.

    The entry point a daily task calls; safe to run twice.
    """
    today = today or municipal_today()
    due = Episode.objects.filter(
        status__in=[Status.ACTIVE, Status.ON_HOLD],
        planned_end_date__lte=today + timedelta(days=ENDING_SOON_DAYS),
        planned_end_date__gte=today,
        ending_soon_notified_at__isnull=True,
    )
    count = 0
    for episode in due:
        with transaction.atomic():
            claimed = Episode.objects.filter(pk=episode.pk, ending_soon_notified_at__isnull=True).update(
                ending_soon_notified_at=timezone.now()
            )
            if not claimed:
                continue
            contact = episode.contacts.filter(role=EpisodeContact.Role.CONTACT_PERSON, ended_at__isnull=True).first()
            # In the claiming transaction: the notice is stored with the claim or not at all.
            events.episode_ending_soon(
                episode_id=episode.pk,
                citizen_id=episode.citizen_id,
                contact_person_id=contact.staff_id if contact else "",
            )
            count += 1
    return count
