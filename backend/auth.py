"""Bearer authentication for the API, with the roles an operation requires declared beside it.

``UserBearer(roles=...)`` resolves an opaque access token to an ``Actor``; a token that is missing,
malformed, expired or revoked is a 401; a valid token whose roles do not fit is a 403.
"""

from datetime import timedelta

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

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


class AuthedRequest(HttpRequest):
    """The request a handler behind ``UserBearer`` receives."""

    auth: Actor
