"""The citizen's copy of everything the platform holds about them (GDPR art. 15 and 20).

Each app adds its own part with ``@export_section("name")``; the sections are registered when the
app is loaded, so the platform core never imports the apps.
"""

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from backend import cpr
from backend.actors import Actor
from backend.audit import access_log_record
from backend.models import AccessLogEntry, AppSession, CareRelation, Citizen

ExportSection = Callable[[Citizen], Any]
_sections: dict[str, ExportSection] = {}
ExportFormat = Callable[[Actor], Any]
# Other formats of the export than the default JSON, by name: (content type, the function making it).
_formats: dict[str, tuple[str, ExportFormat]] = {}


def export_section(name: str) -> Callable[[ExportSection], ExportSection]:
    def register(function: ExportSection) -> ExportSection:
        _sections[name] = function
        return function

    return register


def export_format(name: str, content_type: str) -> Callable[[ExportFormat], ExportFormat]:
    """Register another format of the citizen's export (``GET /me/export?format=name``); the function
    receives the citizen's actor and logs the export itself."""

    def register(function: ExportFormat) -> ExportFormat:
        _formats[name] = (content_type, function)
        return function

    return register


@transaction.atomic
def citizen_export_as(*, actor: Actor, name: str) -> tuple[str, Any]:
    """The export in a registered format: its content type and body."""
    content_type, function = _formats[name]
    return content_type, function(actor)


@transaction.atomic
def citizen_export(*, actor: Actor) -> dict[str, Any]:
    citizen = actor.citizen
    assert citizen is not None
    access_log_record(actor=actor, citizens=[citizen], resource_type="export", action=AccessLogEntry.Action.EXPORT)
    data: dict[str, Any] = {
        "exported_at": timezone.now(),
        "citizen": {
            "id": citizen.id,
            "cpr": cpr.decrypt(citizen.cpr_ciphertext).digits,
            "given_name": citizen.given_name,
            "family_name": citizen.family_name,
            "address_line": citizen.address_line,
            "postcode": citizen.postcode,
            "city": citizen.city,
            "phone": citizen.phone,
            "language": citizen.language,
            "time_zone": citizen.time_zone,
            "created_at": citizen.created_at,
        },
        "care_relations": list(
            CareRelation.objects.filter(citizen=citizen).values("id", "team__name", "purpose", "valid_from", "valid_to")
        ),
        "app_sessions": list(
            AppSession.objects.filter(user=citizen.user).values(
                "id", "device_name", "created_at", "last_used_at", "revoked_at", "revoke_reason"
            )
        ),
        "access_log": list(
            AccessLogEntry.objects.filter(citizen=citizen).values(
                "at", "actor_name", "actor_role", "action", "purpose", "resource_type", "resource_id"
            )
        ),
    }
    for name, section in sorted(_sections.items()):
        data[name] = section(citizen)
    return data
