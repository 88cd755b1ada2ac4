"""Writing the access log: one row per citizen per read or write of their personal data."""

from collections.abc import Iterable

from backend.actors import CITIZEN, RELATIVE, Actor
from backend.context import current_request_id
from backend.models import AccessLogEntry, Citizen, StaffRole

Action = AccessLogEntry.Action
Purpose = AccessLogEntry.Purpose

DEFAULT_PURPOSE = {
    CITIZEN: Purpose.OWN_USE,
    RELATIVE: Purpose.RELATIVE_SUPPORT,
    StaffRole.CARE_WORKER.value: Purpose.CARE,
    StaffRole.THERAPIST.value: Purpose.CARE,
    StaffRole.TEAM_LEAD.value: Purpose.FOLLOW_UP,
    StaffRole.IT.value: Purpose.DEVICE_INSTALLATION,
    StaffRole.ANALYST.value: Purpose.FOLLOW_UP,
}


def access_log_record(
    *,
    actor: Actor,
    citizens: Iterable[Citizen],
    resource_type: str,
    action: str,
    resource_id: str = "",
    purpose: str | None = None,
) -> None:
    """Append one row per citizen in a single query.

    Call it before a read's data is returned and inside a write's transaction, so that data never
    leaves, and no change is kept, without its log row. Any failure propagates.
    """
    role = actor.audit_role
    rows = [
        AccessLogEntry(
            actor_id=actor.user.pk,
            actor_name=actor.user.display_name,
            actor_role=role,
            citizen=citizen,
            resource_type=resource_type,
            resource_id=resource_id or str(citizen.pk),
            action=action,
            purpose=purpose or DEFAULT_PURPOSE.get(role, Purpose.CARE),
            request_id=current_request_id(),
        )
        for citizen in citizens
    ]
    if rows:
        AccessLogEntry.objects.bulk_create(rows)
