import asyncio
import json
import logging
import socket
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
import uvicorn
import websockets
from channels.db import database_sync_to_async
from django.utils import timezone
from websockets.asyncio.client import connect as websocket_connect

from backend.models import Token, User
from backend.services.identity import TokenPair, session_revoke
from config.asgi import application
from notifications import consumers
from tests import factories
from tests.notifications.communicator import StreamCommunicator
from tests.notifications.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)

ALLOWED_ORIGIN = "https://app.mestring.example"
EVENT = {"type": "notification", "id": "6f1c9a52-3f8e-4d6b-9a0e-2b7c1d4e5f60", "text": "Du har en ny besked"}


def communicator(
    token: str | None = None,
    *,
    subprotocols: list[str] | None = None,
    origin: str | None = None,
    path: str = "/ws/v1/",
) -> StreamCommunicator:
    headers = []
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    return StreamCommunicator(application, path, headers=headers, subprotocols=subprotocols)


async def open_stream(token: str, **kwargs: Any) -> StreamCommunicator:
    stream = communicator(token, **kwargs)
    connected, _ = await stream.connect()
    assert connected
    hello = await stream.receive_json_from()
    assert hello["type"] == "hello"
    return stream


async def send_event(channel_layer: Any, user: User, payload: dict[str, Any]) -> None:
    await channel_layer.group_send(f"user.{user.pk}", {"type": "stream.event", "payload": payload})


async def assert_closed_with(stream: StreamCommunicator, code: int) -> None:
    output = await stream.receive_output()
    assert output == {"type": "websocket.close", "code": code}


async def assert_refused(stream: StreamCommunicator, code: int) -> None:
    """Accepted and closed at once with ``code``, so the app can tell a bad login (4401) from "try later"
    (1013); nothing is sent before the close."""
    connected, _ = await stream.connect()
    assert connected
    assert await stream.receive_output() == {"type": "websocket.close", "code": code}
    await stream.disconnect()


async def assert_refused_before_the_handshake(stream: StreamCommunicator, code: int) -> None:
    connected, close_code = await stream.connect()
    assert not connected
    assert close_code == code
    await stream.disconnect()


# --- Authentication on connect --------------------------------------------------------------------


async def test_token_in_authorization_header_is_accepted(channel_layer, citizen_login):
    stream = communicator(citizen_login.access_token)
    connected, subprotocol = await stream.connect()
    assert connected
    assert subprotocol is None
    hello = await stream.receive_json_from()
    assert hello == {"type": "hello", "protocol": "mestring.v1", "user_id": str(citizen_login.session.user_id)}
    await stream.disconnect()


async def test_token_in_subprotocol_is_accepted_and_not_echoed(channel_layer, citizen_login):
    stream = communicator(subprotocols=["mestring.v1", f"mestring.bearer.{citizen_login.access_token}"])
    connected, subprotocol = await stream.connect()
    assert connected
    assert subprotocol == "mestring.v1"
    assert (await stream.receive_json_from())["type"] == "hello"
    await stream.disconnect()


async def test_connection_without_token_is_refused(channel_layer, db):
    await assert_refused(communicator(), consumers.CLOSE_UNAUTHENTICATED)


async def test_connection_with_only_the_protocol_and_no_token_is_refused(channel_layer, db):
    await assert_refused(communicator(subprotocols=["mestring.v1"]), consumers.CLOSE_UNAUTHENTICATED)


async def test_token_in_the_url_is_not_accepted(channel_layer, citizen_login):
    stream = communicator(path=f"/ws/v1/?access_token={citizen_login.access_token}")
    await assert_refused(stream, consumers.CLOSE_UNAUTHENTICATED)


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer mat_not-a-token-anyone-was-given",
        "Bearer garbage",
        "Bearer ",
        "Basic dXNlcjpwYXNzd29yZA==",
        "Bearer mat_" + "x" * 500,
    ],
)
async def test_malformed_or_unknown_token_is_refused(channel_layer, db, authorization):
    stream = StreamCommunicator(application, "/ws/v1/", headers=[(b"authorization", authorization.encode())])
    await assert_refused(stream, consumers.CLOSE_UNAUTHENTICATED)


