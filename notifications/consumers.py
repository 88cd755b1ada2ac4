"""The websocket stream of ``/ws/v1/``: transport only — authenticate, join groups, forward events.

The access token is never put in the URL (URLs end up in logs): native apps send it in the
``Authorization`` header, browsers as a ``Sec-WebSocket-Protocol`` entry ``mestring.bearer.<token>``
next to ``mestring.v1``.
"""

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from backend.auth import actor_for_access_token

PROTOCOL = "mestring.v1"
BEARER_PROTOCOL_PREFIX = "mestring.bearer."
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403


def user_group(user_id: Any) -> str:
    return f"user.{user_id}"


def _header(scope: dict[str, Any], name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def bearer_token(scope: dict[str, Any]) -> str:
    authorization = _header(scope, b"authorization")
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    for protocol in scope.get("subprotocols", []):
        if protocol.startswith(BEARER_PROTOCOL_PREFIX):
            return protocol[len(BEARER_PROTOCOL_PREFIX) :]
    return ""


def origin_allowed(scope: dict[str, Any]) -> bool:
    origin = _header(scope, b"origin")
    return not origin or origin in settings.WEBSOCKET_ALLOWED_ORIGINS


class StreamConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        if not origin_allowed(self.scope):
            await self.close(code=CLOSE_FORBIDDEN_ORIGIN)
            return
        actor = await database_sync_to_async(actor_for_access_token)(bearer_token(self.scope))
        if actor is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user_id = actor.user.pk
        self.groups = [user_group(self.user_id)]
        for group in self.groups:
            await self.channel_layer.group_add(group, self.channel_name)
        offered = self.scope.get("subprotocols", [])
        await self.accept(subprotocol=PROTOCOL if PROTOCOL in offered else None)
        await self.send_json({"type": "hello", "user_id": str(self.user_id)})

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong", "id": content.get("id")})
        else:
            await self.send_json({"type": "error", "code": "unknown_message"})

    async def stream_event(self, event: dict[str, Any]) -> None:
        await self.send_json(event["payload"])
