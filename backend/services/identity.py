"""Logins, app sessions and their tokens.

A login creates an ``AppSession`` with a short-lived access token and a refresh token. Refreshing
rotates the refresh token; presenting a refresh token that was already exchanged revokes the whole
session (the token family), because only a thief or a broken client does that.
"""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyotp
from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet, Value
from django.http import HttpRequest
from django.utils import timezone

from backend import cpr, oidc
from backend.access import login_ended_by_change, login_valid, user_may_log_in
from backend.access.declaration import declared
from backend.access.rules import Moments
from backend.errors import ApplicationError, InvalidInput, NotAuthenticated, NotFound
from backend.models import AppSession, Citizen, ExternalIdentity, LoginFlow, Relative, Staff, Token, User
from backend.ratelimit import (
    client_address,
    failure_count,
    failure_limit_check,
    failure_record,
    failures_clear,
    lockout_check,
    rate_limit,
)
from backend.tokens import (
    ACCESS_PREFIX,
    APP_CODE_PREFIX,
    REFRESH_PREFIX,
    hash_secret,
    looks_like,
    new_secret,
)

Audience = AppSession.Audience


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    access_expires_at: datetime
    refresh_expires_at: datetime
    session: AppSession

    @property
    def expires_in(self) -> int:
        return int(settings.ACCESS_TOKEN_TTL_SECONDS)


@dataclass(frozen=True)
class ClientInfo:
    ip_address: str | None
    user_agent: str


def client_info(request: HttpRequest) -> ClientInfo:
    address = client_address(request)
    return ClientInfo(
        ip_address=address if address != "unknown" else None,
        user_agent=(request.headers.get("User-Agent") or "")[:300],
    )


def _tokens_issue(session: AppSession) -> TokenPair:
    now = timezone.now()
    access, refresh = new_secret(ACCESS_PREFIX), new_secret(REFRESH_PREFIX)
    access_expires = min(now + timedelta(seconds=settings.ACCESS_TOKEN_TTL_SECONDS), session.expires_at)
    refresh_expires = min(now + timedelta(seconds=settings.REFRESH_TOKEN_TTL_SECONDS), session.expires_at)
    Token.objects.bulk_create(
        [
            Token(session=session, kind=Token.Kind.ACCESS, token_hash=hash_secret(access), expires_at=access_expires),
            Token(
                session=session, kind=Token.Kind.REFRESH, token_hash=hash_secret(refresh), expires_at=refresh_expires
            ),
        ]
    )
    return TokenPair(access, refresh, access_expires, refresh_expires, session)


@transaction.atomic
def session_start(
    *,
    user: User,
    audience: str,
    client: ClientInfo,
    install_id: str = "",
    device_name: str = "",
    acr: str = "",
) -> TokenPair:
    now = timezone.now()
    if install_id:
        # A new login from the same install replaces the install's earlier session.
        AppSession.objects.filter(user=user, install_id=install_id, revoked_at__isnull=True).update(
            revoked_at=now, revoke_reason=AppSession.RevokeReason.LOGOUT
        )
    session = AppSession.objects.create(
        user=user,
        audience=audience,
        install_id=install_id,
        device_name=device_name,
        acr=acr,
        ip_address=client.ip_address,
        user_agent=client.user_agent,
        expires_at=now + timedelta(seconds=settings.APP_SESSION_MAX_AGE_SECONDS),
        last_used_at=now,
    )
    return _tokens_issue(session)


def _token_failures_check(client: ClientInfo) -> None:
    """A client that keeps presenting bad tokens or codes is refused for a while; valid exchanges are never
    counted, so apps sharing an address (a care centre's network) do not hold each other up."""
    key = client.ip_address or "unknown"
    failure_limit_check(scope="token-failures", key=key, limit=settings.RATE_LIMIT_PER_ADDRESS)


def _token_failure(client: ClientInfo, error: ApplicationError) -> ApplicationError:
    failure_count(scope="token-failures", key=client.ip_address or "unknown", limit=settings.RATE_LIMIT_PER_ADDRESS)
    return error


def tokens_refresh(*, refresh_token: str, client: ClientInfo) -> TokenPair:
    _token_failures_check(client)
    if not looks_like(refresh_token, REFRESH_PREFIX):
        raise _token_failure(client, NotAuthenticated("The refresh token is not valid.", code="invalid_refresh_token"))
    outcome = _tokens_refresh(hash_secret(refresh_token))
    if isinstance(outcome, ApplicationError):
        raise _token_failure(client, outcome)
    return outcome


