"""The websocket stream of ``/ws/v1/``: transport only — authenticate, join groups, replay, forward events.

The access token is never put in the URL (URLs end up in logs): native apps send it in the
``Authorization`` header, browsers as a ``Sec-WebSocket-Protocol`` entry ``mestring.bearer.<token>``
next to ``mestring.v1``; the server answers with ``mestring.v1`` only, so the token is not echoed.
A page of a web app (the staff app) sends no token at all: its same-origin session cookie names its
login, and the socket gets an access token of that login that stays on the server
(``backend.web_sessions.socket_token_hash``), checked like any other.

A browser's ``Origin`` must be one of ``WEBSOCKET_ALLOWED_ORIGINS``; native apps send none. A foreign
Origin is refused before the handshake completes (an HTTP 403: nothing is said to a page that may not
connect). Every other refusal accepts the handshake and closes at once with a code the app acts on:
4401 for a token that is missing, unknown, expired or revoked (refresh the token, then reconnect),
1013 "try again later" when the login cannot be checked or the channel layer (Redis) is unreachable
(reconnect after a back-off, with ``last_event_id``).

An open socket lives exactly as long as the API would still accept its token: before every event is
forwarded the token is checked against the database again (with the team's membership for a team
event), together with every other socket of the process that has an event waiting
(``notifications.stream_hub``); on a ping at most every ``SESSION_RECHECK_SECONDS``; and the socket
closes with 4401 when the token expires. A token that has been revoked, has expired or whose user was
deactivated closes the socket with 4401 instead of delivering the event. The app then refreshes its
token, reconnects and resumes from the last event id it saw.

When Redis goes away, an open socket stays open (the API keeps working; nothing can be announced live
meanwhile, and new sockets are told 1013). When the process's subscriber connection comes back, every
socket whose streams got events in the meantime replays them from the last event it sent, on the same
socket, and goes on with live events: the app needs to do nothing, and gets no duplicate. A Redis that
hangs with its connections open is found by the hub's round trip through the layer and handled the same
way once it answers again (``notifications.stream_hub``).

Every stream event carries an ``event_id``; ids grow in commit order. A client resumes with
``?last_event_id=N`` (optionally ``&team_id=...`` for each team it follows) or, as its first message,
``{"type": "resume", "last_event_id": N}``: the socket joins its groups first, then replays every
event after N in id order, then forwards live ones, dropping any it already replayed. A replay ends
with ``{"type": "resumed", "last_event_id": M}``; when the events cannot all be replayed (more than
1,000, older than 7 days, or a cursor this server never issued) it sends ``{"type":
"resync_required", "last_event_id": M}`` instead, and the app reloads over the API and continues from M.

Staff follow a team's live stream with ``{"type": "subscribe", "team_id": ..., "last_event_id"?: N}``,
allowed while they hold a care role in that team; the membership is checked again before each event,
and a socket whose membership has ended gets ``{"type": "unsubscribed", "team_id": ..., "reason":
"membership_ended"}`` instead of the event. ``{"type": "unsubscribe", "team_id": ...}`` stops following.

Client frames are JSON objects with a ``type``: ``{"type": "ping", "id": ...}`` is answered with
``{"type": "pong", "id": ...}``; anything unknown gets ``{"type": "error", "code": ...}``.

Imports go one way: this module (the socket protocol and the ASGI application) uses the process's hub
(``notifications.stream_hub``), the wire format (``notifications.stream_protocol``, ``notifications.streams``)
and the backlog (``notifications.replay``); none of them imports it.
"""

import asyncio
import json
import logging
import time
from array import array
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.utils import timezone

from backend import web_sessions
from backend.tokens import ACCESS_PREFIX, hash_secret, looks_like
from notifications.replay import Backlog, stream_backlog
from notifications.stream_checks import Access
from notifications.stream_hub import CheckHeld, StreamHub, hub_for
from notifications.stream_protocol import (
    CLOSE_FORBIDDEN_ORIGIN,
    CLOSE_TRY_AGAIN_LATER,
    CLOSE_UNAUTHENTICATED,
    MAX_MESSAGE_CHARACTERS,
    PROTOCOL,
    bearer_token,
    event_id_from,
    event_id_from_query,
    message_id_from,
    origin_allowed,
    session_cookies,
    team_id_from,
)
from notifications.streams import NOTIFICATION_EVENT, stream_frame, team_group, user_group