async def test_expired_token_is_refused(channel_layer, citizen_login):
    await database_sync_to_async(Token.objects.filter(session=citizen_login.session).update)(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    await assert_refused(communicator(citizen_login.access_token), consumers.CLOSE_UNAUTHENTICATED)


async def test_revoked_token_is_refused(channel_layer, citizen_login):
    await database_sync_to_async(session_revoke)(session=citizen_login.session)
    await assert_refused(communicator(citizen_login.access_token), consumers.CLOSE_UNAUTHENTICATED)


async def test_refresh_token_is_not_an_access_token(channel_layer, citizen_login):
    await assert_refused(communicator(citizen_login.refresh_token), consumers.CLOSE_UNAUTHENTICATED)


async def test_device_token_is_refused(channel_layer, db):
    from velfaerdsteknologi.credentials import device_credential_issue

    device = await database_sync_to_async(factories.DeviceFactory)()
    _, device_token = await database_sync_to_async(device_credential_issue)(device=device)
    await assert_refused(communicator(device_token), consumers.CLOSE_UNAUTHENTICATED)


async def test_deactivated_user_is_refused(channel_layer, citizen_login):
    await database_sync_to_async(User.objects.filter(pk=citizen_login.session.user_id).update)(is_active=False)
    await assert_refused(communicator(citizen_login.access_token), consumers.CLOSE_UNAUTHENTICATED)


async def test_other_paths_are_refused(channel_layer, citizen_login):
    stream = communicator(citizen_login.access_token, path="/ws/v2/")
    connected, _ = await stream.connect()
    assert not connected
    await stream.disconnect()


# --- Origin ---------------------------------------------------------------------------------------


@pytest.fixture
def allowed_origins(settings):
    settings.WEBSOCKET_ALLOWED_ORIGINS = [ALLOWED_ORIGIN]


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "https://app.mestring.example.evil.example"])
async def test_foreign_origin_is_refused(channel_layer, citizen_login, allowed_origins, origin):
    stream = communicator(citizen_login.access_token, origin=origin)
    await assert_refused_before_the_handshake(stream, consumers.CLOSE_FORBIDDEN_ORIGIN)


@pytest.mark.parametrize("origin", [ALLOWED_ORIGIN, ALLOWED_ORIGIN.upper(), None])
async def test_allowed_origin_or_no_origin_is_accepted(channel_layer, citizen_login, allowed_origins, origin):
    stream = await open_stream(citizen_login.access_token, origin=origin)
    await stream.disconnect()


async def test_foreign_origin_is_refused_even_with_the_token_in_a_subprotocol(
    channel_layer, citizen_login, allowed_origins
):
    stream = communicator(
        subprotocols=["mestring.v1", f"mestring.bearer.{citizen_login.access_token}"],
        origin="https://evil.example",
    )
    await assert_refused_before_the_handshake(stream, consumers.CLOSE_FORBIDDEN_ORIGIN)


# --- Client messages ------------------------------------------------------------------------------


