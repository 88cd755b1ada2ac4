"""The citizen app's pages: the shell every screen runs in, the login, the manifest and the service worker.

The screens themselves are ES modules that call the public API with the browser's cookie login
(``backend.auth.SessionCookie``), as a native app calls it with a bearer token.
"""

import json
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_POST

from backend import web_sessions
from backend.errors import ApplicationError
from backend.models import AppSession
from backend.routers.auth import web_login_start
from borgerapp import assets, problems
from borgerapp.forms import LoginForm

AUDIENCE = AppSession.Audience.CITIZEN
STATUS_OF_REFUSAL = {"rate_limited": 429, "locked_out": 429}
# Logging out empties what the browser kept of the app: cached screens and the data in them.
CLEAR_SITE_DATA = '"cache", "storage"'
# The login page's query parameter after signing out: "her" (this device) or "alle" (every device).
SIGNED_OUT = "logget-ud"


def _language(request: HttpRequest) -> str:
    return "en" if (request.LANGUAGE_CODE or "da").startswith("en") else "da"


@never_cache
@ensure_csrf_cookie
def shell(request: HttpRequest) -> HttpResponse:
    """The app's one page; the screens are drawn by the modules. It is the same for every user (nothing
    of the person or their roles is in it, the app asks the API), so the service worker may keep it and
    open the app from it for whoever logs in next."""
    if web_sessions.web_actor(request, AUDIENCE) is None:
        return HttpResponseRedirect(reverse("borgerapp:login"))
    context = {
        "problems": problems.MESSAGES,
        "config": {
            "api": "/api/v1",
            "websocket": "/ws/v1/",
            "serviceWorker": reverse("borgerapp:service-worker"),
            "logout": reverse("borgerapp:logout"),
            "logoutEverywhere": reverse("borgerapp:logout-everywhere"),
            "login": reverse("borgerapp:login"),
        },
        "stylesheets": [static(path) for path in assets.STYLESHEETS],
        "entry": static(assets.ENTRY),
        "preload": [static(path) for path in assets.FIRST_SCREEN],
        "language": _language(request),
    }
    return render(request, "borgerapp/shell.html", context)


@never_cache
def login(request: HttpRequest) -> HttpResponse:
    """Password + one-time code in the demo and embedded mode (the API's password grant and lockout);
    MitID through the citizen identity provider when it is configured."""
    if web_sessions.web_actor(request, AUDIENCE) is not None:
        return HttpResponseRedirect(reverse("borgerapp:shell"))
    form = LoginForm(request.POST or None) if settings.PASSWORD_LOGIN_ENABLED else None
    status = 200
    error = ""
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            web_sessions.password_web_login(request, audience=AUDIENCE, **form.cleaned_data)
        except ApplicationError as refusal:
            texts = problems.MESSAGES[_language(request)]
            error = texts.get(refusal.code, texts["fallback"])
            status = STATUS_OF_REFUSAL.get(refusal.code, 200)
        else:
            return HttpResponseRedirect(reverse("borgerapp:shell"))
    context = {
        "form": form,
        "error": error,
        "signed_out": request.GET.get(SIGNED_OUT) if request.method == "GET" else None,
        "provider_login": bool(settings.OIDC_PROVIDERS["citizen"]["issuer"]),
        "stylesheets": [static(path) for path in assets.STYLESHEETS],
        "script": static(assets.LOGIN_SCRIPT),
    }
    return render(request, "borgerapp/login.html", context, status=status)


def provider_login(request: HttpRequest) -> HttpResponse:
    """MitID through the citizen OIDC flow (``/api/v1/auth/citizen/...``), ending in this cookie login."""
    return web_login_start(request, AUDIENCE, reverse("borgerapp:shell"))


def _logged_out(where: str) -> HttpResponse:
    """To the login, which says the signing out worked (``where``: here or on every device)."""
    response = HttpResponseRedirect(f"{reverse('borgerapp:login')}?{urlencode({SIGNED_OUT: where})}")
    response["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    web_sessions.web_logout(request, AUDIENCE, web_sessions.web_actor(request, AUDIENCE))
    return _logged_out("her")


@require_POST
def logout_everywhere(request: HttpRequest) -> HttpResponse:
    actor = web_sessions.web_actor(request, AUDIENCE)
    if actor is not None:
        web_sessions.web_logout_everywhere(request, actor)
    return _logged_out("alle")


def manifest(request: HttpRequest) -> HttpResponse:
    body = {
        "name": "Mestring – min træning",
        "short_name": "Mestring",
        "description": "Din træning, dine mål og beskeder fra kommunen.",
        "lang": "da",
        "start_url": reverse("borgerapp:shell"),
        "scope": reverse("borgerapp:shell"),
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#004993",
        "icons": [
            {"src": static("borgerapp/icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("borgerapp/icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static("borgerapp/icons/icon-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }
    return JsonResponse(body, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False})


@never_cache
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, served from /app/ so that its scope is the app."""
    context = {
        "version": assets.version(),
        "shell": reverse("borgerapp:shell"),
        "precache": json.dumps(assets.precache_urls()),
        "static_prefix": settings.STATIC_URL,
    }
    response = render(request, "borgerapp/sw.js", context, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = reverse("borgerapp:shell")
    return response
