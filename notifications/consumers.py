"""The websocket stream of ``/ws/v1/``: transport only — authenticate, join groups, forward events.

The access token is never put in the URL (URLs end up in logs): native apps send it in the
``Authorization`` header, browsers as a ``Sec-WebSocket-Protocol`` entry ``mestring.bearer.<token>``
next to ``mestring.v1``; the server answers with ``mestring.v1`` only, so the token is not echoed.

A browser's ``Origin`` must be one of ``WEBSOCKET_ALLOWED_ORIGINS``; native apps send none. Refused
connections are closed before the handshake completes. An open socket lives exactly as long as the
API would still accept its token: the token is resolved again before every event is forwarded (and
on a ping at most every ``SESSION_RECHECK_SECONDS``), and a token that has been revoked, has expired
or whose user was deactivated closes the socket with 4401 instead of delivering the event. The app
then refreshes its token, reconnects and fetches what it missed over the API.

Client frames are JSON objects with a ``type``: ``{"type": "ping", "id": ...}`` is answered with
``{"type": "pong", "id": ...}``; anything else gets ``{"type": "error", "code": ...}``.
"""

import json
import logging
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer
from django.conf import settings

from backend.actors import Actor
from backend.auth import actor_for_access_token

PROTOCOL = "mestring.v1"
BEARER_PROTOCOL_PREFIX = "mestring.bearer."
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
SESSION_RECHECK_SECONDS = 30.0
MAX_MESSAGE_CHARACTERS = 4096
MAX_MESSAGE_ID_CHARACTERS = 100


def user_group(user_id: Any) -> str:
    return f"user.{user_id}"


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


resolve_actor = database_sync_to_async(actor_for_access_token)
logger = logging.getLogger(__name__)


class StreamConsumer(AsyncJsonWebsocketConsumer):
    """One app install's live stream: the events sent to its user's group while its token is valid."""

    token: str = ""
    user_id: str = ""
    is_open: bool = False
    checked_at: float = 0.0

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
        self.groups = [user_group(self.user_id)]
        for group in self.groups:
            await self.channel_layer.group_add(group, self.channel_name)
        offered = self.scope.get("subprotocols", [])
        await self.accept(subprotocol=PROTOCOL if PROTOCOL in offered else None)
        self.is_open = True
        await self.send_json({"type": "hello", "protocol": PROTOCOL, "user_id": self.user_id})

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
        if content.get("type") != "ping":
            await self._send_error("unknown_message", message_id)
            return
        if time.monotonic() - self.checked_at >= SESSION_RECHECK_SECONDS and not await self._still_authenticated():
            return
        await self.send_json({"type": "pong", "id": message_id})

    async def stream_event(self, event: dict[str, Any]) -> None:
        """A ``stream.event`` sent to one of this socket's groups; its payload goes out as it is."""
        payload = event.get("payload")
        if not isinstance(payload, dict):
            logger.warning("Dropped a stream event without a payload object.")
            return
        if not self.is_open or not await self._still_authenticated():
            return
        await self.send_json(payload)

    async def _still_authenticated(self) -> bool:
        actor: Actor | None = await resolve_actor(self.token)
        if actor is not None and str(actor.user.pk) == self.user_id:
            self.checked_at = time.monotonic()
            return True
        await self._close_unauthenticated()
        return False

    async def _close_unauthenticated(self) -> None:
        self.is_open = False
        for group in self.groups:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.groups = []
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