@transaction.atomic
def _tokens_refresh(token_hash: str) -> TokenPair | ApplicationError:
    now = timezone.now()
    token = Token.objects.select_related("session__user").filter(token_hash=token_hash, kind=Token.Kind.REFRESH).first()
    if token is None:
        return NotAuthenticated("The refresh token is not valid.", code="invalid_refresh_token")
    session = token.session
    if login_ended_by_change(session):
        return NotAuthenticated("The session has been signed out.", code="session_revoked")
    # Compare-and-set: of two concurrent exchanges of one token exactly one wins.
    claimed = Token.objects.filter(pk=token.pk, used_at__isnull=True).update(used_at=now)
    if not claimed:
        _session_revoke(session, reason=AppSession.RevokeReason.REFRESH_REUSE, now=now)
        return NotAuthenticated(
            "This refresh token was already used; the session has been signed out.", code="refresh_token_reused"
        )
    if token.expires_at <= now or not login_valid(session, Moments(now=now)):
        return NotAuthenticated("The refresh token has expired.", code="refresh_token_expired")
    AppSession.objects.filter(pk=session.pk).update(last_used_at=now)
    return _tokens_issue(session)


def _session_revoke(session: AppSession, *, reason: str, now: datetime) -> None:
    AppSession.objects.filter(pk=session.pk, revoked_at__isnull=True).update(revoked_at=now, revoke_reason=reason)
    Token.objects.filter(session=session, kind=Token.Kind.ACCESS).delete()


@transaction.atomic
def session_revoke(*, session: AppSession, reason: str = AppSession.RevokeReason.LOGOUT) -> None:
    """Sign one app install out: every token of the session stops working on the next request."""
    _session_revoke(session, reason=reason, now=timezone.now())


@transaction.atomic
def user_sessions_revoke(*, user: User, reason: str = AppSession.RevokeReason.SIGNED_OUT_ELSEWHERE) -> int:
    """Sign the user out everywhere: every live session and its tokens stop working on the next request."""
    now = timezone.now()
    live = AppSession.objects.filter(user=user, revoked_at__isnull=True)
    session_ids = list(live.values_list("pk", flat=True))
    count = live.filter(pk__in=session_ids).update(revoked_at=now, revoke_reason=reason)
    Token.objects.filter(session_id__in=session_ids, kind=Token.Kind.ACCESS).delete()
    return count


def sessions_of(user: User, *, current: AppSession | None = None) -> QuerySet[AppSession]:
    """The user's live logins, newest use first, each with ``is_current`` telling whether it is ``current``."""
    is_current = Q(pk=current.pk) if current is not None else Value(False)
    return AppSession.objects.filter(declared().session.q(), user=user).annotate(
        is_current=ExpressionWrapper(is_current, output_field=BooleanField())
    )


def token_revoke(*, token: str) -> None:
    """RFC 7009 semantics: revoking an unknown or already revoked token succeeds silently."""
    if not (looks_like(token, ACCESS_PREFIX) or looks_like(token, REFRESH_PREFIX)):
        return
    found = Token.objects.select_related("session").filter(token_hash=hash_secret(token)).first()
    if found is not None:
        session_revoke(session=found.session)


# --- Password + TOTP (embedded and demo mode) ---------------------------------------------------


def password_login(
    *, username: str, password: str, totp_code: str, client: ClientInfo, install_id: str, device_name: str
) -> TokenPair:
    if not settings.PASSWORD_LOGIN_ENABLED:
        raise NotFound("Password login is not enabled; log in through your identity provider.")
    address = client.ip_address or "unknown"
    account = username.strip().lower()
    rate_limit(scope="login-address", key=address, limit=settings.RATE_LIMIT_PER_ADDRESS)
    rate_limit(scope="login-account", key=account, limit=settings.RATE_LIMIT_PER_ACCOUNT)
    lockout_check(scope="account", key=account)
    lockout_check(scope="address", key=address)
    user = authenticate(username=username, password=password)
    # A user the access declaration refuses (deactivated) is refused like a wrong password.
    if user is None or not user_may_log_in(user) or not totp_verify(user, totp_code):
        failure_record(scope="account", key=account)
        failure_record(scope="address", key=address)
        raise NotAuthenticated("Wrong username, password or one-time code.", code="invalid_credentials")
    failures_clear(scope="account", key=account)
    audience = Audience.STAFF if hasattr(user, "staff") else Audience.CITIZEN
    return session_start(
        user=user,
        audience=audience,
        client=client,
        install_id=install_id,
        device_name=device_name,
        acr="password+totp",
    )


