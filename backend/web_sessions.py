"""Browser logins kept in a cookie: a web page's ``Actor`` comes from an ``AppSession``, as the API's does.

A web login makes an ``AppSession`` through the identity services (the same checks, rate limits and
lockouts as the API's logins) and keeps only its id in the Django session, whose key is cycled at login
(no session fixation). Every request rebuilds the actor from that ``AppSession``: revoked, expired, its
user deactivated, of another audience, or idle longer than the audience's idle timeout, and the browser
is logged out. The browser never holds a token. Generic over the audience: the staff web app uses
``staff``; the citizen app's cookie sessions use ``citizen``.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from backend import token_lookup
from backend.access import login_valid
from backend.access.declaration import declared
from backend.access.rules import Moments
from backend.actors import Actor
from backend.errors import NotAuthenticated
from backend.models import AppSession, Token, User
from backend.services import identity
from backend.tokens import ACCESS_PREFIX, hash_secret, new_secret

Audience = AppSession.Audience
# The web apps that keep their own cookie logins, by the path they live under.
WEB_APP_PATHS = {"/staff/": Audience.STAFF, "/app/": Audience.CITIZEN}
# How often a request writes the session's last use: the idle timeout is exact to within this.
LAST_USED_RESOLUTION = timedelta(seconds=60)


@dataclass(frozen=True)
class WebPolicy:
    """How long a browser login of one audience lasts: idle, and at most."""

    idle: timedelta
    lifetime: timedelta


def policy(audience: str) -> WebPolicy:
    minutes = settings.WEB_SESSION_POLICY[audience]
    return WebPolicy(idle=timedelta(minutes=minutes["idle"]), lifetime=timedelta(minutes=minutes["lifetime"]))


def web_app_audience(path: str) -> str | None:
    """The audience of the web app serving ``path`` (a login's ``next``), or None for other pages."""
    return next((audience for prefix, audience in WEB_APP_PATHS.items() if path.startswith(prefix)), None)


def _key(audience: str) -> str:
    return f"web_session:{audience}"


def _device_name(audience: str) -> str:
    return "Medarbejder-web" if audience == Audience.STAFF else "Borger-web"


def _attach(request: HttpRequest, session: AppSession) -> None:
    """Make ``session`` this browser's login: a new Django session key, the login's id and expiry."""
    lifetime = policy(session.audience).lifetime
    request.session.cycle_key()
    request.session[_key(session.audience)] = str(session.pk)
    request.session.set_expiry(int(lifetime.total_seconds()))


def _limit_lifetime(session: AppSession) -> AppSession:
    """A browser login ends after the audience's absolute lifetime, however long the app's may last."""
    ends = session.created_at + policy(session.audience).lifetime
    if session.expires_at > ends:
        AppSession.objects.filter(pk=session.pk).update(expires_at=ends)
        session.expires_at = ends
    return session


def password_web_login(request: HttpRequest, *, audience: str, username: str, password: str, totp_code: str) -> Actor:
    """Password + one-time code (demo and embedded mode), through ``password_login`` and its checks.

    A login of the wrong kind (a citizen at the staff pages) is signed out at once and refused like a
    wrong password, so that the page does not tell which accounts exist.
    """
    # Not inside a transaction: a failed attempt must stay counted towards the lockout.
    pair = identity.password_login(
        username=username,
        password=password,
        totp_code=totp_code,
        client=identity.client_info(request),
        install_id="",
        device_name=_device_name(audience),
    )
    session = pair.session
    if session.audience != audience:
        identity.session_revoke(session=session)
        raise NotAuthenticated("Wrong username, password or one-time code.", code="invalid_credentials")
    _limit_lifetime(session)
    _attach(request, session)
    return Actor(user=session.user, session=session, audience=session.audience)


def provider_web_login(request: HttpRequest, *, user: User, audience: str, acr: str) -> Actor:
    """The identity provider confirmed ``user`` (``login_flow_callback``): start their browser login."""
    pair = identity.session_start(
        user=user,
        audience=audience,
        client=identity.client_info(request),
        device_name=_device_name(audience),
        acr=acr,
    )
    session = _limit_lifetime(pair.session)
    _attach(request, session)
    return Actor(user=session.user, session=session, audience=session.audience)


def _session_in_force(session: AppSession, audience: str, now: datetime) -> bool:
    """Valid as the access declaration judges a login, and not idle past the audience's timeout."""
    return login_valid(session, Moments(now=now)) and now - session.last_used_at <= policy(audience).idle


def web_actor(request: HttpRequest, audience: str, *, is_use: bool = True) -> Actor | None:
    """The actor this browser is logged in as for ``audience``, or None (then it is logged out here).

    One query for the login, its user, the user's person records and the staff member's memberships in force
    (``token_lookup.web_login``); a write at most once a minute to record the use. A request the page makes by
    itself (a live list fetching itself again: ``is_use=False``) does not hold off the idle timeout.
    """
    session_id = request.session.get(_key(audience))
    if not session_id:
        return None
    login = token_lookup.web_login(session_id, audience)
    session = login.session if login is not None else None
    now = timezone.now()
    if session is None or not login_valid(session, Moments(now=now)):
        web_logout(request, audience)
        return None
    if now - session.last_used_at > policy(audience).idle:
        identity.session_revoke(session=session, reason=AppSession.RevokeReason.EXPIRED)
        web_logout(request, audience)
        return None
    if is_use and now - session.last_used_at > LAST_USED_RESOLUTION:
        AppSession.objects.filter(pk=session.pk).update(last_used_at=now)
        session.last_used_at = now
    assert login is not None
    # A citizen's login acts in no team (the declaration's ``team_login``), whatever staff record its user
    # may also have: its memberships are not the actor's.
    memberships = login.memberships if declared().acts_in_teams(session) else None
    return Actor(user=session.user, session=session, audience=session.audience, _memberships=memberships)


def web_logout(request: HttpRequest, audience: str, actor: Actor | None = None) -> None:
    """Sign this browser out: its ``AppSession`` is revoked and the Django session emptied."""
    if actor is not None and actor.session is not None:
        identity.session_revoke(session=actor.session)
    request.session.flush()


def web_logout_everywhere(request: HttpRequest, actor: Actor) -> int:
    """Sign the person out on every app install and browser; then this browser too."""
    count = identity.user_sessions_revoke(user=actor.user, reason=AppSession.RevokeReason.SIGNED_OUT_ELSEWHERE)
    request.session.flush()
    return count


def socket_token_hash(session_key: str) -> str | None:
    """A websocket opened by a logged-in browser page (the session cookie, same origin): a fresh access
    token of the browser's login, for the stream's per-event access checks, which know logins by their
    access tokens; its hash, or None when the browser is not logged in to a web app.

    The token never leaves the server. It lives as the API's access tokens do (``ACCESS_TOKEN_TTL_SECONDS``,
    never past the login's end); then the socket closes with 4401 and the page opens a new one, which
    is refused once the login has ended, idled out or been signed out. Opening a socket is not a use
    of the login: it does not hold off the idle timeout.
    """
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    now = timezone.now()
    for audience in WEB_APP_PATHS.values():
        session_id = store.get(_key(audience))
        if not session_id:
            continue
        session = AppSession.objects.select_related("user").filter(pk=session_id, audience=audience).first()
        if session is None or not _session_in_force(session, audience, now):
            return None
        secret = new_secret(ACCESS_PREFIX)
        expires_at = min(now + timedelta(seconds=settings.ACCESS_TOKEN_TTL_SECONDS), session.expires_at)
        Token.objects.create(
            session=session, kind=Token.Kind.ACCESS, token_hash=hash_secret(secret), expires_at=expires_at
        )
        return hash_secret(secret)
    return None
