"""Authentication for the API, with the roles an operation requires declared beside it.

``UserBearer(roles=...)`` resolves an opaque access token to an ``Actor``; a token that is missing,
malformed, expired or revoked is a 401; a valid token whose roles do not fit is a 403.

``SessionCookie(roles=...)`` is the alternative for the citizen app at ``/app/``: the same-origin
cookie login of ``backend.web_sessions`` (an ``AppSession`` of the citizen audience), so the browser
never holds a token. Unsafe methods need Django's CSRF cookie echoed in the ``X-CSRFToken`` header.
A staff page's cookie login is of another audience and opens no API operation.
"""

from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils import timezone
from ninja.security import APIKeyCookie, HttpBearer

from backend.actors import Actor
from backend.errors import Forbidden
from backend.models import AppSession
from backend.token_lookup import session_for_access_token_hash
from backend.tokens import ACCESS_PREFIX, hash_secret, looks_like

LAST_USED_RESOLUTION = timedelta(minutes=5)


def actor_for_access_token(raw: str) -> Actor | None:
    """The actor an access token stands for right now, or None. One query on the hot path."""
    if not looks_like(raw, ACCESS_PREFIX):
        return None
    found = session_for_access_token_hash(hash_secret(raw))
    if found is None:
        return None
    _expires_at, session = found
    now = timezone.now()
    if now - session.last_used_at > LAST_USED_RESOLUTION:
        AppSession.objects.filter(pk=session.pk).update(last_used_at=now)
    return Actor(user=session.user, session=session, audience=session.audience)


class UserBearer(HttpBearer):
    """Bearer auth for people; ``roles`` is the set of roles of which the caller needs one."""

    def __init__(self, roles: frozenset[str] | None = None) -> None:
        super().__init__()
        self.roles = roles

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        actor = actor_for_access_token(token)
        if actor is None:
            return None
        if self.roles is not None and not (actor.roles & self.roles):
            raise Forbidden()
        return actor


def _csrf_refused(request: HttpRequest) -> bool:
    """Django's own CSRF check (cookie + ``X-CSRFToken`` header, and the origin) on an API request."""
    check = CsrfViewMiddleware(lambda request: HttpResponse())
    check.process_request(request)
    return check.process_view(request, lambda request: HttpResponse(), (), {}) is not None


class SessionCookie(APIKeyCookie):
    """The citizen app's cookie login (``backend.web_sessions``, citizen audience) in place of a bearer token.

    No cookie, or one without a citizen-audience login, is not this caller (a 401 when nothing else
    authenticates); a login whose roles do not fit is a 403; an unsafe method without a valid CSRF token
    is a 403 ``csrf_failed`` and changes nothing.
    """

    param_name = settings.APP_SESSION_COOKIE_NAME

    def __init__(self, roles: frozenset[str] | None = None) -> None:
        # The CSRF check is made below, once the cookie is known to carry a login, with the project's
        # problem code; ninja's own would answer a bare 403 before that.
        super().__init__(csrf=False)
        self.roles = roles

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:
        actor = cookie_actor(request) if key else None
        if actor is None:
            return None
        if _csrf_refused(request):
            raise Forbidden("A valid CSRF token is required in the X-CSRFToken header.", code="csrf_failed")
        if self.roles is not None and not (actor.roles & self.roles):
            raise Forbidden()
        return actor


def cookie_actor(request: HttpRequest) -> Actor | None:
    """The citizen app's cookie login behind an API request, or None.

    The cookie holds only the key of a server-side session; the actor comes from the ``AppSession`` that
    session names, with every check of ``web_sessions.web_actor`` (citizen audience, not revoked, expired
    or idle, the user active).
    """
    # Imported here: web_sessions imports the identity services, which import this module's callers.
    from backend import web_sessions

    if not request.COOKIES.get(settings.APP_SESSION_COOKIE_NAME):
        return None
    return web_sessions.web_actor(request, AppSession.Audience.CITIZEN)


def api_caller(request: HttpRequest) -> Actor | None:
    """The person an API request comes from, as ``person_auth`` finds them, before any role check.

    A valid bearer token first; otherwise the cookie login, which on an unsafe method stands only with a
    valid CSRF token (``SessionCookie``'s check). None when neither stands: the operation then answers
    401 or 403 itself.
    """
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        actor = actor_for_access_token(token.strip())
        if actor is not None:
            return actor
    actor = cookie_actor(request)
    if actor is None:
        return None
    return None if _csrf_refused(request) else actor


def person_auth(roles: frozenset[str] | None = None) -> list:
    """A bearer token, or the citizen app's cookie login, for a person holding one of ``roles``."""
    return [UserBearer(roles=roles), SessionCookie(roles=roles)]


class AuthedRequest(HttpRequest):
    """The request a handler behind ``UserBearer`` receives."""

    auth: Actor
