"""The header's navigation: what the logged-in staff member's roles may open."""

from functools import cache
from typing import Any

from django.http import HttpRequest
from django.urls import get_script_prefix, reverse
from django.utils.translation import gettext_lazy as _

from backend import i18n
from backend.actors import CARE, Actor
from staffweb.views.base import TEAM_LEAD
from staffweb.views.effekt import EFFECT_READERS
from staffweb.views.it import IT_NAVIGATION

NAVIGATION = (
    ("triage", _("Mit team"), "staffweb:triage", CARE),
    ("inbox", _("Henvendelser"), "staffweb:inbox", CARE),
    ("work", _("Alarmer og opgaver"), "staffweb:work", CARE),
    ("team", _("Teamet"), "staffweb:team", TEAM_LEAD),
    *IT_NAVIGATION,
    ("effekt", _("Effekt"), "staffweb:effekt:overview", EFFECT_READERS),
)


def home_url(actor: Actor | None) -> str:
    """Where a login lands: the first page of the navigation the staff member's roles may open."""
    names = [name for _, _, name, roles in NAVIGATION if actor is not None and actor.roles & roles]
    return reverse(names[0] if names else "staffweb:triage")


@cache
def _address(name: str, prefix: str) -> str:
    """A navigation item's address: the same for every request under the same script prefix."""
    return reverse(name)


def navigation(request: HttpRequest) -> dict[str, Any]:
    actor = getattr(request, "actor", None)
    if actor is None:
        return {"staff_nav": {}}
    prefix = get_script_prefix()
    items = [
        {"key": key, "label": label, "url": _address(name, prefix)}
        for key, label, name, roles in NAVIGATION
        if actor.roles & roles
    ]
    return {"staff_nav": {"user": actor.user, "role_name": i18n.name(actor.audit_role), "items": items}}
