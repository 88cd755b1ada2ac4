"""The header's navigation: what the logged-in staff member's roles may open."""

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from backend import i18n
from backend.actors import CARE
from staffweb.views.base import TEAM_LEAD

NAVIGATION = (
    ("triage", "Mit team", "staffweb:triage", CARE),
    ("inbox", "Henvendelser", "staffweb:inbox", CARE),
    ("work", "Alarmer og opgaver", "staffweb:work", CARE),
    ("team", "Teamet", "staffweb:team", TEAM_LEAD),
)


def navigation(request: HttpRequest) -> dict[str, Any]:
    actor = getattr(request, "actor", None)
    if actor is None:
        return {"staff_nav": {}}
    items = [
        {"key": key, "label": label, "url": reverse(name)}
        for key, label, name, roles in NAVIGATION
        if actor.roles & roles
    ]
    return {"staff_nav": {"user": actor.user, "role_name": i18n.name(actor.audit_role), "items": items}}
