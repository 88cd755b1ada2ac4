"""Reminders from self-service: a training slot reminds the citizen (and relatives with the reminder grant)
at its local time, across daylight-saving changes; a slot done, a plan paused, revised or ended cancels
them; a questionnaire reminds at 09:00 local on the day it opens and stops once answered."""

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from backend.actors import Actor
from backend.models import AppSession
from backend.timeutil import municipal_today
from notifications.models import Notification, ReminderOccurrence
from notifications.reminders import reminders_dispatch_due
from notifications.services import reminder_due_at
from selvbetjening.models import NetworkGrant, TrainingPlan, TrainingSlot
from selvbetjening.services.plans import training_plans_end_for_episode
from selvbetjening.services.sessions import session_log_record
from selvbetjening.services.slot_reminders import slot_reminder_key
from selvbetjening.services.slots import slots_materialise, slots_materialise_ahead
from tests import factories as core
from tests.selvbetjening import factories
from tests.selvbetjening.training_factories import ExerciseFactory, make_plan

pytestmark = pytest.mark.django_db

Status = ReminderOccurrence.Status
PLANS = "/api/v1/training-plans"
COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def dispatch(now: datetime) -> int:
    return reminders_dispatch_due(now=now, worker_id="test")


def reminders_of(slot: TrainingSlot) -> dict[Any, tuple[str, str]]:
    """recipient → (kind, status) of the slot's reminders."""
    return {
        row.recipient_id: (row.kind, row.status)
        for row in ReminderOccurrence.objects.filter(source_key=slot_reminder_key(slot.pk))
    }


def monday_plan(world: Any) -> TrainingPlan:
    """Training every Monday at 10:00 Copenhagen time through 2026, no slots made yet."""
    episode = factories.EpisodeFactory(
        citizen=world.citizen, team=world.team, start_date=date(2026, 1, 5), planned_end_date=date(2026, 12, 28)
    )
    return make_plan(episode=episode, recurrence_rule="FREQ=WEEKLY;BYDAY=MO", start_time=time(10))


# --- Daylight saving -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("materialised_at", "reminded_at"),
    [
        # The clocks go forward on Sunday 29 March 2026: 10:00 CEST is 08:00 UTC on the Monday after.
        (datetime(2026, 3, 28, 12, tzinfo=UTC), datetime(2026, 3, 30, 8, tzinfo=UTC)),
        # They go back on Sunday 25 October 2026: 10:00 CET is 09:00 UTC on the Monday after.
        (datetime(2026, 10, 24, 12, tzinfo=UTC), datetime(2026, 10, 26, 9, tzinfo=UTC)),
    ],
)
def test_a_1000_slot_after_the_clocks_change_reminds_at_1000_local(world, materialised_at, reminded_at):
    plan = monday_plan(world)
    slots_materialise(plan=plan, until=materialised_at + timedelta(days=14), now=materialised_at)
    slot = plan.slots.get(scheduled_at=reminded_at)
    occurrence = ReminderOccurrence.objects.get(recipient=world.citizen.user, source_key=slot_reminder_key(slot.pk))
    assert occurrence.due_at == reminded_at
    assert occurrence.due_at.astimezone(COPENHAGEN).time() == time(10)
    assert dispatch(reminded_at - timedelta(seconds=1)) == 0
    assert dispatch(reminded_at) == 2  # the citizen and the relative with the reminder grant
    notification = Notification.objects.get(recipient=world.citizen.user)
    assert (notification.kind, notification.refs) == (
        "reminder.training",
        {"slot_id": str(slot.pk), "training_plan_id": str(plan.pk)},
    )


# --- Who is reminded -----------------------------------------------------------------------------


