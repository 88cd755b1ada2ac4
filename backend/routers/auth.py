"""Logging in and out: OpenID Connect with PKCE, token refresh with rotation, revocation."""

from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib.auth import login as session_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from ninja import Query, Router, Schema, Status
from pydantic import Field

from backend import web_sessions
from backend.actors import ANY_USER, Actor
from backend.auth import UserBearer
from backend.errors import ApplicationError, InvalidInput, NotAuthenticated
from backend.models import AppSession
from backend.problems import problem_response
from backend.schemas import RevokeIn, TokenOut, TokenRequestIn
from backend.services import identity
from backend.web_session_cookies import uses_app_cookie

router = Router(tags=["auth"])

AudienceName = Literal["citizen", "staff"]
WEB_LOGIN_STATE_KEY = "web_login_state"
CITIZEN_CALLBACK_PATH = "/api/v1/auth/citizen/callback"


class AppRedirect(HttpResponseRedirect):
    """A redirect back to the app, often to its own URI scheme (``dk.mestring.app:``).

    Only for URIs checked against ``APP_REDIRECT_URIS`` when the login began.
    """

    def __init__(self, redirect_to: str) -> None:
        self.allowed_schemes = [urlsplit(redirect_to).scheme]
        super().__init__(redirect_to)


class AuthorizeQuery(Schema):
    redirect_uri: str = Field(max_length=300)
    code_challenge: str = Field(min_length=43, max_length=128)
    code_challenge_method: Literal["S256"]
    state: str = Field(default="", max_length=300)
    install_id: str = Field(default="", max_length=64)
    device_name: str = Field(default="", max_length=100)


class CallbackQuery(Schema):
    state: str = Field(max_length=100)
    code: str | None = Field(default=None, max_length=2000)
    error: str | None = Field(default=None, max_length=200)


@router.get("/{audience}/authorize", response={302: None}, auth=None, summary="Start an app login (PKCE)")
def authorize(request: HttpRequest, audience: AudienceName, query: Query[AuthorizeQuery]) -> HttpResponseRedirect:
    started = identity.login_flow_start(
        audience=audience,
        app_redirect_uri=query.redirect_uri,
        app_code_challenge=query.code_challenge,
        app_state=query.state,
        install_id=query.install_id,
        device_name=query.device_name,
        client=identity.client_info(request),
    )
    return HttpResponseRedirect(started.authorization_url)


@router.get(
    "/{audience}/callback",
    response={302: None, 200: None},
    auth=None,
    summary="Return from the identity provider",
    description=(
        "Redirects a native app's login back to the app with a login code (302). A citizen-app browser "
        "login ends in a page (200) that sets the app's SameSite=Strict login cookie and moves on to the app."
    ),
)
def callback(request: HttpRequest, audience: AudienceName, query: Query[CallbackQuery]) -> HttpResponse:
    if query.error or not query.code:
        raise NotAuthenticated("The identity provider did not complete the login.", code="login_refused")
    # The citizen app's login cookie is SameSite=Strict, so the provider's redirect back does not carry
    # it: which browser started the login is in a cookie of its own (set by ``web_login_start``).
    browser_state = request.session.pop(WEB_LOGIN_STATE_KEY, "") or request.COOKIES.get(
        settings.APP_LOGIN_STATE_COOKIE_NAME, ""
    )
    result = identity.login_flow_callback(
        audience=audience, state=query.state, code=query.code, browser_state=browser_state
    )
    flow = result.flow
    if flow.web_next:
        assert flow.user is not None
        web_audience = web_sessions.web_app_audience(flow.web_next)
        if web_audience is not None and web_audience == flow.audience:
            web_sessions.provider_web_login(request, user=flow.user, audience=flow.audience, acr=flow.acr)
            if uses_app_cookie(flow.web_next):
                return _continue_on_this_site(flow.web_next)
            return HttpResponseRedirect(flow.web_next)
        session_login(request, flow.user, backend="django.contrib.auth.backends.ModelBackend")
        return HttpResponseRedirect(flow.web_next)
    params = {"code": result.app_code}
    if flow.app_state:
        params["state"] = flow.app_state
    return AppRedirect(f"{flow.app_redirect_uri}?{urlencode(params)}")


