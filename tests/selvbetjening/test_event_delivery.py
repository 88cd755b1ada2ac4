"""Self-service events reach exactly the people they concern: by inbox, on their stream, and on the team's
live view; alerts and escalations go to the contact person and the staff on duty, or the whole care team."""

import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.core.management import call_command
from django.db import connections
from django.utils import timezone

from backend.models import Duty, Membership, StaffRole
from backend.timeutil import municipal_today
from config.asgi import application
from notifications.models import Notification, StreamEvent
from notifications.texts import DANISH_MONTHS
from selvbetjening import events
from selvbetjening.management.commands import notify_due
from selvbetjening.models import EpisodeContact, TrainingAlert
from selvbetjening.services.requests import requests_overdue_notify
from tests import factories as core
from tests.selvbetjening import factories
from tests.selvbetjening.training_factories import SessionLogFactory, make_plan

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
SESSIONS = "/api/v1/me/session-logs"


def recipients(kind: str) -> set[uuid.UUID]:
    return set(Notification.objects.filter(kind=kind).values_list("recipient_id", flat=True))


def users(*people: Any) -> set[uuid.UUID]:
    return {person.user.pk for person in people}


def care_staff(world: Any, team: Any, role: str = StaffRole.CARE_WORKER) -> Any:
    member = core.StaffFactory(municipality=world.municipality)
    core.MembershipFactory(staff=member, team=team, role=role)
    return member


def on_duty(staff: Any, team: Any, hours: float = 8) -> Duty:
    """On duty until ``hours`` from now (a negative number: a duty that has ended)."""
    until = timezone.now() + timedelta(hours=hours)
    return Duty.objects.create(staff=staff, team=team, started_at=until - timedelta(hours=12), until=until)


def session_body(plan: Any, **overrides: Any) -> dict[str, Any]:
    exercises = [
        {"exercise_id": str(item.exercise_id), "sets": item.sets, "repetitions": item.repetitions}
        for item in plan.current_version.exercises.order_by("position")
    ]
    body = {
        "id": str(uuid.uuid4()),
        "training_plan_id": str(plan.pk),
        "performed_at": (timezone.now() - timedelta(seconds=5)).isoformat(),
        "pain_before": 2,
        "pain_after": 3,
        "effort": 5,
        "exercises": exercises,
    }
    body.update(overrides)
    return body