def test_relatives_with_the_reminder_grant_are_reminded_and_others_are_not(world):
    no_reminders = core.RelativeFactory()
    factories.NetworkGrantFactory(citizen=world.citizen, relative=no_reminders, can_receive_reminders=False)
    revoked = core.RelativeFactory()
    factories.NetworkGrantFactory(citizen=world.citizen, relative=revoked, revoked_at=timezone.now())
    expired = core.RelativeFactory()
    factories.NetworkGrantFactory(
        citizen=world.citizen, relative=expired, valid_until=timezone.now() - timedelta(days=1)
    )
    of_someone_else = core.RelativeFactory()
    factories.NetworkGrantFactory(citizen=world.other_citizen, relative=of_someone_else)

    plan = monday_plan(world)
    now = datetime(2026, 6, 6, 12, tzinfo=UTC)
    slots_materialise(plan=plan, until=now + timedelta(days=14), now=now)
    slot = plan.slots.order_by("scheduled_at").first()
    assert reminders_of(slot) == {
        world.citizen.user.pk: ("reminder.training", Status.SCHEDULED),
        world.relative_with_consent.user.pk: ("reminder.training_relative", Status.SCHEDULED),
    }
    assert dispatch(slot.scheduled_at) == 2
    cheer = Notification.objects.get(recipient=world.relative_with_consent.user)
    assert cheer.refs == {"citizen_id": str(world.citizen.pk), "slot_id": str(slot.pk)}
    assert "træning" in cheer.text_da and world.citizen.given_name not in cheer.text_da
    for relative in (no_reminders, revoked, expired, of_someone_else, world.relative_without_consent):
        assert not Notification.objects.filter(recipient=relative.user).exists()


def test_a_grant_withdrawn_or_given_after_scheduling_counts_from_the_next_periodic_run(world):
    plan = monday_plan(world)
    now = timezone.now()
    slot = TrainingSlot.objects.create(
        plan=plan,
        version=plan.current_version,
        citizen=world.citizen,
        scheduled_at=now + timedelta(hours=30),
        local_date=(now + timedelta(hours=30)).date(),
        due_until=now + timedelta(hours=38),
    )
    slots_materialise_ahead(now=now)
    assert set(reminders_of(slot)) == {world.citizen.user.pk, world.relative_with_consent.user.pk}

    NetworkGrant.objects.filter(relative=world.relative_with_consent).update(revoked_at=now)
    newcomer = core.RelativeFactory()
    factories.NetworkGrantFactory(citizen=world.citizen, relative=newcomer)
    slots_materialise_ahead(now=now + timedelta(minutes=5))
    assert reminders_of(slot) == {
        world.citizen.user.pk: ("reminder.training", Status.SCHEDULED),
        world.relative_with_consent.user.pk: ("reminder.training_relative", Status.CANCELLED),
        newcomer.user.pk: ("reminder.training_relative", Status.SCHEDULED),
    }


# --- The reminder horizon ------------------------------------------------------------------------


def test_slots_are_made_14_days_ahead_and_remind_once_within_48_hours(world):
    plan = monday_plan(world)
    now = datetime(2026, 6, 6, 12, tzinfo=UTC)  # a Saturday: Monday 8 June is 44 hours ahead
    slots_materialise(plan=plan, until=now + timedelta(days=14), now=now)
    first, second = plan.slots.order_by("scheduled_at")
    assert reminders_of(first)
    assert reminders_of(second) == {}

    later = now + timedelta(days=7)  # Saturday 13 June: Monday 15 June is 44 hours ahead
    slots_materialise_ahead(now=later)
    assert reminders_of(second)[world.citizen.user.pk] == ("reminder.training", Status.SCHEDULED)
    before = list(ReminderOccurrence.objects.order_by("pk").values_list("pk", "status", "due_at", "updated_at"))
    slots_materialise_ahead(now=later + timedelta(minutes=5))
    after = list(ReminderOccurrence.objects.order_by("pk").values_list("pk", "status", "due_at", "updated_at"))
    assert after == before


# --- Cancelled when the slot no longer needs it ----------------------------------------------------


