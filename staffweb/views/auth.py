"""Logging in and out of the staff pages."""

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from backend import web_sessions
from backend.errors import ApplicationError
from staffweb.forms import LoginForm, add_error
from staffweb.views.base import AUDIENCE, page

STATUS_OF_REFUSAL = {"rate_limited": 429, "locked_out": 429}


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False)
    return target if allowed and target.startswith("/staff/") else reverse("staffweb:triage")


def login(request: HttpRequest) -> HttpResponse:
    """Password + one-time code in the demo and embedded mode; the municipality's identity provider when
    it is configured."""
    next_url = _next(request)
    if web_sessions.web_actor(request, AUDIENCE) is not None:
        return HttpResponseRedirect(next_url)
    form = LoginForm(request.POST or None) if settings.PASSWORD_LOGIN_ENABLED else None
    status = 200
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            web_sessions.password_web_login(request, audience=AUDIENCE, **form.cleaned_data)
        except ApplicationError as error:
            add_error(form, error)
            status = STATUS_OF_REFUSAL.get(error.code, 200)
        else:
            return HttpResponseRedirect(next_url)
    provider_login = ""
    if settings.OIDC_PROVIDERS["staff"]["issuer"]:
        provider_login = reverse("staff-web-login") + "?" + urlencode({"next": next_url})
    return page(
        request,
        "staffweb/login.html",
        {"form": form, "next": next_url, "provider_login": provider_login},
        status=status,
    )


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    web_sessions.web_logout(request, AUDIENCE, web_sessions.web_actor(request, AUDIENCE))
    return HttpResponseRedirect(reverse("staffweb:login"))


@require_POST
def logout_everywhere(request: HttpRequest) -> HttpResponse:
    actor = web_sessions.web_actor(request, AUDIENCE)
    if actor is not None:
        web_sessions.web_logout_everywhere(request, actor)
    return HttpResponseRedirect(reverse("staffweb:login"))