@pytest.mark.parametrize("message_id", ["abc-1", 42, None])
async def test_ping_is_answered_with_pong_carrying_the_same_id(channel_layer, citizen_login, message_id):
    stream = await open_stream(citizen_login.access_token)
    await stream.send_json_to({"type": "ping", "id": message_id})
    assert await stream.receive_json_from() == {"type": "pong", "id": message_id}
    await stream.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ('{"type": "publish", "id": 7}', "unknown_message"),
        ('{"type": "subscribe", "id": 7}', "invalid_message"),
        ('{"type": "subscribe", "team_id": "not-a-uuid"}', "invalid_message"),
        ('{"type": "resume", "last_event_id": -1}', "invalid_last_event_id"),
        ('{"type": "resume", "last_event_id": "12"}', "invalid_last_event_id"),
        ('{"type": "resume", "last_event_id": true}', "invalid_last_event_id"),
        ('{"id": 7}', "unknown_message"),
        ("{not json", "invalid_json"),
        ("", "invalid_json"),
        ("[1, 2, 3]", "invalid_message"),
        ('"ping"', "invalid_message"),
        ('{"type": "ping", "id": {"nested": true}}', "invalid_message"),
        ('{"type": "ping", "id": "' + "x" * 101 + '"}', "invalid_message"),
        ('{"type": "ping", "padding": "' + "x" * 5000 + '"}', "message_too_large"),
    ],
)
async def test_bad_messages_get_an_error_frame_and_the_socket_keeps_working(channel_layer, citizen_login, frame, code):
    stream = await open_stream(citizen_login.access_token)
    await stream.send_input({"type": "websocket.receive", "text": frame})  # also an empty frame
    error = await stream.receive_json_from()
    assert error["type"] == "error"
    assert error["code"] == code
    await stream.send_json_to({"type": "ping", "id": "after"})
    assert await stream.receive_json_from() == {"type": "pong", "id": "after"}
    await stream.disconnect()


async def test_unknown_message_error_carries_the_message_id(channel_layer, citizen_login):
    stream = await open_stream(citizen_login.access_token)
    await stream.send_json_to({"type": "publish", "id": "m-7"})
    assert await stream.receive_json_from() == {"type": "error", "code": "unknown_message", "id": "m-7"}
    await stream.disconnect()


async def test_binary_frame_gets_an_error_frame(channel_layer, citizen_login):
    stream = await open_stream(citizen_login.access_token)
    await stream.send_to(bytes_data=b"\x00\x01")
    assert await stream.receive_json_from() == {"type": "error", "code": "binary_not_supported"}
    await stream.send_json_to({"type": "ping", "id": 1})
    assert await stream.receive_json_from() == {"type": "pong", "id": 1}
    await stream.disconnect()


async def test_ping_after_revocation_closes_once_the_recheck_interval_has_passed(
    channel_layer, citizen_login, monkeypatch
):
    stream = await open_stream(citizen_login.access_token)
    await database_sync_to_async(session_revoke)(session=citizen_login.session)
    monkeypatch.setattr(consumers, "SESSION_RECHECK_SECONDS", 0.0)
    await stream.send_json_to({"type": "ping", "id": 1})
    await assert_closed_with(stream, consumers.CLOSE_UNAUTHENTICATED)
    await stream.disconnect()


# --- Events ---------------------------------------------------------------------------------------


async def test_event_reaches_its_user_and_no_one_else(channel_layer, citizen_login, other_citizen_login):
    citizen_stream = await open_stream(citizen_login.access_token)
    other_stream = await open_stream(other_citizen_login.access_token)

    await send_event(channel_layer, citizen_login.session.user, EVENT)

    assert await citizen_stream.receive_json_from() == EVENT
    assert await other_stream.receive_nothing()

    other_event = {**EVENT, "id": "0b8e4f4e-4c1c-4bb0-8d59-4b8f6a3a9d11"}
    await send_event(channel_layer, other_citizen_login.session.user, other_event)
    assert await other_stream.receive_json_from() == other_event
    assert await citizen_stream.receive_nothing()
    await citizen_stream.disconnect()
    await other_stream.disconnect()


async def test_event_reaches_every_open_install_of_the_user(channel_layer, citizen_login):
    second_login = await database_sync_to_async(login)(citizen_login.session.user)
    phone = await open_stream(citizen_login.access_token)
    tablet = await open_stream(second_login.access_token)
    await send_event(channel_layer, citizen_login.session.user, EVENT)
    assert await phone.receive_json_from() == EVENT
    assert await tablet.receive_json_from() == EVENT
    await phone.disconnect()
    await tablet.disconnect()


