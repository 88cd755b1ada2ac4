"""Stream events over the websocket: numbered, replayed on reconnect without gaps or duplicates, and
team live streams that follow the staff member's membership."""

import asyncio
import threading
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from backend.models import Membership
from backend.services.identity import session_revoke
from backend.timeutil import municipal_today
from config.asgi import application
from notifications import consumers, replay, stream_hub
from notifications.models import Notification, StreamEvent
from notifications.services import inbox, notify
from tests.notifications.communicator import StreamCommunicator

pytestmark = pytest.mark.django_db(transaction=True)


async def connect(token: str, query: str = "") -> StreamCommunicator:
    path = f"/ws/v1/?{query}" if query else "/ws/v1/"
    stream = StreamCommunicator(application, path, headers=[(b"authorization", f"Bearer {token}".encode())])
    connected, _ = await stream.connect()
    assert connected
    assert (await stream.receive_json_from())["type"] == "hello"
    return stream


async def frames_until(stream: StreamCommunicator, frame_type: str) -> list[dict[str, Any]]:
    """Every frame up to and including the first of ``frame_type``."""
    frames = []
    while True:
        frame = await stream.receive_json_from()
        frames.append(frame)
        if frame["type"] == frame_type:
            return frames


@database_sync_to_async
def notify_user(user: Any, kind: str = "request.answered") -> Notification:
    [notification] = notify(recipients=[user], kind=kind, refs={"request_id": uuid4()})
    return notification


@database_sync_to_async
def notify_team(team: Any, session_log_id: int = 1) -> StreamEvent:
    notify(
        recipients=[],
        kind="session.logged",
        refs={"citizen_id": uuid4(), "session_log_id": session_log_id},
        team_ids=[team.pk],
    )
    return StreamEvent.objects.filter(team=team).latest("id")


def event_id_of(notification: Notification) -> int:
    return StreamEvent.objects.get(payload={"id": str(notification.pk)}).id


def notification_frame(notification: Notification, event_id: int) -> dict[str, Any]:
    return {"type": "notification", "event_id": event_id, "id": str(notification.pk)}


# --- Personal stream ------------------------------------------------------------------------------


async def test_a_live_notification_carries_its_event_id_and_no_text(channel_layer, world):
    stream = await connect(world.tokens["citizen"])
    notification = await notify_user(world.citizen.user)
    frame = await stream.receive_json_from()
    assert frame == notification_frame(notification, await database_sync_to_async(event_id_of)(notification))
    assert await stream.receive_nothing()
    await stream.disconnect()
    await database_sync_to_async(notification.refresh_from_db)()
    assert notification.delivered_at is not None


async def test_a_reconnecting_client_gets_what_it_missed_in_order_without_duplicates(channel_layer, world):
    stream = await connect(world.tokens["citizen"])
    first = await notify_user(world.citizen.user)
    seen = (await stream.receive_json_from())["event_id"]
    await stream.disconnect()

    missed = [await notify_user(world.citizen.user) for _ in range(3)]
    await notify_user(world.other_citizen.user)  # someone else's: never replayed here
    missed_ids = [await database_sync_to_async(event_id_of)(notification) for notification in missed]
    assert sorted(missed_ids) == missed_ids and missed_ids[0] > seen

    again = await connect(world.tokens["citizen"], f"last_event_id={seen}")
    frames = await frames_until(again, "resumed")
    assert frames[:-1] == [
        notification_frame(notification, event_id) for notification, event_id in zip(missed, missed_ids, strict=True)
    ]
    head = await database_sync_to_async(lambda: StreamEvent.objects.latest("id").id)()
    assert frames[-1] == {"type": "resumed", "last_event_id": head, "count": 3}
    assert str(first.pk) not in str(frames)

    live = await notify_user(world.citizen.user)
    assert (await again.receive_json_from())["id"] == str(live.pk)
    assert await again.receive_nothing()
    await again.disconnect()


async def test_resume_as_the_first_message_replays_the_same(channel_layer, world):
    first = await notify_user(world.citizen.user)
    second = await notify_user(world.citizen.user)
    after = await database_sync_to_async(event_id_of)(first)
    stream = await connect(world.tokens["citizen"])
    await stream.send_json_to({"type": "resume", "last_event_id": after})
    frames = await frames_until(stream, "resumed")
    assert [frame.get("id") for frame in frames] == [str(second.pk), None]
    await stream.disconnect()