def test_a_slot_done_before_its_time_sends_no_reminder(world):
    plan = monday_plan(world)
    now = datetime(2026, 6, 6, 12, tzinfo=UTC)
    slots_materialise(plan=plan, until=now + timedelta(days=14), now=now)
    slot = plan.slots.order_by("scheduled_at").first()
    performed_at = slot.scheduled_at - timedelta(hours=1)
    session_log_record(
        plan=plan,
        by=Actor(user=world.citizen.user, audience=AppSession.Audience.CITIZEN),
        session_log_id=uuid.uuid4(),
        slot_id=slot.pk,
        performed_at=performed_at,
        pain_before=1,
        pain_after=1,
        effort=4,
        note="",
        exercises=[
            {"exercise_id": item.exercise_id, "sets": item.sets, "repetitions": item.repetitions}
            for item in plan.current_version.exercises.all()
        ],
        now=performed_at,
    )
    assert {status for _, status in reminders_of(slot).values()} == {Status.CANCELLED}
    assert dispatch(slot.scheduled_at + timedelta(minutes=1)) == 0
    assert not Notification.objects.exists()


def create_daily_plan(world: Any, episode: Any) -> TrainingPlan:
    exercise = ExerciseFactory()
    response = world.client("staff_in_team").post(
        PLANS,
        {
            "episode_id": str(episode.pk),
            "title": "Hver dag",
            "recurrence_rule": "FREQ=DAILY",
            "start_time": "12:00",
            "exercises": [{"exercise_id": str(exercise.pk), "sets": 2, "repetitions": 10}],
        },
    )
    assert response.status_code == 201, response.content
    return TrainingPlan.objects.get(pk=response.json()["id"])


def scheduled(plan: TrainingPlan) -> set[Any]:
    keys = [slot_reminder_key(pk) for pk in plan.slots.values_list("pk", flat=True)]
    return set(
        ReminderOccurrence.objects.filter(source_key__in=keys, status=Status.SCHEDULED).values_list(
            "source_key", "recipient_id"
        )
    )


def test_pausing_a_plan_cancels_its_reminders_and_resuming_schedules_new_ones(world, episode):
    plan = create_daily_plan(world, episode)
    before = scheduled(plan)
    assert len(before) >= 2  # two or three daily slots within 48 hours, for the citizen and the relative
    staff = world.client("staff_in_team")
    assert staff.patch(f"{PLANS}/{plan.pk}", {"version": 1, "status": "paused"}).status_code == 200
    assert scheduled(plan) == set()
    assert not ReminderOccurrence.objects.filter(status=Status.SCHEDULED).exists()
    assert staff.patch(f"{PLANS}/{plan.pk}", {"version": 2, "status": "active"}).status_code == 200
    after = scheduled(plan)
    assert len(after) == len(before)
    assert not after & before  # the reminders of the new slots


def test_a_revision_moves_the_reminders_to_the_new_schedule(world, episode):
    plan = create_daily_plan(world, episode)
    response = world.client("staff_in_team").post(f"{PLANS}/{plan.pk}/versions", {"version": 1, "start_time": "18:15"})
    assert response.status_code == 201, response.content
    due = ReminderOccurrence.objects.filter(status=Status.SCHEDULED).values_list("due_at", flat=True)
    assert due
    assert {instant.astimezone(COPENHAGEN).time() for instant in due} == {time(18, 15)}
    live_slots = {slot_reminder_key(pk) for pk in plan.slots.filter(status="pending").values_list("pk", flat=True)}
    assert set(ReminderOccurrence.objects.filter(status=Status.SCHEDULED).values_list("source_key", flat=True)) <= (
        live_slots
    )


def test_an_episode_that_ends_cancels_its_plans_reminders(world, episode):
    plan = create_daily_plan(world, episode)
    assert scheduled(plan)
    training_plans_end_for_episode(episode_id=episode.pk, citizen_id=world.citizen.pk)
    assert scheduled(plan) == set()


def relatives_reminded(plan: TrainingPlan) -> set[Any]:
    return {recipient for _, recipient in scheduled(plan)} - {plan.citizen.user_id}