async def test_next_event_after_session_revocation_closes_the_socket(channel_layer, citizen_login):
    stream = await open_stream(citizen_login.access_token)
    await send_event(channel_layer, citizen_login.session.user, EVENT)
    assert await stream.receive_json_from() == EVENT

    await database_sync_to_async(session_revoke)(session=citizen_login.session)
    await send_event(channel_layer, citizen_login.session.user, {**EVENT, "text": "Efter log ud"})

    await assert_closed_with(stream, consumers.CLOSE_UNAUTHENTICATED)
    assert await stream.receive_nothing()
    await stream.disconnect()


async def test_revoking_one_install_leaves_the_other_installs_streaming(channel_layer, citizen_login):
    second_login = await database_sync_to_async(login)(citizen_login.session.user)
    revoked = await open_stream(citizen_login.access_token)
    kept = await open_stream(second_login.access_token)

    await database_sync_to_async(session_revoke)(session=citizen_login.session)
    await send_event(channel_layer, citizen_login.session.user, EVENT)

    await assert_closed_with(revoked, consumers.CLOSE_UNAUTHENTICATED)
    assert await kept.receive_json_from() == EVENT
    await revoked.disconnect()
    await kept.disconnect()


async def test_next_event_after_the_user_is_deactivated_closes_the_socket(channel_layer, citizen_login):
    stream = await open_stream(citizen_login.access_token)
    await database_sync_to_async(User.objects.filter(pk=citizen_login.session.user_id).update)(is_active=False)
    await send_event(channel_layer, citizen_login.session.user, EVENT)
    await assert_closed_with(stream, consumers.CLOSE_UNAUTHENTICATED)
    await stream.disconnect()