async def test_an_event_committed_while_the_backlog_is_read_arrives_exactly_once(channel_layer, world, monkeypatch):
    before = await notify_user(world.citizen.user)
    after = await database_sync_to_async(event_id_of)(before)
    racing: list[Notification] = []
    read_backlog = consumers.load_backlog

    async def backlog_with_a_commit_in_between(**kwargs: Any) -> replay.Backlog:
        # The socket has joined its group; this event is announced live *and* is in the backlog.
        racing.append(await notify_user(world.citizen.user))
        return await read_backlog(**kwargs)

    monkeypatch.setattr(consumers, "load_backlog", backlog_with_a_commit_in_between)
    stream = await connect(world.tokens["citizen"], f"last_event_id={after}")
    frames = await frames_until(stream, "resumed")
    assert [frame.get("id") for frame in frames] == [str(racing[0].pk), None]
    assert await stream.receive_nothing(timeout=0.3), "the live copy was dropped"
    await stream.disconnect()


async def test_a_channel_layer_that_fails_loses_nothing_the_client_replays_it(channel_layer, world, monkeypatch):
    stream = await connect(world.tokens["citizen"])
    await notify_user(world.citizen.user)
    seen = (await stream.receive_json_from())["event_id"]

    def redis_is_down(layer: Any, messages: list[tuple[str, dict[str, Any]]]) -> None:
        raise ConnectionError("Redis is down")

    # Where notify() hands its events to the layer, whichever way it publishes (group_send or a pipeline).
    monkeypatch.setattr(inbox, "publish", redis_is_down)
    lost_live = await notify_user(world.citizen.user)
    monkeypatch.undo()

    assert await stream.receive_nothing()
    assert await database_sync_to_async(Notification.objects.filter(pk=lost_live.pk).exists)()
    await stream.disconnect()

    again = await connect(world.tokens["citizen"], f"last_event_id={seen}")
    frames = await frames_until(again, "resumed")
    assert [frame.get("id") for frame in frames] == [str(lost_live.pk), None]
    await again.disconnect()
    await database_sync_to_async(lost_live.refresh_from_db)()
    assert lost_live.delivered_at is not None


async def test_an_open_socket_replays_what_a_layer_that_stopped_answering_swallowed(
    channel_layer, world, monkeypatch, settings
):
    """A hung Redis closes no connection: the hub's round trip through the layer finds it silent, and once it
    answers again the open socket gets what was published meanwhile, each once, without reconnecting."""
    settings.STREAM_LAYER_PROBE_SECONDS = 0.05
    settings.STREAM_LAYER_PROBE_TIMEOUT_SECONDS = 0.2
    stream = await connect(world.tokens["citizen"])
    before = await notify_user(world.citizen.user)
    assert (await stream.receive_json_from())["id"] == str(before.pk)
    hub = stream_hub.hub_for(channel_layer)
    assert hub.available()

    async def swallowed(group: str, message: dict[str, Any]) -> None:
        return None  # taken, never delivered: a Redis that hangs

    def published_into_the_void(layer: Any, messages: list[tuple[str, dict[str, Any]]]) -> None:
        return None

    # The hub's round trip goes through group_send; notify() hands its events to the layer through publish.
    monkeypatch.setattr(channel_layer, "group_send", swallowed)
    monkeypatch.setattr(inbox, "publish", published_into_the_void)
    await until(lambda: not hub.available(), "the silent layer noticed")
    refused = await connect_refused(world.tokens["citizen"])
    assert refused == consumers.CLOSE_TRY_AGAIN_LATER, "a new socket is told to try again later"
    missed = [await notify_user(world.citizen.user) for _ in range(3)]
    assert await stream.receive_nothing(timeout=0.3)

    monkeypatch.undo()
    frames = await frames_until(stream, "resumed")
    assert [frame.get("id") for frame in frames] == [str(notification.pk) for notification in missed] + [None]
    assert frames[-1]["count"] == 3
    after = await notify_user(world.citizen.user)
    assert (await stream.receive_json_from())["id"] == str(after.pk)
    assert await stream.receive_nothing(timeout=0.3)
    assert hub.available()
    await stream.disconnect()


async def until(condition: Any, what: str) -> None:
    try:
        async with asyncio.timeout(15):
            while not condition():
                await asyncio.sleep(0.02)
    except TimeoutError:
        pytest.fail(f"not within 15 s: {what}")


async def connect_refused(token: str) -> int:
    stream = StreamCommunicator(application, "/ws/v1/", headers=[(b"authorization", f"Bearer {token}".encode())])
    connected, _ = await stream.connect()
    assert connected
    closed = await stream.receive_output()
    await stream.disconnect()
    return int(closed["code"])


async def test_a_cursor_ahead_of_the_server_asks_for_a_resync(channel_layer, world):
    await notify_user(world.citizen.user)
    head = await database_sync_to_async(lambda: StreamEvent.objects.latest("id").id)()
    stream = await connect(world.tokens["citizen"], f"last_event_id={head + 1000}")
    assert await stream.receive_json_from() == {"type": "resync_required", "last_event_id": head}
    live = await notify_user(world.citizen.user)
    assert (await stream.receive_json_from())["id"] == str(live.pk)
    await stream.disconnect()