def totp_verify(user: User, code: str) -> bool:
    """Check a TOTP code (±1 step of clock drift) and use it up: the same code never works twice."""
    if not user.totp_secret:
        return False
    totp = pyotp.TOTP(user.totp_secret)
    current = totp.timecode(datetime.now(tz=UTC))
    for step in (current - 1, current, current + 1):
        if step > user.totp_last_step and hmac.compare_digest(totp.generate_otp(step), code.strip()):
            # Compare-and-set, so that two requests racing with one code cannot both pass.
            claimed = User.objects.filter(pk=user.pk, totp_last_step__lt=step).update(totp_last_step=step)
            if claimed:
                user.totp_last_step = step
            return bool(claimed)
    return False


# --- OpenID Connect login (authorisation code + PKCE on both legs) ------------------------------


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass(frozen=True)
class LoginStart:
    """Where to send the browser, and the state that will come back with it."""

    authorization_url: str
    state: str


def login_flow_start(
    *,
    audience: str,
    app_redirect_uri: str = "",
    app_code_challenge: str = "",
    app_state: str = "",
    install_id: str = "",
    device_name: str = "",
    web_next: str = "",
    client: ClientInfo,
) -> LoginStart:
    """Begin a login: record the flow and return the identity provider's authorisation URL."""
    rate_limit(scope="login-address", key=client.ip_address or "unknown", limit=settings.RATE_LIMIT_PER_ADDRESS)
    if not web_next:
        if app_redirect_uri not in settings.APP_REDIRECT_URIS:
            raise InvalidInput("redirect_uri", "This redirect URI is not registered for the app.")
        if not (43 <= len(app_code_challenge) <= 128):
            raise InvalidInput("code_challenge", "A PKCE S256 code challenge is required.")
    provider = oidc.provider(audience)
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(64)
    # Built first: when the provider cannot be reached, no flow row is left behind.
    url = provider.authorization_url(state=state, nonce=nonce, code_verifier=verifier)
    LoginFlow.objects.create(
        audience=audience,
        state=state,
        nonce=nonce,
        provider_code_verifier=verifier,
        app_redirect_uri=app_redirect_uri,
        app_code_challenge=app_code_challenge,
        app_state=app_state,
        web_next=web_next,
        install_id=install_id,
        device_name=device_name,
        expires_at=timezone.now() + timedelta(seconds=settings.LOGIN_FLOW_TTL_SECONDS),
    )
    return LoginStart(authorization_url=url, state=state)


@dataclass(frozen=True)
class CallbackResult:
    flow: LoginFlow
    app_code: str = ""


def login_flow_callback(*, audience: str, state: str, code: str, browser_state: str = "") -> CallbackResult:
    """The identity provider sent the browser back: verify the login and find or link the person.

    A state is good for one callback, whatever its outcome. A browser login (``web_next``) is only
    completed in the browser that started it (``browser_state``), so that nobody can push a login
    of their own into someone else's browser.
    """
    expired = NotAuthenticated("The login has expired or was already completed. Start again.", code="login_expired")
    now = timezone.now()
    with transaction.atomic():
        flow = LoginFlow.objects.filter(state=state, audience=audience, completed_at__isnull=True).first()
        if flow is None or flow.expires_at <= now:
            raise expired
        if not LoginFlow.objects.filter(pk=flow.pk, completed_at__isnull=True).update(completed_at=now):
            raise expired
    if flow.web_next and not (browser_state and hmac.compare_digest(browser_state, flow.state)):
        raise expired
    verified = oidc.provider(audience).verify_callback(
        code=code, code_verifier=flow.provider_code_verifier, nonce=flow.nonce
    )
    with transaction.atomic():
        user = _user_for_login(audience, verified)
        app_code = new_secret(APP_CODE_PREFIX) if not flow.web_next else ""
        LoginFlow.objects.filter(pk=flow.pk).update(
            user=user, acr=verified.acr, app_code_hash=hash_secret(app_code) if app_code else ""
        )
    flow.refresh_from_db()
    return CallbackResult(flow=flow, app_code=app_code)


