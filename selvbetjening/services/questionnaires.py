"""Questionnaires: publishing versions, loading the shipped ones, scheduling, and answering."""

from collections.abc import Iterable
from datetime import date, time
from functools import partial
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from backend.actors import Actor
from backend.audit import access_log_record
from backend.client_ids import create_once
from backend.errors import Conflict, InvalidInput
from backend.models import AccessLogEntry, Citizen
from backend.timeutil import municipal_today
from notifications.services import ReminderSpec, reminder_due_at, reminders_cancel, reminders_schedule
from selvbetjening import events, shipped
from selvbetjening.models import (
    Episode,
    FollowUpResult,
    Questionnaire,
    QuestionnaireAssignment,
    QuestionnaireResponse,
    QuestionnaireVersion,
)
from selvbetjening.rules.questionnaires import (
    answers_validate,
    definition_parse,
    is_open,
    occasion_dates,
    open_q,
    score_compute,
)

Action = AccessLogEntry.Action
Occasion = QuestionnaireAssignment.Occasion


@transaction.atomic
def questionnaire_version_publish(
    *, questionnaire: Questionnaire, items: list[dict[str, Any]], scoring: dict[str, Any] | None
) -> QuestionnaireVersion:
    """Publish a new current version; earlier versions stay for the answers given to them."""
    definition = definition_parse(items, scoring)
    stored_items = [item.model_dump(mode="json", exclude_defaults=True) for item in definition.items]
    stored_scoring = definition.scoring.model_dump(mode="json") if definition.scoring else None
    Questionnaire.objects.select_for_update().filter(pk=questionnaire.pk).first()
    latest = questionnaire.versions.aggregate(number=Max("number"))["number"] or 0
    questionnaire.versions.filter(is_current=True).update(is_current=False)
    return QuestionnaireVersion.objects.create(
        questionnaire=questionnaire, number=latest + 1, items=stored_items, scoring=stored_scoring
    )


@transaction.atomic
def shipped_data_load() -> None:
    """Create or refresh the shipped code list and questionnaires; safe to run any number of times."""
    shipped.load(FollowUpResult, Questionnaire, QuestionnaireVersion)


# --- Reminders -----------------------------------------------------------------------------------

QUESTIONNAIRE_REMINDER = "reminder.questionnaire"
QUESTIONNAIRE_REMINDER_TIME = time(9, 0)


def questionnaire_reminder_key(assignment_id: UUID) -> str:
    return f"questionnaire:{assignment_id}"


def _reminders_schedule(assignments: Iterable[QuestionnaireAssignment]) -> int:
    """The citizen is reminded at 09:00 their time on the day a questionnaire opens (moved with it)."""
    assignments = [item for item in assignments if item.status == QuestionnaireAssignment.Status.PENDING]
    if not assignments:
        return 0
    citizens = {
        citizen_id: (user_id, time_zone)
        for citizen_id, user_id, time_zone in Citizen.objects.filter(
            pk__in={item.citizen_id for item in assignments}, user__is_active=True
        ).values_list("pk", "user_id", "time_zone")
    }
    return reminders_schedule(
        items=[
            ReminderSpec(
                recipient_id=citizens[item.citizen_id][0],
                kind=QUESTIONNAIRE_REMINDER,
                due_at=reminder_due_at(item.due_on, QUESTIONNAIRE_REMINDER_TIME, citizens[item.citizen_id][1]),
                source_key=questionnaire_reminder_key(item.pk),
                refs={"questionnaire_assignment_id": item.pk},
            )
            for item in assignments
            if item.citizen_id in citizens
        ]
    )


def questionnaire_reminders_cancel_for_episode(*, episode_id: UUID) -> int:
    """Cancel the reminders of an episode's questionnaires that are withdrawn (not pending any more)."""
    withdrawn = QuestionnaireAssignment.objects.filter(episode_id=episode_id).exclude(
        status=QuestionnaireAssignment.Status.PENDING
    )
    return reminders_cancel(
        source_keys=[questionnaire_reminder_key(pk) for pk in withdrawn.values_list("pk", flat=True)]
    )


def episode_questionnaires_schedule(*, episode: Episode) -> list[QuestionnaireAssignment]:
    """Send every questionnaire marked for episodes at the start, midway and end (inside the
    caller's transaction)."""
    versions = QuestionnaireVersion.objects.filter(
        is_current=True, questionnaire__is_active=True, questionnaire__schedule_with_episodes=True
    )
    assignments = QuestionnaireAssignment.objects.bulk_create(
        [
            QuestionnaireAssignment(
                citizen_id=episode.citizen_id,
                episode=episode,
                version=version,
                occasion=occasion,
                due_on=due_on,
            )
            for version in versions
            for occasion, due_on in occasion_dates(episode).items()
        ]
    )
    _reminders_schedule(assignments)
    return assignments