async def test_a_cursor_older_than_the_replay_window_asks_for_a_resync(channel_layer, world):
    old = await notify_user(world.citizen.user)
    newer = await notify_user(world.citizen.user)

    @database_sync_to_async
    def age() -> None:
        StreamEvent.objects.filter(payload={"id": str(newer.pk)}).update(
            created_at=timezone.now() - replay.REPLAY_MAX_AGE - timedelta(hours=1)
        )

    await age()
    after = await database_sync_to_async(event_id_of)(old)
    stream = await connect(world.tokens["citizen"], f"last_event_id={after}")
    assert (await stream.receive_json_from())["type"] == "resync_required"
    await stream.disconnect()


async def test_a_cursor_before_purged_events_asks_for_a_resync(channel_layer, world):
    purged = await notify_user(world.citizen.user)
    await notify_user(world.citizen.user)
    purged_id = await database_sync_to_async(event_id_of)(purged)
    await database_sync_to_async(StreamEvent.objects.filter(id=purged_id).delete)()
    stream = await connect(world.tokens["citizen"], f"last_event_id={purged_id - 1}")
    assert (await stream.receive_json_from())["type"] == "resync_required"
    await stream.disconnect()


async def test_more_missed_events_than_the_bound_asks_for_a_resync(channel_layer, world, monkeypatch):
    monkeypatch.setattr(replay, "REPLAY_MAX_EVENTS", 3)
    seen = await database_sync_to_async(event_id_of)(await notify_user(world.citizen.user))
    for _ in range(3):
        await notify_user(world.citizen.user)
    within_bound = await connect(world.tokens["citizen"], f"last_event_id={seen}")
    assert (await frames_until(within_bound, "resumed"))[-1]["count"] == 3
    await within_bound.disconnect()
    await notify_user(world.citizen.user)
    head = await database_sync_to_async(lambda: StreamEvent.objects.latest("id").id)()
    stream = await connect(world.tokens["citizen"], f"last_event_id={seen}")
    assert await stream.receive_json_from() == {"type": "resync_required", "last_event_id": head}
    assert await stream.receive_nothing()
    await stream.disconnect()


@pytest.mark.parametrize("cursor", ["-1", "abc", "1e3", "99999999999999999999"])
async def test_a_malformed_cursor_in_the_query_gets_an_error_and_no_replay(channel_layer, world, cursor):
    await notify_user(world.citizen.user)
    stream = await connect(world.tokens["citizen"], f"last_event_id={cursor}")
    assert await stream.receive_json_from() == {"type": "error", "code": "invalid_last_event_id"}
    assert await stream.receive_nothing()
    await stream.disconnect()


async def test_resume_after_the_session_was_revoked_closes_the_socket(channel_layer, world):
    stream = await connect(world.tokens["citizen"])
    await database_sync_to_async(lambda: session_revoke(session=world.citizen.user.app_sessions.first()))()
    await stream.send_json_to({"type": "resume", "last_event_id": 0})
    assert await stream.receive_output() == {"type": "websocket.close", "code": consumers.CLOSE_UNAUTHENTICATED}
    await stream.disconnect()


# --- Team live streams ----------------------------------------------------------------------------


async def subscribe(stream: StreamCommunicator, team_id: Any, **extra: Any) -> dict[str, Any]:
    await stream.send_json_to({"type": "subscribe", "team_id": str(team_id), "id": "s1", **extra})
    return await stream.receive_json_from()


async def test_care_staff_in_the_team_follow_its_live_events(channel_layer, world):
    stream = await connect(world.tokens["staff_in_team"])
    assert await subscribe(stream, world.team.pk) == {"type": "subscribed", "team_id": str(world.team.pk), "id": "s1"}
    event = await notify_team(world.team, session_log_id=7)
    frame = await stream.receive_json_from()
    assert frame == {
        "type": "team_event",
        "event_id": event.id,
        "team_id": str(world.team.pk),
        "kind": "session.logged",
        "refs": event.payload,
    }
    await notify_team(world.other_team)
    assert await stream.receive_nothing()

    await stream.send_json_to({"type": "unsubscribe", "team_id": str(world.team.pk)})
    assert (await stream.receive_json_from())["reason"] == "requested"
    await notify_team(world.team)
    assert await stream.receive_nothing()
    await stream.disconnect()


@pytest.mark.parametrize("role", ["staff_out_of_team", "analyst", "it", "citizen", "relative_with_consent"])
async def test_subscribing_to_a_team_without_a_care_role_in_it_is_refused(channel_layer, world, role):
    stream = await connect(world.tokens[role])
    assert await subscribe(stream, world.team.pk) == {"type": "error", "code": "team_forbidden", "id": "s1"}
    assert await subscribe(stream, uuid4()) == {"type": "error", "code": "team_forbidden", "id": "s1"}
    await notify_team(world.team)
    assert await stream.receive_nothing()
    await stream.disconnect()