def test_a_grant_the_citizen_narrows_revokes_or_gives_changes_the_relatives_reminders_at_once(world, episode):
    plan = create_daily_plan(world, episode)
    relative = world.relative_with_consent
    assert relatives_reminded(plan) == {relative.user_id}
    grant = NetworkGrant.objects.get(citizen=world.citizen, relative=relative, revoked_at__isnull=True)
    citizen = world.client("citizen")
    grants = "/api/v1/me/network/grants"

    narrowed = citizen.patch(f"{grants}/{grant.pk}", {"scopes": ["view_progress"]})
    assert narrowed.status_code == 200, narrowed.content
    assert relatives_reminded(plan) == set()
    widened = citizen.patch(f"{grants}/{grant.pk}", {"scopes": ["view_progress", "receive_reminders"]})
    assert widened.status_code == 200, widened.content
    assert relatives_reminded(plan) == {relative.user_id}

    assert citizen.delete(f"{grants}/{grant.pk}").status_code == 204
    assert relatives_reminded(plan) == set()
    assert scheduled(plan)  # the citizen's own reminders stay

    invited = citizen.post(
        "/api/v1/me/network/invitations", {"label": "Datter", "scopes": ["view_progress", "receive_reminders"]}
    )
    assert invited.status_code == 201, invited.content
    accepted = world.client("relative_with_consent").post(
        "/api/v1/relative/invitations/accept", {"code": invited.json()["code"]}
    )
    assert accepted.status_code in (200, 201), accepted.content
    assert relatives_reminded(plan) == {relative.user_id}


def test_an_episode_cancelled_cancels_the_reminders_of_its_withdrawn_questionnaires(world, episode):
    due_on = municipal_today() + timedelta(days=3)
    staff = world.client("staff_in_team")
    created = staff.post(
        f"/api/v1/episodes/{episode.pk}/questionnaires", {"questionnaire_key": "pain", "due_on": str(due_on)}
    )
    assert created.status_code == 201, created.content
    reminder = ReminderOccurrence.objects.get(source_key=f"questionnaire:{created.json()['id']}")
    assert reminder.status == Status.SCHEDULED
    episode.refresh_from_db()
    cancelled = staff.post(
        f"/api/v1/episodes/{episode.pk}/transitions", {"version": episode.version, "status": "cancelled"}
    )
    assert cancelled.status_code == 200, cancelled.content
    reminder.refresh_from_db()
    assert reminder.status == Status.CANCELLED
    assert dispatch(reminder.due_at + timedelta(minutes=1)) == 0


# --- Questionnaires ------------------------------------------------------------------------------


def test_a_questionnaire_reminds_at_0900_local_on_its_day_and_not_once_answered(world, episode):
    due_on = municipal_today() + timedelta(days=3)
    response = world.client("staff_in_team").post(
        f"/api/v1/episodes/{episode.pk}/questionnaires", {"questionnaire_key": "pain", "due_on": str(due_on)}
    )
    assert response.status_code == 201, response.content
    assignment_id = response.json()["id"]
    occurrence = ReminderOccurrence.objects.get(source_key=f"questionnaire:{assignment_id}")
    assert (occurrence.recipient_id, occurrence.kind) == (world.citizen.user.pk, "reminder.questionnaire")
    assert occurrence.due_at == reminder_due_at(due_on, time(9), "Europe/Copenhagen")
    assert occurrence.refs == {"questionnaire_assignment_id": assignment_id}

    today = world.client("staff_in_team").post(
        f"/api/v1/episodes/{episode.pk}/questionnaires",
        {"questionnaire_key": "pain", "due_on": str(municipal_today())},
    )
    answered = world.client("citizen").post(
        f"/api/v1/me/questionnaires/{today.json()['id']}/response",
        {"answers": [{"link_id": "has_pain", "value": False}]},
    )
    assert answered.status_code == 201, answered.content
    cancelled = ReminderOccurrence.objects.get(source_key=f"questionnaire:{today.json()['id']}")
    assert cancelled.status == Status.CANCELLED
    assert dispatch(reminder_due_at(municipal_today(), time(9, 1), "Europe/Copenhagen")) == 0