def episode_questionnaires_reschedule(*, episode: Episode) -> None:
    """Move the midway and end questionnaires not yet answered after a change of planned end."""
    dates = occasion_dates(episode)
    moved = (Occasion.EPISODE_MIDWAY, Occasion.EPISODE_END)
    for occasion in moved:
        QuestionnaireAssignment.objects.filter(
            episode=episode, occasion=occasion, status=QuestionnaireAssignment.Status.PENDING
        ).update(due_on=dates[occasion], due_notified_at=None)
    _reminders_schedule(
        QuestionnaireAssignment.objects.filter(
            episode=episode, occasion__in=moved, status=QuestionnaireAssignment.Status.PENDING
        ).only("pk", "citizen_id", "due_on", "status")
    )


@transaction.atomic
def questionnaire_assign(
    *, by: Actor, citizen: Citizen, episode: Episode | None, version: QuestionnaireVersion, due_on: date
) -> QuestionnaireAssignment:
    """Staff send a questionnaire to a citizen, optionally as part of an episode."""
    if due_on < municipal_today():
        raise InvalidInput("due_on", "must not be in the past.")
    if episode is not None:
        if episode.status in (Episode.Status.COMPLETED, Episode.Status.CANCELLED):
            raise Conflict("The episode has ended.", code="episode_ended")
        if not episode.start_date <= due_on <= episode.planned_end_date:
            raise InvalidInput("due_on", "must be within the episode.")
    assignment = QuestionnaireAssignment.objects.create(
        citizen=citizen,
        episode=episode,
        version=version,
        occasion=Occasion.STAFF,
        due_on=due_on,
        assigned_by=by.user,
    )
    _reminders_schedule([assignment])
    access_log_record(
        actor=by,
        citizens=[citizen],
        resource_type="questionnaire",
        action=Action.CREATE,
        resource_id=str(assignment.pk),
    )
    return assignment


@transaction.atomic
def questionnaire_answer(
    *, assignment: QuestionnaireAssignment, by: Actor, answers: list[dict[str, Any]], response_id: UUID | None
) -> tuple[QuestionnaireResponse, bool]:
    """Store the citizen's answers if they fit the version the questionnaire was sent in.

    Returns the response and whether it was created. Resending the same ``response_id`` with the same
    answers returns the stored one (``backend.client_ids``); the id with other answers, or used for
    another questionnaire, is 422 ``id_reused``; another answer to an answered questionnaire is 409
    ``already_answered``. Nothing is stored when any answer is wrong.
    """
    version = assignment.version
    definition = definition_parse(version.items, version.scoring)

    def stored_answers(accepted: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"link_id": link_id, "value": value} for link_id, value in accepted.items()]

    def create() -> QuestionnaireResponse:
        locked = QuestionnaireAssignment.objects.select_for_update().get(pk=assignment.pk)
        if QuestionnaireResponse.objects.filter(assignment=locked).exists():
            raise Conflict("This questionnaire is already answered.", code="already_answered")
        if locked.status != QuestionnaireAssignment.Status.PENDING:
            raise Conflict("This questionnaire is withdrawn.", code="questionnaire_withdrawn")
        if not is_open(locked, municipal_today()):
            raise Conflict("This questionnaire cannot be answered yet.", code="questionnaire_not_open")
        accepted = answers_validate(definition, answers)
        return QuestionnaireResponse.objects.create(
            id=response_id or None,
            assignment=locked,
            version=version,
            answers=stored_answers(accepted),
            score=score_compute(definition, accepted),
            submitted_by=by.user,
        )

    def is_same(existing: QuestionnaireResponse) -> bool:
        if existing.assignment_id != assignment.pk or existing.submitted_by_id != by.user.pk:
            return False
        try:
            return existing.answers == stored_answers(answers_validate(definition, answers))
        except InvalidInput:
            return False

    if response_id is None:
        response, created = create(), True
    else:
        response, created = create_once(
            find=lambda: QuestionnaireResponse.objects.filter(pk=response_id).first(),
            is_same=is_same,
            create=create,
            what="questionnaire response",
        )
    if not created:
        return response, False
    locked = response.assignment
    locked.status = QuestionnaireAssignment.Status.ANSWERED
    locked.save(update_fields=["status"])
    reminders_cancel(source_keys=[questionnaire_reminder_key(locked.pk)])
    access_log_record(
        actor=by,
        citizens=[assignment.citizen],
        resource_type="questionnaire_response",
        action=Action.CREATE,
        resource_id=str(response.pk),
    )
    return response, True


def questionnaires_due_notify(*, today: date | None = None) -> int:
    """Emit ``questionnaire_due`` once for each waiting questionnaire that is open to answer.

    The entry point a daily task calls; safe to run twice.
    """
    today = today or municipal_today()
    due = QuestionnaireAssignment.objects.filter(open_q(today), due_notified_at__isnull=True).values_list(
        "pk", "citizen_id"
    )
    count = 0
    for assignment_id, citizen_id in due:
        with transaction.atomic():
            claimed = QuestionnaireAssignment.objects.filter(pk=assignment_id, due_notified_at__isnull=True).update(
                due_notified_at=timezone.now()
            )
            if claimed:
                transaction.on_commit(
                    partial(events.questionnaire_due, assignment_id=assignment_id, citizen_id=citizen_id)
                )
                count += 1
    return count