async def test_a_subscription_ends_with_the_membership(channel_layer, world):
    stream = await connect(world.tokens["staff_in_team"])
    assert (await subscribe(stream, world.team.pk))["type"] == "subscribed"
    await notify_team(world.team)
    assert (await stream.receive_json_from())["type"] == "team_event"

    @database_sync_to_async
    def end_membership() -> None:
        yesterday = municipal_today() - timedelta(days=1)
        Membership.objects.filter(staff=world.staff_in_team, team=world.team).update(valid_to=yesterday)

    await end_membership()
    await notify_team(world.team)
    assert await stream.receive_json_from() == {
        "type": "unsubscribed",
        "team_id": str(world.team.pk),
        "reason": "membership_ended",
    }
    await notify_team(world.team)
    assert await stream.receive_nothing()
    assert (await subscribe(stream, world.team.pk))["code"] == "team_forbidden"
    await stream.disconnect()


async def test_a_team_followed_from_the_query_string_is_replayed_with_the_personal_stream_in_id_order(
    channel_layer, world
):
    start = await notify_user(world.staff_in_team.user)
    after = await database_sync_to_async(event_id_of)(start)
    team_event = await notify_team(world.team)
    mine = await notify_user(world.staff_in_team.user)
    other_team_event = await notify_team(world.other_team)
    assert other_team_event.id > team_event.id

    stream = await connect(world.tokens["staff_in_team"], f"team_id={world.team.pk}&last_event_id={after}")
    frames = await frames_until(stream, "resumed")
    assert frames[0] == {"type": "subscribed", "team_id": str(world.team.pk)}
    assert [frame["event_id"] for frame in frames[1:-1]] == [
        team_event.id,
        await database_sync_to_async(event_id_of)(mine),
    ]
    await stream.disconnect()


async def test_subscribing_with_a_cursor_replays_the_team_stream(channel_layer, world):
    before = await notify_team(world.team)
    missed = await notify_team(world.team, session_log_id=2)
    stream = await connect(world.tokens["staff_in_team"])
    assert (await subscribe(stream, world.team.pk, last_event_id=before.id))["type"] == "subscribed"
    frames = await frames_until(stream, "resumed")
    assert [frame.get("event_id") for frame in frames[:-1]] == [missed.id]
    await stream.disconnect()


async def test_a_forbidden_team_in_the_query_string_is_refused_and_the_rest_works(channel_layer, world):
    stream = await connect(world.tokens["staff_in_team"], f"team_id={world.other_team.pk}&team_id={world.team.pk}")
    assert await stream.receive_json_from() == {
        "type": "error",
        "code": "team_forbidden",
        "team_id": str(world.other_team.pk),
    }
    assert await stream.receive_json_from() == {"type": "subscribed", "team_id": str(world.team.pk)}
    await notify_team(world.other_team)
    event = await notify_team(world.team)
    assert (await stream.receive_json_from())["event_id"] == event.id
    await stream.disconnect()


def test_event_ids_are_handed_out_in_commit_order(world):
    """A second notify waits for the first one's transaction: no event can commit behind a higher id."""
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers by itself")
    inserted, release, second_done = threading.Event(), threading.Event(), threading.Event()
    event_ids: dict[str, int] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                [notification] = notify(recipients=[world.citizen.user], kind="request.answered", refs={})
                event_ids["first"] = StreamEvent.objects.get(payload={"id": str(notification.pk)}).id
                inserted.set()
                release.wait(10)
        finally:
            connection.close()

    def second() -> None:
        try:
            [notification] = notify(recipients=[world.other_citizen.user], kind="request.answered", refs={})
            event_ids["second"] = StreamEvent.objects.get(payload={"id": str(notification.pk)}).id
            second_done.set()
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    assert inserted.wait(10)
    threads[1].start()
    assert not second_done.wait(0.5), "the second notify must wait for the first transaction"
    release.set()
    for thread in threads:
        thread.join(10)
    assert second_done.is_set()
    assert event_ids["second"] > event_ids["first"]


async def test_a_socket_that_cannot_join_its_group_is_refused_so_the_app_retries(channel_layer, world, monkeypatch):
    async def redis_is_down(group: str, channel: str) -> None:
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(channel_layer, "group_add", redis_is_down)
    stream = StreamCommunicator(
        application, "/ws/v1/", headers=[(b"authorization", f"Bearer {world.tokens['citizen']}".encode())]
    )
    connected, _ = await stream.connect()
    assert connected  # accepted only to say why: "try again later", not a bad login
    assert await stream.receive_output() == {"type": "websocket.close", "code": consumers.CLOSE_TRY_AGAIN_LATER}
    await stream.disconnect()
