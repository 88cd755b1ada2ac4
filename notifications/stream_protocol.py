"""The wire protocol of ``/ws/v1/`` (described in ``notifications.consumers``): its subprotocols and close
codes, where the handshake carries the token and the origin, and the checks of a client frame's fields."""

import uuid
from http.cookies import CookieError, SimpleCookie
from typing import Any

from django.conf import settings

PROTOCOL = "mestring.v1"
BEARER_PROTOCOL_PREFIX = "mestring.bearer."
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_TRY_AGAIN_LATER = 1013
MAX_MESSAGE_CHARACTERS = 4096
MAX_MESSAGE_ID_CHARACTERS = 100
MAX_EVENT_ID = 2**63 - 1


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


def session_cookies(scope: dict[str, Any]) -> list[str]:
    """The web apps' session cookies of a browser page, which name its logins (``backend.web_sessions``):
    the staff web's, then the citizen app's; only with an Origin, which ``origin_allowed`` checks, so no
    other site can open a socket with them."""
    if not _header(scope, b"origin"):
        return []
    cookies = SimpleCookie()
    try:
        cookies.load(_header(scope, b"cookie"))
    except CookieError:
        return []
    names = (settings.SESSION_COOKIE_NAME, settings.APP_SESSION_COOKIE_NAME)
    return [cookies[name].value for name in names if name in cookies and cookies[name].value]


def _normalised_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def origin_allowed(scope: dict[str, Any]) -> bool:
    """Browsers always send an Origin, which must be allowed; native apps send none."""
    origin = _header(scope, b"origin")
    if not origin:
        return True
    allowed = {_normalised_origin(entry) for entry in settings.WEBSOCKET_ALLOWED_ORIGINS}
    return _normalised_origin(origin) in allowed


def message_id_from(content: dict[str, Any]) -> str | int | None:
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
