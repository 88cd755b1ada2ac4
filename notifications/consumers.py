"""The websocket stream of ``/ws/v1/``: transport only — authenticate, join groups, replay, forward events.

The access token is never put in the URL (URLs end up in logs): native apps send it in the
``Authorization`` header, browsers as a ``Sec-WebSocket-Protocol`` entry ``mestring.bearer.<token>``
next to ``mestring.v1``; the server answers with ``mestring.v1`` only, so the token is not echoed.

A browser's ``Origin`` must be one of ``WEBSOCKET_ALLOWED_ORIGINS``; native apps send none. Refused
connections are closed before the handshake completes. An open socket lives exactly as long as the
API would still accept its token: the token is resolved again before every event is forwarded (and
on a ping at most every ``SESSION_RECHECK_SECONDS``), and a token that has been revoked, has expired
or whose user was deactivated closes the socket with 4401 instead of delivering the event. The app
then refreshes its token, reconnects and resumes from the last event id it saw.

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
"""

import json
import logging
import time
import uuid
from collections import deque
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer
from django.conf import settings

from backend.actors import Actor
from backend.auth import actor_for_access_token
from notifications.selectors import Backlog, care_team_ids, stream_backlog
from notifications.services import (
    NOTIFICATION_EVENT,
    notifications_mark_delivered,
    stream_frame,
    team_group,
    user_group,
)

PROTOCOL = "mestring.v1"
BEARER_PROTOCOL_PREFIX = "mestring.bearer."
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_TRY_AGAIN_LATER = 1013
SESSION_RECHECK_SECONDS = 30.0
MAX_MESSAGE_CHARACTERS = 4096
MAX_MESSAGE_ID_CHARACTERS = 100
MAX_TEAM_SUBSCRIPTIONS = 20
MAX_EVENT_ID = 2**63 - 1
RECENT_EVENT_IDS = 2000


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def bearer_token(scope: dict[str, Any]) -> str:
    """The token from the Authorization header, else from the subprotocols; never from the URL."""
    scheme, _, credentials = _header(scope, b"authorization").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    for protocol in scope.get("subprotocols", []):
        if protocol.startswith(BEARER_PROTOCOL_PREFIX):
            return protocol[len(BEARER_PROTOCOL_PREFIX) :]
    return ""


def _normalised_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def origin_allowed(scope: dict[str, Any]) -> bool:
    """Browsers always send an Origin, which must be allowed; native apps send none."""
    origin = _header(scope, b"origin")
    if not origin:
        return True
    allowed = {_normalised_origin(entry) for entry in settings.WEBSOCKET_ALLOWED_ORIGINS}
    return _normalised_origin(origin) in allowed


def _message_id(content: dict[str, Any]) -> str | int | None:
    message_id = content.get("id")
    if isinstance(message_id, bool):
        raise ValueError("id")
    if isinstance(message_id, str) and len(message_id) > MAX_MESSAGE_ID_CHARACTERS:
        raise ValueError("id")
    if message_id is None or isinstance(message_id, str | int):
        return message_id
    raise ValueError("id")


