"""What every staff page shares: the logged-in actor from the browser's login, the role check, and the
mapping of the domain's errors to pages (a page a role may not see is a 404, as in the API)."""

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from backend import web_sessions
from backend.actors import CARE, Actor
from backend.errors import Forbidden, NotFound
from backend.models import AppSession, StaffRole

AUDIENCE = AppSession.Audience.STAFF
TEAM_LEAD = frozenset({StaffRole.TEAM_LEAD.value})
# Sent by a live list fetching itself again: not a use of the login (the idle timeout runs on).
BACKGROUND_HEADER = "X-Mestring-Background"


class StaffRequest(HttpRequest):
    """The request a staff page receives."""

    actor: Actor


def login_redirect(request: HttpRequest) -> HttpResponse:
    target = reverse("staffweb:login") + "?" + urlencode({"next": request.get_full_path()})
    if getattr(request, "htmx", False):
        # An htmx request swaps a fragment; the whole page goes to the login instead.
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target
        return response
    return HttpResponseRedirect(target)


def staff_page(roles: frozenset[str] = CARE) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """A page for staff holding one of ``roles`` right now; others get the login (anonymous) or 404."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            is_use = request.headers.get(BACKGROUND_HEADER) != "1"
            actor = web_sessions.web_actor(request, AUDIENCE, is_use=is_use)
            if actor is None:
                return login_redirect(request)
            if not actor.roles & roles:
                raise Http404
            request.actor = actor  # type: ignore[attr-defined]
            try:
                return view(request, *args, **kwargs)
            except (NotFound, Forbidden) as exc:
                raise Http404 from exc

        return wrapped

    return decorate


def shown(request: HttpRequest, reads: str) -> str | None:
    """What a page that shows citizen data to be changed asks its access function to log: the read of
    ``reads`` when the page is only shown; nothing when it is sent, as the write's service logs the write
    (a page shown again after a refused change fetches the data once more, the read logged then)."""
    return None if request.method == "POST" else reads


def page(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    return render(request, template, context, status=status)