async def test_next_event_after_the_access_token_expired_closes_the_socket(channel_layer, citizen_login):
    stream = await open_stream(citizen_login.access_token)
    await database_sync_to_async(Token.objects.filter(session=citizen_login.session).update)(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    await send_event(channel_layer, citizen_login.session.user, EVENT)
    await assert_closed_with(stream, consumers.CLOSE_UNAUTHENTICATED)
    await stream.disconnect()


async def test_an_idle_socket_closes_when_its_access_token_expires(channel_layer, citizen_login):
    # Long enough to open the socket on a loaded machine; the close is checked against the clock, not a wait.
    expires_at = timezone.now() + timedelta(seconds=4)
    await database_sync_to_async(Token.objects.filter(session=citizen_login.session).update)(expires_at=expires_at)
    stream = await open_stream(citizen_login.access_token)
    assert await stream.receive_output() == {"type": "websocket.close", "code": consumers.CLOSE_UNAUTHENTICATED}
    assert timezone.now() >= expires_at, "closed before the token expired"
    await stream.disconnect()


async def test_malformed_internal_event_is_dropped_without_closing_the_socket(channel_layer, citizen_login):
    stream = await open_stream(citizen_login.access_token)
    await channel_layer.group_send(f"user.{citizen_login.session.user_id}", {"type": "stream.event"})
    await send_event(channel_layer, citizen_login.session.user, EVENT)
    assert await stream.receive_json_from() == EVENT
    await stream.disconnect()


async def test_a_client_that_stops_reading_does_not_hold_up_the_others(
    channel_layer, citizen_login, other_citizen_login
):
    reading = asyncio.Event()
    reading.set()
    slow_frames: list[dict[str, Any]] = []
    slow_input: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def send_to_slow_client(message: dict[str, Any]) -> None:
        await reading.wait()  # as uvicorn's send waits while the client's buffer is full
        slow_frames.append(message)

    scope = {
        "type": "websocket",
        "path": "/ws/v1/",
        "query_string": b"",
        "headers": [(b"authorization", f"Bearer {citizen_login.access_token}".encode())],
        "subprotocols": [],
    }
    await slow_input.put({"type": "websocket.connect"})
    slow_client = asyncio.create_task(consumers.stream_application(scope, slow_input.get, send_to_slow_client))
    for _ in range(200):
        if len(slow_frames) >= 2:
            break
        await asyncio.sleep(0.01)
    assert [frame["type"] for frame in slow_frames] == ["websocket.accept", "websocket.send"]

    reading.clear()
    first, second = {**EVENT, "id": "1" * 32}, {**EVENT, "id": "2" * 32}
    await send_event(channel_layer, citizen_login.session.user, first)
    await send_event(channel_layer, citizen_login.session.user, second)
    other_stream = await open_stream(other_citizen_login.access_token)
    other_event = {**EVENT, "id": "0b8e4f4e-4c1c-4bb0-8d59-4b8f6a3a9d11"}
    await send_event(channel_layer, other_citizen_login.session.user, other_event)
    assert await other_stream.receive_json_from(timeout=2) == other_event
    assert len(slow_frames) == 2

    reading.set()
    for _ in range(200):
        if len(slow_frames) >= 4:
            break
        await asyncio.sleep(0.01)
    assert [json.loads(frame["text"]) for frame in slow_frames[2:]] == [first, second]
    await slow_input.put({"type": "websocket.disconnect", "code": 1000})
    await asyncio.wait_for(slow_client, 5)
    await other_stream.disconnect()


# --- Through a real server ------------------------------------------------------------------------


@dataclass
class UvicornServer:
    url: str
    http_url: str
    loop: asyncio.AbstractEventLoop

    async def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """Run a coroutine on the server's own event loop, where its consumers live."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self.loop))


@pytest.fixture
def uvicorn_server(channel_layer, transactional_db) -> Iterator[UvicornServer]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(application, lifespan="off", log_config=None))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(sockets=[listener]),), daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        threading.Event().wait(0.01)
    assert server.started
    yield UvicornServer(url=f"ws://127.0.0.1:{port}/ws/v1/", http_url=f"http://127.0.0.1:{port}", loop=loop)
    server.should_exit = True
    thread.join(timeout=10)
    loop.close()
    listener.close()


async def test_real_server_streams_to_a_client_authenticated_by_header(
    uvicorn_server: UvicornServer, channel_layer: Any, citizen_login: TokenPair, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO)
    user = citizen_login.session.user
    headers = {"Authorization": f"Bearer {citizen_login.access_token}"}
    async with websocket_connect(uvicorn_server.url, additional_headers=headers, open_timeout=5) as websocket:
        assert json.loads(await asyncio.wait_for(websocket.recv(), 5))["type"] == "hello"
        await websocket.send(json.dumps({"type": "ping", "id": "p1"}))
        assert json.loads(await asyncio.wait_for(websocket.recv(), 5)) == {"type": "pong", "id": "p1"}

        await uvicorn_server.run(send_event(channel_layer, user, EVENT))
        assert json.loads(await asyncio.wait_for(websocket.recv(), 5)) == EVENT

        await database_sync_to_async(session_revoke)(session=citizen_login.session)
        await uvicorn_server.run(send_event(channel_layer, user, EVENT))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(websocket.recv(), 5)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == consumers.CLOSE_UNAUTHENTICATED

    messages = [record.getMessage() for record in caplog.records]
    assert any("/ws/v1/" in message for message in messages)
    assert not any(citizen_login.access_token in message for message in messages)


async def test_real_server_serves_http_beside_the_websocket(uvicorn_server: UvicornServer):
    async with httpx.AsyncClient(base_url=uvicorn_server.http_url) as client:
        response = await client.get("/healthz")
    assert response.status_code == 200


async def test_real_server_tells_a_client_without_token_to_log_in(uvicorn_server: UvicornServer):
    async with websocket_connect(uvicorn_server.url, open_timeout=5) as websocket:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(websocket.recv(), 5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == consumers.CLOSE_UNAUTHENTICATED


async def test_real_server_refuses_a_foreign_origin_before_the_handshake(uvicorn_server: UvicornServer, settings):
    settings.WEBSOCKET_ALLOWED_ORIGINS = [ALLOWED_ORIGIN]
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websocket_connect(uvicorn_server.url, origin="https://evil.example", open_timeout=5):
            pass
    assert refused.value.response.status_code == 403