def event_id_from(value: Any) -> int:
    """A client's last event id: a non-negative integer."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_EVENT_ID:
        raise ValueError("last_event_id")
    return value


def event_id_from_query(value: str) -> int:
    if not (value.isascii() and value.isdigit() and len(value) <= 19):
        raise ValueError("last_event_id")
    return event_id_from(int(value))


def team_id_from(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 36:
        raise ValueError("team_id")
    return str(uuid.UUID(value))


resolve_actor = database_sync_to_async(actor_for_access_token)
load_backlog = database_sync_to_async(stream_backlog)
mark_delivered = database_sync_to_async(notifications_mark_delivered)


@database_sync_to_async
def followable_team_ids(actor: Actor) -> set[str]:
    return care_team_ids(actor)


logger = logging.getLogger(__name__)


class StreamConsumer(AsyncJsonWebsocketConsumer):
    """One app install's live stream: its user's events and the teams it follows, while its token is valid."""

    token: str = ""
    user_id: str = ""
    is_open: bool = False
    checked_at: float = 0.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.team_ids: set[str] = set()
        # Per group: every event up to this id has been replayed (or is covered by a resync).
        self.watermarks: dict[str, int] = {}
        self.recent_ids: deque[int] = deque(maxlen=RECENT_EVENT_IDS)
        self.recent_set: set[int] = set()
        self.resume_from: int | None = None

    async def connect(self) -> None:
        if not origin_allowed(self.scope):
            await self.close(code=CLOSE_FORBIDDEN_ORIGIN)
            return
        self.token = bearer_token(self.scope)
        actor = await resolve_actor(self.token)
        if actor is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user_id = str(actor.user.pk)
        self.checked_at = time.monotonic()
        self.groups: list[str] = []
        if not await self._join(user_group(self.user_id)):
            await self.close(code=CLOSE_TRY_AGAIN_LATER)
            return
        offered = self.scope.get("subprotocols", [])
        await self.accept(subprotocol=PROTOCOL if PROTOCOL in offered else None)
        self.is_open = True
        await self.send_json({"type": "hello", "protocol": PROTOCOL, "user_id": self.user_id})
        await self._connect_from_query(actor)

    async def _connect_from_query(self, actor: Actor) -> None:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        requested_teams = query.get("team_id", [])[:MAX_TEAM_SUBSCRIPTIONS]
        joined: set[str] = set()
        if requested_teams:
            allowed = await followable_team_ids(actor)
            for raw in requested_teams:
                try:
                    team_id = team_id_from(raw)
                except ValueError:
                    await self._send_error("invalid_team_id")
                    continue
                if team_id in self.team_ids:
                    continue
                if team_id not in allowed:
                    await self.send_json({"type": "error", "code": "team_forbidden", "team_id": team_id})
                elif await self._follow(team_id):
                    joined.add(team_id)
                    await self.send_json({"type": "subscribed", "team_id": team_id})
        if "last_event_id" in query:
            try:
                self.resume_from = event_id_from_query(query["last_event_id"][0])
            except ValueError:
                await self._send_error("invalid_last_event_id")
                return
            await self._replay(self.resume_from, include_user=True, team_ids=joined)

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        self.is_open = False
        await self._leave_all()
        await self.disconnect(message.get("code", 1000))
        raise StopConsumer()

    async def disconnect(self, code: int) -> None:
        self.is_open = False

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if not self.is_open:
            return
        if text_data is None:
            await self._send_error("binary_not_supported")
            return
        if len(text_data) > MAX_MESSAGE_CHARACTERS:
            await self._send_error("message_too_large")
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self._send_error("invalid_json")
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            await self._send_error("invalid_message")
            return
        try:
            message_id = _message_id(content)
        except ValueError:
            await self._send_error("invalid_message")
            return
        handler = {
            "ping": self._on_ping,
            "resume": self._on_resume,
            "subscribe": self._on_subscribe,
            "unsubscribe": self._on_unsubscribe,
        }.get(str(content.get("type")))
        if handler is None:
            await self._send_error("unknown_message", message_id)
            return
        await handler(content, message_id)

    async def _on_ping(self, content: dict[str, Any], message_id: str | int | None) -> None:
        if time.monotonic() - self.checked_at >= SESSION_RECHECK_SECONDS and await self._current_actor() is None:
            return
        await self.send_json({"type": "pong", "id": message_id})

    async def _on_resume(self, content: dict[str, Any], message_id: str | int | None) -> None:
        try:
            after = event_id_from(content.get("last_event_id"))
        except ValueError:
            await self._send_error("invalid_last_event_id", message_id)
            return
        if await self._current_actor() is None:
            return
        self.resume_from = after
        await self._replay(after, include_user=True, team_ids=set(self.team_ids))

    async def _on_subscribe(self, content: dict[str, Any], message_id: str | int | None) -> None:
        try:
            team_id = team_id_from(content.get("team_id"))
            after = event_id_from(content["last_event_id"]) if "last_event_id" in content else self.resume_from
        except ValueError:
            await self._send_error("invalid_message", message_id)
            return
        actor = await self._current_actor()
        if actor is None:
            return
        if team_id not in self.team_ids:
            if len(self.team_ids) >= MAX_TEAM_SUBSCRIPTIONS:
                await self._send_error("too_many_subscriptions", message_id)
                return
            if team_id not in await followable_team_ids(actor):
                await self._send_error("team_forbidden", message_id)
                return
            if not await self._follow(team_id):
                await self._send_error("try_again_later", message_id)
                return
        await self.send_json({"type": "subscribed", "team_id": team_id, "id": message_id})
        if after is not None:
            await self._replay(after, include_user=False, team_ids={team_id})

    async def _on_unsubscribe(self, content: dict[str, Any], message_id: str | int | None) -> None:
        try:
            team_id = team_id_from(content.get("team_id"))
        except ValueError:
            await self._send_error("invalid_message", message_id)
            return
        await self._unfollow(team_id)
        await self.send_json({"type": "unsubscribed", "team_id": team_id, "reason": "requested", "id": message_id})

    async def stream_event(self, event: dict[str, Any]) -> None:
        """A ``stream.event`` sent to one of this socket's groups; its payload goes out as it is."""
        payload = event.get("payload")
        if not isinstance(payload, dict):
            logger.warning("Dropped a stream event without a payload object.")
            return
        if not self.is_open:
            return
        team_id = event.get("team_id")
        if team_id is not None and team_id not in self.team_ids:
            return  # sent before this socket stopped following the team
        group = team_group(team_id) if team_id is not None else user_group(self.user_id)
        event_id = event.get("event_id")
        if isinstance(event_id, int) and self._already_sent(group, event_id):
            return
        actor = await self._current_actor()
        if actor is None:
            return
        if team_id is not None and team_id not in await followable_team_ids(actor):
            await self._unfollow(team_id)
            await self.send_json({"type": "unsubscribed", "team_id": team_id, "reason": "membership_ended"})
            return
        await self.send_json(payload)
        if isinstance(event_id, int):
            self._remember(event_id)
        if payload.get("type") == NOTIFICATION_EVENT and team_id is None:
            await mark_delivered(user_id=self.user_id, notification_ids=[payload.get("id")])

    # --- Replay ------------------------------------------------------------------------------------

    async def _replay(self, after: int, *, include_user: bool, team_ids: set[str]) -> None:
        """Send what the client missed after ``after`` in the given streams. Groups are joined already,
        so an event committed while the backlog is read arrives live too and is dropped as a duplicate."""
        groups = [team_group(team_id) for team_id in sorted(team_ids)]
        if include_user:
            groups.append(user_group(self.user_id))
        if not groups:
            return
        backlog: Backlog = await load_backlog(
            user_id=self.user_id if include_user else None, team_ids=team_ids, after=after
        )
        for group in groups:
            self.watermarks[group] = max(self.watermarks.get(group, 0), backlog.head)
        if backlog.resync:
            await self.send_json({"type": "resync_required", "last_event_id": backlog.head})
            return
        delivered: list[Any] = []
        for stream_event in backlog.events:
            if stream_event.id in self.recent_set:
                continue
            await self.send_json(stream_frame(stream_event))
            self._remember(stream_event.id)
            if stream_event.user_id is not None and stream_event.type == NOTIFICATION_EVENT:
                delivered.append(stream_event.payload.get("id"))
        if delivered:
            await mark_delivered(user_id=self.user_id, notification_ids=delivered)
        await self.send_json({"type": "resumed", "last_event_id": backlog.head, "count": len(backlog.events)})

    def _already_sent(self, group: str, event_id: int) -> bool:
        return event_id <= self.watermarks.get(group, 0) or event_id in self.recent_set

    def _remember(self, event_id: int) -> None:
        if len(self.recent_ids) == self.recent_ids.maxlen:
            self.recent_set.discard(self.recent_ids[0])
        self.recent_ids.append(event_id)
        self.recent_set.add(event_id)

    # --- Groups ------------------------------------------------------------------------------------

    async def _join(self, group: str) -> bool:
        """Join a group; the channel layer is best-effort, so a failure is reported, not raised."""
        try:
            await self.channel_layer.group_add(group, self.channel_name)
        except Exception as error:
            logger.warning("could not join a stream group (%s)", type(error).__name__)
            return False
        self.groups.append(group)
        return True

    async def _follow(self, team_id: str) -> bool:
        if not await self._join(team_group(team_id)):
            return False
        self.team_ids.add(team_id)
        return True

    async def _unfollow(self, team_id: str) -> None:
        self.team_ids.discard(team_id)
        group = team_group(team_id)
        self.watermarks.pop(group, None)
        if group in self.groups:
            self.groups.remove(group)
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception as error:
                logger.warning("could not leave a stream group (%s)", type(error).__name__)

    async def _leave_all(self) -> None:
        for group in self.groups:
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception as error:
                logger.warning("could not leave a stream group (%s)", type(error).__name__)
        self.groups = []
        self.team_ids.clear()

    # --- Authentication ----------------------------------------------------------------------------

    async def _current_actor(self) -> Actor | None:
        """The actor the token stands for now; a token no longer valid closes the socket."""
        actor: Actor | None = await resolve_actor(self.token)
        if actor is not None and str(actor.user.pk) == self.user_id:
            self.checked_at = time.monotonic()
            return actor
        await self._close_unauthenticated()
        return None

    async def _close_unauthenticated(self) -> None:
        self.is_open = False
        await self._leave_all()
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def _send_error(self, code: str, message_id: str | int | None = None) -> None:
        frame: dict[str, Any] = {"type": "error", "code": code}
        if message_id is not None:
            frame["id"] = message_id
        await self.send_json(frame)


class NotFoundConsumer(AsyncWebsocketConsumer):
    """Any other websocket path: refused before the handshake completes."""

    async def connect(self) -> None:
        await self.close()
