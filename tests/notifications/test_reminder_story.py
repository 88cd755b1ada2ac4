"""Issue 6's story from end to end: a citizen's phone gets a reminder at 10:00 local time on the Monday after
the clocks go forward, by websocket while the app is open and by push when it is not; the citizen
acknowledges it and logs the session; the therapist's open live view shows the session a moment later."""

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

import django.utils.timezone
import pytest
from channels.db import database_sync_to_async

from config.asgi import application
from notifications.models import Notification, PushDelivery
from notifications.reminders import reminder_pushes_send, reminders_dispatch_due
from selvbetjening.models import NetworkGrant, TrainingSlot
from selvbetjening.services.slots import slots_materialise_ahead
from tests.conftest import access_token_for
from tests.notifications.communicator import StreamCommunicator
from tests.notifications.conftest import install_for
from tests.selvbetjening import factories
from tests.selvbetjening.training_factories import make_plan

# The clocks went forward on Sunday 30 March 2025; 10:00 CEST on Monday 31 March was 08:00 UTC. (A spring
# more than a year back: the access-log rows the story writes may then be removed after the test.)
BEFORE_THE_CHANGE = datetime(2025, 3, 29, 12, 0, tzinfo=UTC)
MONDAY_1000_LOCAL = datetime(2025, 3, 31, 8, 0, tzinfo=UTC)
PHONE = "fcm-token-story-phone-0001:APA91bHun4MxP5egoKMwt2KZFBaFUH"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch, settings: Any) -> Iterator[Clock]:
    """The platform's clock (``django.utils.timezone.now``), set by the test; pushes wait for the
    websocket as long as they do in production."""
    settings.PUSH_GRACE_SECONDS = 5
    fake = Clock(BEFORE_THE_CHANGE)
    monkeypatch.setattr(django.utils.timezone, "now", fake)
    yield fake


async def streamed(notification_id: Any) -> bool:
    """Whether the open app's receipt is recorded, waiting up to three seconds for the socket to record it."""
    for _ in range(30):
        if await Notification.objects.filter(pk=notification_id, streamed_at__isnull=False).aexists():
            return True
        await asyncio.sleep(0.1)
    return False


def monday_plan_on_a_phone(world: Any, now: datetime) -> Any:
    """The citizen's Monday 10:00 plan, their phone's install, and the slots (with reminders) made at ``now``."""
    NetworkGrant.objects.filter(citizen=world.citizen).update(can_receive_reminders=False)
    episode = factories.EpisodeFactory(citizen=world.citizen, team=world.team, created_by=world.staff_in_team.user)
    factories.EpisodeContactFactory(episode=episode, staff=world.staff_in_team, role="contact_person")
    plan = make_plan(episode=episode, recurrence_rule="FREQ=WEEKLY;BYDAY=MO", start_time=time(10))
    install_for(world.citizen.user, PHONE)
    slots_materialise_ahead(now=now)
    return plan


async def connect(user: Any, path: str = "/ws/v1/", audience: str = "citizen") -> StreamCommunicator:
    token = await database_sync_to_async(access_token_for)(user, audience)
    socket = StreamCommunicator(application, path, headers=[(b"authorization", f"Bearer {token}".encode())])
    connected, _ = await socket.connect()
    assert connected
    assert (await socket.receive_json_from())["type"] == "hello"
    return socket


async def frames_until(socket: StreamCommunicator, frame_type: str) -> dict[str, Any]:
    while True:
        frame = await socket.receive_json_from(timeout=3)
        if frame.get("type") == frame_type:
            return frame


@pytest.mark.django_db(transaction=True)
async def test_the_reminder_after_the_clocks_change_reaches_the_open_app_and_the_therapist_sees_the_session(
    channel_layer: Any, world: Any, clock: Clock, fcm: Any
) -> None:
    plan = await database_sync_to_async(monday_plan_on_a_phone)(world, clock.now)
    slot = await TrainingSlot.objects.aget(plan=plan, scheduled_at=MONDAY_1000_LOCAL)

    clock.now = MONDAY_1000_LOCAL
    phone = await connect(world.citizen.user)
    therapist = await connect(world.staff_in_team.user, f"/ws/v1/?team_id={world.team.pk}", audience="staff")
    assert (await therapist.receive_json_from())["type"] == "subscribed"
    dispatch = database_sync_to_async(reminders_dispatch_due)
    assert await dispatch(now=clock.now - timedelta(seconds=1), worker_id="story") == 0
    assert await dispatch(now=clock.now, worker_id="story") == 1

    reminder = await frames_until(phone, "notification")
    notification = await Notification.objects.aget(pk=reminder["id"])
    assert (notification.recipient_id, notification.kind) == (world.citizen.user.pk, "reminder.training")
    assert notification.refs["slot_id"] == str(slot.pk)

    assert await streamed(notification.pk)
    clock.now = MONDAY_1000_LOCAL + timedelta(seconds=6)
    assert await database_sync_to_async(reminder_pushes_send)() == 0
    assert fcm.requests_for(PHONE) == [], "the open app had it by websocket; no push follows"
    assert await PushDelivery.objects.filter(notification=notification, status="skipped").aexists()
    citizen = world.client("citizen")
    acknowledged = await database_sync_to_async(citizen.post)(f"/api/v1/notifications/{notification.pk}/acknowledge")
    assert acknowledged.status_code == 200, acknowledged.content

    clock.now = MONDAY_1000_LOCAL + timedelta(minutes=12)  # within the sockets' 15-minute tokens
    version = await database_sync_to_async(lambda: plan.current_version)()
    exercises = [
        {"exercise_id": str(item.exercise_id), "sets": item.sets, "repetitions": item.repetitions}
        async for item in version.exercises.order_by("position")
    ]
    body = {
        "id": "6f3e1c2a-9a47-4c3b-8d0e-2f1b7a9c4d51",
        "training_plan_id": str(plan.pk),
        "slot_id": str(slot.pk),
        "performed_at": (MONDAY_1000_LOCAL + timedelta(minutes=10)).isoformat(),
        "pain_before": 2,
        "pain_after": 2,
        "effort": 4,
        "exercises": exercises,
    }
    logged = await database_sync_to_async(citizen.post)("/api/v1/me/session-logs", body)
    assert logged.status_code == 201, logged.content
    live = await frames_until(therapist, "team_event")
    assert (live["kind"], live["refs"]["session_log_id"]) == ("session.logged", body["id"])
    await phone.disconnect()
    await therapist.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_the_reminder_reaches_a_closed_app_by_push(
    channel_layer: Any, world: Any, clock: Clock, fcm: Any
) -> None:
    plan = await database_sync_to_async(monday_plan_on_a_phone)(world, clock.now)

    clock.now = MONDAY_1000_LOCAL
    assert await database_sync_to_async(reminders_dispatch_due)(now=clock.now, worker_id="story") == 1
    notification = await Notification.objects.aget(recipient=world.citizen.user, kind="reminder.training")
    assert await database_sync_to_async(reminder_pushes_send)() == 0, "the push waits for an open app first"
    clock.now = MONDAY_1000_LOCAL + timedelta(seconds=6)
    assert await database_sync_to_async(reminder_pushes_send)() == 1
    [received] = fcm.delivered(PHONE)
    assert received.message["data"] == {"type": "notification", "id": str(notification.pk), "version": "1"}
    assert await PushDelivery.objects.filter(notification=notification, status="sent").acount() == 1
    assert await database_sync_to_async(reminder_pushes_send)() == 0
    assert await TrainingSlot.objects.filter(plan=plan, scheduled_at=MONDAY_1000_LOCAL).aexists()