@router.post("/token", response=TokenOut, auth=None, summary="Exchange a login code, refresh, or (demo) password")
def token(request: HttpRequest, payload: TokenRequestIn) -> dict[str, Any]:
    client = identity.client_info(request)
    if payload.grant_type == "authorization_code":
        if not (payload.code and payload.code_verifier and payload.redirect_uri):
            raise InvalidInput("code", "code, code_verifier and redirect_uri are required.")
        pair = identity.login_flow_redeem(
            code=payload.code, code_verifier=payload.code_verifier, redirect_uri=payload.redirect_uri, client=client
        )
    elif payload.grant_type == "refresh_token":
        if not payload.refresh_token:
            raise InvalidInput("refresh_token", "A refresh token is required.")
        pair = identity.tokens_refresh(refresh_token=payload.refresh_token, client=client)
    else:
        if not (payload.username and payload.password and payload.totp_code):
            raise InvalidInput("username", "username, password and totp_code are required.")
        pair = identity.password_login(
            username=payload.username,
            password=payload.password,
            totp_code=payload.totp_code,
            client=client,
            install_id=payload.install_id,
            device_name=payload.device_name,
        )
    return {
        "access_token": pair.access_token,
        "expires_in": pair.expires_in,
        "refresh_token": pair.refresh_token,
        "refresh_expires_at": pair.refresh_expires_at,
        "session_id": pair.session.pk,
    }


@router.post("/revoke", response={204: None}, auth=None, summary="Revoke a token and its session")
def revoke(request: HttpRequest, payload: RevokeIn) -> Status:
    identity.token_revoke(token=payload.token)
    return Status(204, None)


@router.post("/logout", response={204: None}, auth=UserBearer(roles=ANY_USER), summary="Sign this device out")
def logout(request: HttpRequest) -> Status:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    if actor.session is not None:
        identity.session_revoke(session=actor.session)
    return Status(204, None)


def _continue_on_this_site(next_url: str) -> HttpResponse:
    """The end of a citizen-app login: the login's cookie is set on this answer, and the page moves on by
    itself (no script). A redirect would still count as the provider's cross-site navigation, which
    does not carry a SameSite=Strict cookie; a navigation from this page is the platform's own."""
    page = format_html(
        '<!doctype html><html lang="da"><head><meta charset="utf-8">'
        '<meta http-equiv="refresh" content="0;url={}"><title>Du er logget ind – Mestring</title></head>'
        '<body><main><p>Du er logget ind.</p><p><a href="{}">Fortsæt til appen</a></p></main></body></html>',
        next_url,
        next_url,
    )
    response = HttpResponse(page, content_type="text/html; charset=utf-8")
    response.delete_cookie(settings.APP_LOGIN_STATE_COOKIE_NAME, path=CITIZEN_CALLBACK_PATH, samesite="Lax")
    response["Cache-Control"] = "no-store"
    return response


def web_login_start(request: HttpRequest, audience: str, next_url: str) -> HttpResponse:
    """Browser login for staff pages and the admin: same provider, ends in a Django session.

    The state is remembered in this browser's session; the callback completes the login only there.
    """
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "/admin/"
    try:
        started = identity.login_flow_start(audience=audience, web_next=next_url, client=identity.client_info(request))
    except ApplicationError as error:
        # A plain Django view: the API's error mapping does not reach here.
        return problem_response(
            status=error.status,
            code=error.code,
            title=error.title,
            detail=error.detail,
            headers=error.headers(),
            **error.extra,
        )
    response = HttpResponseRedirect(started.authorization_url)
    if audience == AppSession.Audience.CITIZEN:
        # Lax: sent with the provider's top-level redirect back to the callback, and only there.
        response.set_cookie(
            settings.APP_LOGIN_STATE_COOKIE_NAME,
            started.state,
            max_age=settings.LOGIN_FLOW_TTL_SECONDS,
            path=CITIZEN_CALLBACK_PATH,
            secure=bool(settings.SESSION_COOKIE_SECURE),
            httponly=True,
            samesite="Lax",
        )
    else:
        request.session[WEB_LOGIN_STATE_KEY] = started.state
    return response