SESSION_RECHECK_SECONDS = 30.0
MAX_TEAM_SUBSCRIPTIONS = 20
RECENT_EVENT_IDS = 128
# Frames queued for a client that does not keep up before its socket is closed.
MAX_QUEUED_FRAMES = 200


load_backlog = database_sync_to_async(stream_backlog)

logger = logging.getLogger(__name__)

type Receive = Callable[[], Awaitable[dict[str, Any]]]
type Send = Callable[[dict[str, Any]], Awaitable[None]]


class StreamSocket:
    """One app install's live stream: its user's events and the teams it follows, while its token is valid."""

    __slots__ = (
        "__weakref__",
        "checked",
        "checked_at",
        "cursor",
        "expiry",
        "holds",
        "hub",
        "is_open",
        "outbox",
        "pending",
        "recent",
        "recent_index",
        "scope",
        "send",
        "sending",
        "team_ids",
        "token_hash",
        "user_id",
        "watermarks",
    )

    def __init__(self, scope: dict[str, Any], send: Send) -> None:
        self.scope = scope
        self.send = send
        self.hub: StreamHub | None = None
        self.token_hash = ""
        self.user_id = ""
        self.is_open = False
        self.checked_at = 0.0
        # The last check of this socket's access by the hub, kept while the access version stands still.
        self.checked: CheckHeld | None = None
        # The newest event id this socket has sent or knows it need not send: where a replay starts.
        self.cursor = 0
        self.team_ids: set[str] | None = None
        # Per group: every event up to this id has been replayed (or is covered by a resync).
        self.watermarks: dict[str, int] | None = None
        # The ids of the last events sent live, made on the first one; a replay skips them.
        self.recent: array[int] | None = None
        self.recent_index = 0
        # Live events held back while a replay is under way, and how many replays hold them.
        self.pending: list[tuple[str, dict[str, Any], str]] | None = []
        self.holds = 1
        self.outbox: deque[dict[str, Any]] | None = None
        self.sending: asyncio.Task[None] | None = None
        self.expiry: asyncio.TimerHandle | None = None

    # --- Connect -------------------------------------------------------------------------------------

    async def open(self) -> None:
        if not origin_allowed(self.scope):
            await self.send({"type": "websocket.close", "code": CLOSE_FORBIDDEN_ORIGIN})
            return
        token = bearer_token(self.scope)
        token_hash = hash_secret(token) if looks_like(token, ACCESS_PREFIX) else await self._cookie_login()
        if not token_hash:
            await self._refuse(CLOSE_UNAUTHENTICATED)
            return
        self.token_hash = token_hash
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        requested: list[str | None] = []
        for raw in query.get("team_id", [])[:MAX_TEAM_SUBSCRIPTIONS]:
            try:
                requested.append(team_id_from(raw))
            except ValueError:
                requested.append(None)
        self.hub = hub_for(get_channel_layer())
        try:
            access, head = await self.hub.access.check(self.token_hash, [team for team in requested if team])
        except Exception as error:
            logger.warning("could not check a websocket login (%s)", type(error).__name__)
            await self._refuse(CLOSE_TRY_AGAIN_LATER)
            return
        if access is None:
            await self._refuse(CLOSE_UNAUTHENTICATED)
            return
        self.user_id = access.user_id
        self.cursor = head
        self.checked_at = time.monotonic()
        if not self.hub.available() or not await self.hub.join(user_group(self.user_id), self):
            await self._refuse(CLOSE_TRY_AGAIN_LATER)
            return
        offered = self.scope.get("subprotocols", [])
        await self.send({"type": "websocket.accept", "subprotocol": PROTOCOL if PROTOCOL in offered else None})
        self.is_open = True
        self._expire_with(access)
        self.push_json({"type": "hello", "protocol": PROTOCOL, "user_id": self.user_id})
        try:
            await self._connect_from_query(query, requested, access)
        finally:
            await self.release()

    async def _cookie_login(self) -> str:
        """A web app's page: an access token of its browser login, kept on the server; "" without one."""
        for cookie in session_cookies(self.scope):
            token_hash = await database_sync_to_async(web_sessions.socket_token_hash)(cookie)
            if token_hash:
                return token_hash
        return ""

    async def _refuse(self, code: int) -> None:
        """Accepted, then closed with a code the app can act on (a refused handshake is only a 403 to it)."""
        await self.send({"type": "websocket.accept"})
        await self.send({"type": "websocket.close", "code": code})

    def _expire_with(self, access: Access) -> None:
        if self.expiry is not None:
            self.expiry.cancel()
        loop = asyncio.get_running_loop()
        seconds = (access.token_expires_at - timezone.now()).total_seconds()
        self.expiry = loop.call_at(loop.time() + max(seconds, 0.0), self.close_unauthenticated)

    async def _connect_from_query(
        self, query: dict[str, list[str]], requested: list[str | None], access: Access
    ) -> None:
        joined: set[str] = set()
        for team_id in requested:
            if team_id is None:
                self._send_error("invalid_team_id")
                continue
            if team_id in self.followed():
                continue
            if team_id not in access.team_ids:
                self.push_json({"type": "error", "code": "team_forbidden", "team_id": team_id})
            elif await self._follow(team_id):
                joined.add(team_id)
                self.push_json({"type": "subscribed", "team_id": team_id})
        if "last_event_id" in query:
            try:
                after = event_id_from_query(query["last_event_id"][0])
            except ValueError:
                self._send_error("invalid_last_event_id")
                return
            await self._replay(after, include_user=True, team_ids=joined)

    # --- Client messages -----------------------------------------------------------------------------

    async def receive(self, text_data: str | None) -> None:
        if not self.is_open:
            return
        if text_data is None:
            self._send_error("binary_not_supported")
            return
        if len(text_data) > MAX_MESSAGE_CHARACTERS:
            self._send_error("message_too_large")
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            self._send_error("invalid_json")
            return
        if not isinstance(content, dict):
            self._send_error("invalid_message")
            return
        try:
            message_id = message_id_from(content)
        except ValueError:
            self._send_error("invalid_message")
            return
        handler = {
            "ping": self._on_ping,
            "resume": self._on_resume,
            "subscribe": self._on_subscribe,
            "unsubscribe": self._on_unsubscribe,
        }.get(str(content.get("type")))
        if handler is None:
            self._send_error("unknown_message", message_id)
            return
        await handler(content, message_id)

    async def _on_ping(self, content: dict[str, Any], message_id: str | int | None) -> None:
        if time.monotonic() - self.checked_at >= SESSION_RECHECK_SECONDS and await self._current_access() is None:
            return
        self.push_json({"type": "pong", "id": message_id})

    async def _on_resume(self, content: dict[str, Any], message_id: str | int | None) -> None:
        try:
            after = event_id_from(content.get("last_event_id"))
        except ValueError:
            self._send_error("invalid_last_event_id", message_id)
            return
        if await self._current_access() is None:
            return
        self.hold()
        try:
            await self._replay(after, include_user=True, team_ids=set(self.followed()))
        finally:
            await self.release()

    async def _on_subscribe(self, content: dict[str, Any], message_id: str | int | None) -> None:
        try:
            team_id = team_id_from(content.get("team_id"))
            after = event_id_from(content["last_event_id"]) if "last_event_id" in content else None
        except ValueError:
            self._send_error("invalid_message", message_id)
            return
        access = await self._current_access({team_id})
        if access is None:
            return
        self.hold()
        try:
            if team_id not in self.followed():
                if len(self.followed()) >= MAX_TEAM_SUBSCRIPTIONS:
                    self._send_error("too_many_subscriptions", message_id)
                    return
                if team_id not in access.team_ids:
                    self._send_error("team_forbidden", message_id)
                    return
                if not await self._follow(team_id):
                    self._send_error("try_again_later", message_id)
                    return
            self.push_json({"type": "subscribed", "team_id": team_id, "id": message_id})
            if after is not None:
                await self._replay(after, include_user=False, team_ids={team_id})
        finally:
            await self.release()

    async def _on_unsubscribe(self, content: dict[str, Any], message_id: str | int | None) -> None:
        try:
            team_id = team_id_from(content.get("team_id"))
        except ValueError:
            self._send_error("invalid_message", message_id)
            return
        self._unfollow(team_id)
        self.push_json({"type": "unsubscribed", "team_id": team_id, "reason": "requested", "id": message_id})

    # --- Live events (called by the hub, already checked) ---------------------------------------------

    def deliver(self, group: str, message: dict[str, Any], text: str, access: Access | None) -> None:
        if not self.is_open:
            return
        if access is None or access.user_id != self.user_id:
            self.close_unauthenticated()
            return
        self.checked_at = time.monotonic()
        team_id = message.get("team_id")
        if team_id is not None:
            if team_id not in self.followed():
                return  # sent before this socket stopped following the team
            if team_id not in access.team_ids:
                self._unfollow(team_id)
                self.push_json({"type": "unsubscribed", "team_id": team_id, "reason": "membership_ended"})
                return
        if self.pending is not None:
            self.pending.append((group, message, text))
            return
        self._send_live(group, message, text)

    def _send_live(self, group: str, message: dict[str, Any], text: str) -> None:
        event_id = message.get("event_id")
        if isinstance(event_id, int):
            if self.watermarks is not None and event_id <= self.watermarks.get(group, 0):
                return  # replayed already
            self._remember(event_id)
        self.push({"type": "websocket.send", "text": text})
        payload = message["payload"]
        if payload.get("type") == NOTIFICATION_EVENT and message.get("team_id") is None and self.hub is not None:
            self.hub.deliveries.add(self.user_id, payload.get("id"))

    def hold(self) -> None:
        """Hold live events back until ``release``: a replay is under way."""
        self.holds += 1
        if self.pending is None:
            self.pending = []

    async def release(self) -> None:
        self.holds -= 1
        if self.holds > 0 or self.pending is None:
            return
        pending, self.pending = self.pending, None
        for group, message, text in pending:
            if self.is_open:
                self._send_live(group, message, text)

    async def recover(self, after: int) -> None:
        """After a channel-layer outage: replay what this socket's streams got after ``after``."""
        try:
            if self.is_open:
                await self._replay(after, include_user=True, team_ids=set(self.followed()))
        except Exception as error:  # noqa: BLE001 — the app resumes on its next connect
            logger.warning("could not replay after a channel-layer outage (%s)", type(error).__name__)
            self.close_try_again_later()
        finally:
            await self.release()

    # --- Replay --------------------------------------------------------------------------------------

    async def _replay(self, after: int, *, include_user: bool, team_ids: set[str]) -> None:
        """Send what the client missed after ``after`` in the given streams. Groups are joined already and
        live events are held meanwhile: one committed while the backlog is read is dropped as a duplicate."""
        groups = [team_group(team_id) for team_id in sorted(team_ids)]
        if include_user:
            groups.append(user_group(self.user_id))
        if not groups:
            return
        backlog: Backlog = await load_backlog(
            user_id=self.user_id if include_user else None, team_ids=team_ids, after=after
        )
        if self.watermarks is None:
            self.watermarks = {}
        for group in groups:
            self.watermarks[group] = max(self.watermarks.get(group, 0), backlog.head)
        self.cursor = max(self.cursor, backlog.head)
        if not self.is_open:
            return
        if backlog.resync:
            self.push_json({"type": "resync_required", "last_event_id": backlog.head})
            return
        for stream_event in backlog.events:
            if self.recent is not None and stream_event.id in self.recent:
                continue
            self.push_json(stream_frame(stream_event))
            if stream_event.user_id is not None and stream_event.type == NOTIFICATION_EVENT and self.hub is not None:
                self.hub.deliveries.add(self.user_id, stream_event.payload.get("id"))
        self.push_json({"type": "resumed", "last_event_id": backlog.head, "count": len(backlog.events)})

    def _remember(self, event_id: int) -> None:
        if event_id > self.cursor:
            self.cursor = event_id
        if self.recent is None:
            self.recent = array("q", [-1]) * RECENT_EVENT_IDS
        self.recent[self.recent_index] = event_id
        self.recent_index = (self.recent_index + 1) % RECENT_EVENT_IDS

    # --- Groups --------------------------------------------------------------------------------------

    def followed(self) -> set[str]:
        return self.team_ids if self.team_ids is not None else set()

    async def _follow(self, team_id: str) -> bool:
        assert self.hub is not None
        if not await self.hub.join(team_group(team_id), self):
            return False
        if self.team_ids is None:
            self.team_ids = set()
        self.team_ids.add(team_id)
        return True

    def _unfollow(self, team_id: str) -> None:
        if self.team_ids is not None:
            self.team_ids.discard(team_id)
        group = team_group(team_id)
        if self.watermarks is not None:
            self.watermarks.pop(group, None)
        if self.hub is not None:
            self.hub.leave(group, self)

    def _leave_all(self) -> None:
        if self.hub is None:
            return
        for team_id in list(self.followed()):
            self.hub.leave(team_group(team_id), self)
        self.team_ids = None
        if self.user_id:
            self.hub.leave(user_group(self.user_id), self)

    # --- Authentication ------------------------------------------------------------------------------

    async def _current_access(self, team_ids: Iterable[str] = ()) -> Access | None:
        """What the token stands for now; a token no longer valid closes the socket."""
        assert self.hub is not None
        try:
            access, _ = await self.hub.access.check(self.token_hash, team_ids)
        except Exception as error:
            logger.warning("could not check a websocket login (%s)", type(error).__name__)
            self.close_try_again_later()
            return None
        if access is not None and access.user_id == self.user_id:
            self.checked_at = time.monotonic()
            return access
        self.close_unauthenticated()
        return None

    def close_unauthenticated(self) -> None:
        self.close(CLOSE_UNAUTHENTICATED)

    def close_try_again_later(self) -> None:
        self.close(CLOSE_TRY_AGAIN_LATER)

    def close(self, code: int) -> None:
        if not self.is_open:
            return
        self.is_open = False
        self._leave_all()
        if self.expiry is not None:
            self.expiry.cancel()
            self.expiry = None
        self.push({"type": "websocket.close", "code": code})

    def disconnected(self) -> None:
        self.is_open = False
        self._leave_all()
        if self.expiry is not None:
            self.expiry.cancel()
            self.expiry = None
        self.outbox = None
        if self.hub is not None:
            self.hub.closed()

    # --- Sending -------------------------------------------------------------------------------------

    def push_json(self, frame: dict[str, Any]) -> None:
        self.push({"type": "websocket.send", "text": json.dumps(frame)})

    def _send_error(self, code: str, message_id: str | int | None = None) -> None:
        frame: dict[str, Any] = {"type": "error", "code": code}
        if message_id is not None:
            frame["id"] = message_id
        self.push_json(frame)

    def push(self, message: dict[str, Any]) -> None:
        """Send now when the client keeps up; otherwise queue behind the send that is waiting, so that a
        slow client never holds up the hub or other sockets. Too many queued frames close the socket."""
        if self.outbox is not None:
            if len(self.outbox) >= MAX_QUEUED_FRAMES and message["type"] == "websocket.send":
                logger.warning("closing a websocket that does not keep up")
                self.outbox.clear()
                self.close(CLOSE_TRY_AGAIN_LATER)
                return
            self.outbox.append(message)
            return
        task = asyncio.Task(self._send_safely(message), loop=asyncio.get_running_loop(), eager_start=True)
        if not task.done():
            self.outbox = deque()
            self.sending = task
            task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[None]) -> None:
        while self.outbox:
            message = self.outbox.popleft()
            task = asyncio.Task(self._send_safely(message), loop=asyncio.get_running_loop(), eager_start=True)
            if not task.done():
                self.sending = task
                task.add_done_callback(self._sent)
                return
        self.outbox = None
        self.sending = None

    async def _send_safely(self, message: dict[str, Any]) -> None:
        try:
            await self.send(message)
        except Exception as error:  # noqa: BLE001 — the client is gone; its disconnect cleans up
            logger.debug("websocket send failed (%s)", type(error).__name__)
            self.is_open = False
            self.outbox = None


async def stream_application(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    """The ASGI application of ``/ws/v1/``: one ``StreamSocket`` per connection, fed by the process's hub."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    socket = StreamSocket(scope, send)
    try:
        await socket.open()
        if socket.is_open or socket.hub is not None:
            while True:
                message = await receive()
                if message["type"] == "websocket.receive":
                    await socket.receive(message.get("text"))
                elif message["type"] == "websocket.disconnect":
                    break
    finally:
        socket.disconnected()
        if socket.hub is not None and socket.hub.deliveries.pairs:
            await socket.hub.deliveries.flush()


class StreamConsumer:
    """Routing entry point of the stream: ``StreamConsumer.as_asgi()`` is ``stream_application``."""

    @classmethod
    def as_asgi(cls) -> Any:
        """Typed loosely, as Channels' own ``as_asgi``: ``path()`` is typed for Django views."""
        return stream_application


class NotFoundConsumer(AsyncWebsocketConsumer):
    """Any other websocket path: refused before the handshake completes."""

    async def connect(self) -> None:
        await self.close()