@pytest.fixture
def plan(episode):
    return make_plan(episode=episode, exercises=2)


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """Run what the services hand to ``transaction.on_commit`` (the test's transaction never commits)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


# --- A logged session ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_logged_session_encourages_the_citizen_cheers_relatives_with_the_grant_and_reaches_the_team(
    world, plan, deliver
):
    without_progress = core.RelativeFactory()
    factories.NetworkGrantFactory(citizen=world.citizen, relative=without_progress, can_view_progress=False)
    revoked = core.RelativeFactory()
    factories.NetworkGrantFactory(citizen=world.citizen, relative=revoked, revoked_at=timezone.now())
    expired = core.RelativeFactory()
    factories.NetworkGrantFactory(
        citizen=world.citizen, relative=expired, valid_until=timezone.now() - timedelta(minutes=1)
    )
    other_citizens_relative = core.RelativeFactory()
    factories.NetworkGrantFactory(citizen=world.other_citizen, relative=other_citizens_relative)
    body = session_body(plan)

    with deliver():
        assert world.client("citizen").post(SESSIONS, body).status_code == 201

    assert recipients("session.encouragement") == users(world.citizen)
    assert recipients("session.cheer") == users(world.relative_with_consent)
    assert Notification.objects.count() == 2, "no inbox rows for the team or anyone else"
    cheer = Notification.objects.get(kind="session.cheer")
    assert cheer.refs == {"citizen_id": str(world.citizen.pk), "session_log_id": body["id"]}
    [team_event] = StreamEvent.objects.filter(team__isnull=False)
    assert (team_event.team_id, team_event.type) == (world.team.pk, "session.logged")
    assert team_event.payload == {
        "citizen_id": str(world.citizen.pk),
        "session_log_id": body["id"],
        "plan_id": str(plan.pk),
    }


@pytest.mark.django_db
def test_a_retried_upload_encourages_nobody_twice(world, plan, deliver):
    body = session_body(plan)
    with deliver():
        world.client("citizen").post(SESSIONS, body)
    with deliver():
        assert world.client("citizen").post(SESSIONS, body).status_code == 200
        events.session_logged(
            session_log_id=uuid.UUID(body["id"]), citizen_id=world.citizen.pk, plan_id=plan.pk, team_id=world.team.pk
        )
    assert Notification.objects.count() == 2
    assert StreamEvent.objects.filter(team=world.team).count() == 1


def at_noon(days_ago: int) -> datetime:
    today = timezone.now().astimezone(COPENHAGEN).date()
    return datetime.combine(today - timedelta(days=days_ago), time(12), tzinfo=COPENHAGEN).astimezone(UTC)


@pytest.mark.django_db
def test_a_first_session_is_encouraged_without_a_count(world, plan, deliver):
    with deliver():
        world.client("citizen").post(SESSIONS, session_body(plan))
    first = Notification.objects.get(kind="session.encouragement")
    assert (first.text_da, first.text_en) == (
        "Godt gået! Din træning er registreret.",
        "Well done! Your training has been recorded.",
    )


@pytest.mark.django_db
def test_the_encouragement_counts_the_days_in_a_row(world, plan, deliver):
    for days_ago in (1, 2, 4):  # a run of three days, today included; the day before it was a gap
        SessionLogFactory(plan=plan, performed_at=at_noon(days_ago))
    with deliver():
        world.client("citizen").post(SESSIONS, session_body(plan))
    encouragement = Notification.objects.get(kind="session.encouragement")
    assert encouragement.text_da == "Godt gået! Du har trænet 3 dage i træk."
    assert encouragement.text_en == "Well done! You have trained 3 days in a row."


@pytest.mark.django_db
def test_encouragement_and_cheers_come_once_a_day_the_team_sees_every_session(world, plan, deliver):
    with deliver():
        world.client("citizen").post(SESSIONS, session_body(plan))
        world.client("citizen").post(SESSIONS, session_body(plan))
    with deliver():  # a week done offline, synced at once
        for days_ago in range(1, 6):
            world.client("citizen").post(SESSIONS, session_body(plan, performed_at=at_noon(days_ago).isoformat()))
    assert recipients("session.encouragement") == users(world.citizen)
    assert Notification.objects.filter(kind="session.encouragement").count() == 1
    assert Notification.objects.filter(kind="session.cheer").count() == 1
    assert StreamEvent.objects.filter(team=world.team, type="session.logged").count() == 7


@pytest.mark.django_db
def test_a_session_a_relative_logs_is_not_cheered_back_to_them(world, plan, deliver):
    second_relative = core.RelativeFactory()
    factories.NetworkGrantFactory(citizen=world.citizen, relative=second_relative)
    with deliver():
        response = world.client("relative_with_consent").post(
            f"/api/v1/relative/citizens/{world.citizen.pk}/session-logs", session_body(plan)
        )
    assert response.status_code == 201
    assert recipients("session.encouragement") == users(world.citizen)
    assert recipients("session.cheer") == users(second_relative)


@pytest.mark.django_db
def test_texts_and_refs_name_nobody_and_no_health_detail(world, plan, deliver):
    with deliver():
        world.client("citizen").post(SESSIONS, session_body(plan, pain_after=9))
    names = {world.citizen.given_name, world.citizen.family_name, world.staff_in_team.user.display_name}
    for notification in Notification.objects.all():
        texts = (notification.text_da, notification.text_en, notification.push_text_da, notification.push_text_en)
        assert not any(name in text for name in names for text in texts)
        assert not any(word in text.lower() for word in ("smerte", "pain") for text in texts)
        assert all(key.endswith("_id") for key in notification.refs)


# --- Goals, requests, questionnaires, episodes ----------------------------------------------------


@pytest.mark.django_db
def test_a_goal_the_citizen_rates_reaches_the_contact_person_and_a_current_stand_in(world, episode, deliver):
    goal = factories.GoalFactory(episode=episode)
    stand_in = care_staff(world, world.team, StaffRole.THERAPIST)
    factories.EpisodeContactFactory(
        episode=episode, staff=stand_in, role=EpisodeContact.Role.STAND_IN, until=municipal_today()
    )
    on_duty(care_staff(world, world.team), world.team)

    with deliver():
        response = world.client("citizen").post(f"/api/v1/me/goals/{goal.pk}/ratings", {"gas_score": 1})

    assert response.status_code == 201
    assert recipients("goal.rated") == users(world.staff_in_team, stand_in)
    assert Notification.objects.get(recipient=stand_in.user).refs["rating_id"] == response.json()["id"]


@pytest.mark.django_db
def test_a_stand_in_whose_period_ended_is_not_told(world, episode, deliver):
    goal = factories.GoalFactory(episode=episode)
    stand_in = care_staff(world, world.team, StaffRole.THERAPIST)
    factories.EpisodeContactFactory(
        episode=episode, staff=stand_in, role=EpisodeContact.Role.STAND_IN, until=municipal_today() - timedelta(1)
    )
    with deliver():
        world.client("citizen").post(f"/api/v1/me/goals/{goal.pk}/ratings", {"gas_score": 1})
    assert recipients("goal.rated") == users(world.staff_in_team)


@pytest.mark.django_db
def test_a_goal_staff_rate_reaches_the_citizen_not_the_rater(world, episode, deliver):
    goal = factories.GoalFactory(episode=episode)
    with deliver():
        response = world.client("staff_in_team").post(f"/api/v1/goals/{goal.pk}/ratings", {"gas_score": 0})
    assert response.status_code == 201
    assert recipients("goal.rated") == users(world.citizen)


@pytest.mark.django_db
def test_a_reply_to_a_request_tells_the_citizen_once_per_answer(world, episode, deliver):
    request = factories.CitizenRequestFactory(citizen=world.citizen, team=world.team, episode=episode)
    url = f"/api/v1/staff/requests/{request.pk}/messages"
    with deliver():
        assert world.client("staff_in_team").post(url, {"text": "Vi kommer torsdag."}).status_code == 201
    assert recipients("request.answered") == users(world.citizen)
    assert Notification.objects.get().refs == {"request_id": str(request.pk)}

    with deliver():
        world.client("citizen").post(f"/api/v1/me/requests/{request.pk}/messages", {"text": "Tak, hvornår?"})
        world.client("staff_in_team").post(url, {"text": "Klokken ti."})
    assert Notification.objects.filter(kind="request.answered", recipient=world.citizen.user).count() == 2


@pytest.mark.django_db
def test_a_new_request_reaches_the_contact_person_and_the_staff_on_duty_once(world, episode, deliver):
    on_call = care_staff(world, world.team)
    off_duty = care_staff(world, world.team)
    on_duty(on_call, world.team)
    body = {"id": str(uuid.uuid4()), "category": "help", "text": "Min rollator knirker"}
    with deliver():
        assert world.client("citizen").post("/api/v1/me/requests", body).status_code == 201
    with deliver():
        assert world.client("citizen").post("/api/v1/me/requests", body).status_code == 200  # the phone's retry
    assert recipients("request.created") == users(world.staff_in_team, on_call)
    assert off_duty.user.pk not in recipients("request.created")
    assert Notification.objects.filter(kind="request.created", recipient=on_call.user).count() == 1
    notification = Notification.objects.get(kind="request.created", recipient=on_call.user)
    assert notification.refs == {"request_id": body["id"], "citizen_id": str(world.citizen.pk)}
    assert "rollator" not in notification.push_text_da + notification.push_text_en


@pytest.mark.django_db
def test_an_overdue_request_reaches_the_contact_person_and_the_staff_on_duty(world, episode, deliver):
    request = factories.CitizenRequestFactory(
        citizen=world.citizen, team=world.team, episode=episode, respond_by=timezone.now() - timedelta(hours=1)
    )
    on_call = care_staff(world, world.team)
    off_duty = care_staff(world, world.team)
    elsewhere = care_staff(world, world.other_team)
    on_duty(on_call, world.team)
    on_duty(elsewhere, world.other_team)
    on_duty(world.analyst, world.team)  # no care role in the team: never on duty

    with deliver():
        assert requests_overdue_notify() == 1

    assert recipients("request.overdue") == users(world.staff_in_team, on_call)
    assert off_duty.user.pk not in recipients("request.overdue")
    notification = Notification.objects.get(recipient=on_call.user)
    assert notification.refs == {"request_id": str(request.pk), "citizen_id": str(world.citizen.pk)}
    assert notification.push_text_en == "Something in Mestring needs your attention."


@pytest.mark.django_db
def test_an_overdue_request_with_no_contact_and_nobody_on_duty_reaches_the_teams_care_staff(world, deliver):
    factories.CitizenRequestFactory(
        citizen=world.citizen, team=world.team, episode=None, respond_by=timezone.now() - timedelta(hours=1)
    )
    colleague = care_staff(world, world.team, StaffRole.TEAM_LEAD)
    expired = care_staff(world, world.team)
    on_duty(expired, world.team, hours=-1)
    left_the_team = care_staff(world, world.team)
    on_duty(left_the_team, world.team)
    Membership.objects.filter(staff=left_the_team).update(valid_to=municipal_today() - timedelta(days=1))

    with deliver():
        requests_overdue_notify()

    assert recipients("request.overdue") == users(world.staff_in_team, colleague, expired)


@pytest.mark.django_db
def test_a_questionnaire_due_reaches_the_citizen_only(world, deliver):
    assignment = factories.QuestionnaireAssignmentFactory(citizen=world.citizen, due_on=municipal_today())
    factories.QuestionnaireAssignmentFactory(citizen=world.other_citizen, due_on=municipal_today() + timedelta(3))
    with deliver():
        events.questionnaire_due(assignment_id=assignment.pk, citizen_id=world.citizen.pk)
    assert recipients("questionnaire.due") == users(world.citizen)
    assert Notification.objects.get().push_text_da == "Du har en påmindelse i Mestring."


@pytest.mark.django_db
def test_an_episode_ending_soon_reaches_the_citizen_and_the_contact_person(world, episode, deliver):
    end = municipal_today() + timedelta(days=3)
    episode.planned_end_date = end
    episode.save(update_fields=["planned_end_date"])
    with deliver():
        events.episode_ending_soon(
            episode_id=episode.pk, citizen_id=world.citizen.pk, contact_person_id=world.staff_in_team.pk
        )
    assert recipients("episode.ending_soon") == users(world.citizen, world.staff_in_team)
    notification = Notification.objects.get(recipient=world.citizen.user)
    assert notification.text_da == f"Et forløb slutter {end.day}. {DANISH_MONTHS[end.month - 1]} {end.year}."


# --- Training alerts ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_pain_at_the_stop_level_reaches_the_contact_person_the_staff_on_duty_and_the_team(world, plan, deliver):
    on_call = care_staff(world, world.team)
    care_staff(world, world.team)  # off duty
    on_duty(care_staff(world, world.other_team), world.other_team)
    on_duty(on_call, world.team)

    with deliver():
        assert world.client("citizen").post(SESSIONS, session_body(plan, pain_after=8)).status_code == 201

    alert = TrainingAlert.objects.get()
    assert recipients("training_alert.raised") == users(world.staff_in_team, on_call)
    assert Notification.objects.filter(kind="training_alert.raised").first().refs == {
        "alert_id": str(alert.pk),
        "citizen_id": str(world.citizen.pk),
    }
    assert set(StreamEvent.objects.filter(team=world.team).values_list("type", flat=True)) == {
        "session.logged",
        "training_alert.raised",
    }
    assert not StreamEvent.objects.filter(team=world.other_team).exists()


@pytest.mark.django_db
def test_a_training_alert_without_contact_person_or_anyone_on_duty_reaches_the_care_team(world, plan, deliver):
    EpisodeContact.objects.filter(episode=plan.episode).update(ended_at=timezone.now())
    colleague = care_staff(world, world.team)
    with deliver():
        world.client("citizen").post(SESSIONS, session_body(plan, pain_after=8))
    assert recipients("training_alert.raised") == users(world.staff_in_team, colleague)


@pytest.mark.django_db
def test_a_training_alert_whose_contact_person_left_the_team_goes_to_the_staff_on_duty(world, plan, deliver):
    Membership.objects.filter(staff=world.staff_in_team).update(valid_to=municipal_today() - timedelta(days=1))
    on_call = care_staff(world, world.team)
    care_staff(world, world.team)
    on_duty(on_call, world.team)
    with deliver():
        world.client("citizen").post(SESSIONS, session_body(plan, pain_after=8))
    assert recipients("training_alert.raised") == users(on_call)


# --- The periodic run -----------------------------------------------------------------------------


@pytest.fixture
def due_things(world, episode):
    factories.CitizenRequestFactory(
        citizen=world.citizen, team=world.team, episode=episode, respond_by=timezone.now() - timedelta(days=2)
    )
    factories.QuestionnaireAssignmentFactory(citizen=world.citizen, due_on=municipal_today() - timedelta(days=1))
    episode.planned_end_date = municipal_today() + timedelta(days=2)
    episode.save(update_fields=["planned_end_date"])


def at_local(monkeypatch: pytest.MonkeyPatch, hour: int) -> None:
    moment = datetime.combine(municipal_today(), time(hour, 30), tzinfo=COPENHAGEN)
    monkeypatch.setattr(notify_due, "timezone", SimpleNamespace(now=lambda: moment))


@pytest.mark.django_db
def test_notify_due_run_twice_tells_everyone_once(world, due_things, deliver, monkeypatch):
    at_local(monkeypatch, 9)
    with deliver():
        call_command("notify_due", stdout=io.StringIO())
    first = sorted(Notification.objects.values_list("kind", "recipient_id"))
    assert first == sorted(
        [
            ("request.overdue", world.staff_in_team.user.pk),
            ("questionnaire.due", world.citizen.user.pk),
            ("episode.ending_soon", world.citizen.user.pk),
            ("episode.ending_soon", world.staff_in_team.user.pk),
        ]
    )
    with deliver():
        call_command("notify_due", stdout=io.StringIO())
    assert sorted(Notification.objects.values_list("kind", "recipient_id")) == first


@pytest.mark.django_db
def test_an_event_emitted_twice_makes_one_notification(world, episode, deliver):
    request = factories.CitizenRequestFactory(
        citizen=world.citizen, team=world.team, episode=episode, respond_by=timezone.now() - timedelta(days=2)
    )
    with deliver():
        events.request_overdue(request_id=request.pk, team_id=world.team.pk)
        events.request_overdue(request_id=request.pk, team_id=world.team.pk)
    assert Notification.objects.count() == 1


@pytest.mark.django_db
def test_citizens_are_not_told_before_eight_in_the_morning_but_staff_are(world, episode, deliver, monkeypatch):
    factories.CitizenRequestFactory(
        citizen=world.citizen, team=world.team, episode=episode, respond_by=timezone.now() - timedelta(days=2)
    )
    factories.QuestionnaireAssignmentFactory(citizen=world.citizen, due_on=municipal_today())
    at_local(monkeypatch, 6)
    with deliver():
        call_command("notify_due", stdout=io.StringIO())
    assert set(Notification.objects.values_list("kind", flat=True)) == {"request.overdue"}
    at_local(monkeypatch, 8)
    with deliver():
        call_command("notify_due", stdout=io.StringIO())
    assert recipients("questionnaire.due") == users(world.citizen)


# --- Live: the team's view and the citizen's stream -----------------------------------------------


@pytest.fixture
def fresh_channel_layer() -> Iterator[None]:
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


async def connect(token: str) -> WebsocketCommunicator:
    stream = WebsocketCommunicator(application, "/ws/v1/", headers=[(b"authorization", f"Bearer {token}".encode())])
    connected, _ = await stream.connect()
    assert connected
    assert (await stream.receive_json_from())["type"] == "hello"
    return stream


@pytest.mark.django_db(transaction=True)
async def test_a_logged_session_shows_on_the_teams_open_live_view_and_the_citizens_stream(world, fresh_channel_layer):
    plan = await database_sync_to_async(make_plan)(
        episode=await database_sync_to_async(factories.EpisodeFactory)(
            citizen=world.citizen, team=world.team, created_by=world.staff_in_team.user
        )
    )
    staff = await connect(world.tokens["staff_in_team"])
    await staff.send_json_to({"type": "subscribe", "team_id": str(world.team.pk)})
    assert (await staff.receive_json_from())["type"] == "subscribed"
    outsider = await connect(world.tokens["staff_out_of_team"])
    citizen = await connect(world.tokens["citizen"])
    log = await database_sync_to_async(SessionLogFactory)(plan=plan)

    # What ``session_log_record`` hands to ``transaction.on_commit`` (the API would also write the access
    # log, whose rows a transactional test cannot remove afterwards).
    await database_sync_to_async(events.session_logged)(
        session_log_id=log.pk, citizen_id=world.citizen.pk, plan_id=plan.pk, team_id=world.team.pk
    )

    frame = await staff.receive_json_from(timeout=2)
    assert frame["type"] == "team_event"
    assert (frame["team_id"], frame["kind"]) == (str(world.team.pk), "session.logged")
    assert frame["refs"]["session_log_id"] == str(log.pk)
    assert await staff.receive_nothing()
    assert await outsider.receive_nothing()
    notification = await citizen.receive_json_from(timeout=2)
    encouragement = await database_sync_to_async(Notification.objects.get)(kind="session.encouragement")
    assert notification["type"] == "notification" and notification["id"] == str(encouragement.pk)
    for stream in (staff, outsider, citizen):
        await stream.disconnect()
    await sync_to_async(connections.close_all)()