def login_flow_redeem(*, code: str, code_verifier: str, redirect_uri: str, client: ClientInfo) -> TokenPair:
    """The app exchanges its one-time code and PKCE verifier for tokens."""
    _token_failures_check(client)
    invalid = NotAuthenticated("The authorisation code is invalid or expired.", code="invalid_grant")
    if not looks_like(code, APP_CODE_PREFIX):
        raise _token_failure(client, invalid)
    flow = (
        LoginFlow.objects.select_related("user")
        .filter(app_code_hash=hash_secret(code), completed_at__isnull=False, redeemed_at__isnull=True)
        .first()
    )
    if flow is None or flow.user is None:
        raise _token_failure(client, invalid)
    # Every exchange attempt uses the code up, right or wrong: a stolen code gets one guess at the verifier.
    if not LoginFlow.objects.filter(pk=flow.pk, redeemed_at__isnull=True).update(redeemed_at=timezone.now()):
        raise _token_failure(client, invalid)
    if (
        flow.expires_at <= timezone.now()
        or flow.app_redirect_uri != redirect_uri
        or not hmac.compare_digest(_s256(code_verifier), flow.app_code_challenge)
    ):
        raise _token_failure(client, invalid)
    if not user_may_log_in(flow.user):
        raise NotAuthenticated("This account is disabled.", code="account_disabled")
    return session_start(
        user=flow.user,
        audience=flow.audience,
        client=client,
        install_id=flow.install_id,
        device_name=flow.device_name,
        acr=flow.acr,
    )


def _user_for_login(audience: str, verified: "oidc.VerifiedLogin") -> User:
    identity = (
        ExternalIdentity.objects.select_related("user").filter(issuer=verified.issuer, subject=verified.subject).first()
    )
    if identity is not None:
        ExternalIdentity.objects.filter(pk=identity.pk).update(last_login_at=timezone.now())
        user = identity.user
        if audience == Audience.CITIZEN and verified.cpr is not None:
            _citizen_link(user, verified.cpr)
    else:
        user = _citizen_side_user(verified) if audience == Audience.CITIZEN else _staff_user(verified)
        ExternalIdentity.objects.create(
            user=user, issuer=verified.issuer, subject=verified.subject, last_login_at=timezone.now()
        )
    if not user_may_log_in(user):
        raise NotAuthenticated("This account is disabled.", code="account_disabled")
    if audience == Audience.STAFF and not Staff.objects.filter(user=user).exists():
        raise NotAuthenticated("No staff account matches this login.", code="unknown_staff")
    return user


def _citizen_link(user: User, cpr_number: cpr.CprNumber) -> None:
    """A person known from earlier logins (say, as a relative) who has since been registered as a citizen."""
    if not Citizen.objects.filter(user=user).exists():
        Citizen.objects.filter(cpr_hash=cpr.keyed_hash(cpr_number), user__isnull=True).update(user=user)


def _citizen_side_user(verified: "oidc.VerifiedLogin") -> User:
    """A MitID login is the citizen it names by CPR, or else a relative (a person in someone's network)."""
    citizen = None
    if verified.cpr:
        # Locked so that two simultaneous first logins of one citizen make one account, not two.
        citizen = (
            Citizen.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(cpr_hash=cpr.keyed_hash(verified.cpr))
            .first()
        )
    if citizen is not None and citizen.user is not None:
        return citizen.user
    user = User.objects.create(
        username=f"mitid-{secrets.token_hex(8)}",
        display_name=verified.name or (citizen.full_name if citizen is not None else ""),
        is_active=True,
    )
    user.set_unusable_password()
    user.save(update_fields=["password"])
    if citizen is not None:
        Citizen.objects.filter(pk=citizen.pk).update(user=user)
    else:
        Relative.objects.create(user=user)
    return user


def _staff_user(verified: "oidc.VerifiedLogin") -> User:
    """Staff are registered by the municipality first; the provider's username finds them."""
    if not verified.username:
        raise NotAuthenticated("No staff account matches this login.", code="unknown_staff")
    user = User.objects.filter(username__iexact=verified.username, staff__isnull=False, is_active=True).first()
    if user is None:
        raise NotAuthenticated("No staff account matches this login.", code="unknown_staff")
    return user
