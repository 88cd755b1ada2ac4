"""Who may see which device, assignment, task and alert: decided here and nowhere else.

IT staff see the devices of their own municipality and everything that hangs off them, but of citizens
only what installation and pickup need. Care staff see health alerts for the citizens in their teams' care.
What may not be seen is reported exactly like what does not exist.
"""

from uuid import UUID

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, Q, QuerySet

from backend import cpr
from backend.access import citizens_visible_to
from backend.actors import IT, Actor
from backend.audit import read_logged
from backend.errors import NotFound
from backend.models import Citizen
from velfaerdsteknologi.models import (
    OPEN_ALERT_STATUSES,
    Alert,
    AlertAudience,
    Assignment,
    Device,
    DeviceModel,
    MaintenanceTask,
    ReturnTask,
    TelemetryKind,
)


def is_it(actor: Actor) -> bool:
    return bool(actor.roles & IT) and actor.staff is not None


def _municipality_id(actor: Actor):
    return actor.staff.municipality_id if is_it(actor) and actor.staff is not None else None


def devices_visible_to(actor: Actor) -> QuerySet[Device]:
    municipality_id = _municipality_id(actor)
    if municipality_id is None:
        return Device.objects.none()
    return Device.objects.filter(municipality_id=municipality_id)


def _get[M: Model](queryset: QuerySet[M], object_id: UUID | str, what: str) -> M:
    try:
        return queryset.get(pk=object_id)
    except (ObjectDoesNotExist, ValueError) as exc:
        raise NotFound(f"No such {what}.") from exc


def access_device(actor: Actor, device_id: UUID | str) -> Device:
    queryset = devices_visible_to(actor).select_related("model__category")
    return _get(queryset, device_id, "device")


def access_citizen_for_installation(actor: Actor, number: cpr.CprNumber) -> Citizen:
    """A citizen of the IT staff member's municipality, found by CPR number for an installation, the read of
    their contact details logged; not found otherwise."""
    municipality_id = _municipality_id(actor)
    citizen = (
        Citizen.objects.filter(cpr_hash=cpr.keyed_hash(number), municipality_id=municipality_id).first()
        if municipality_id is not None
        else None
    )
    if citizen is None:
        raise NotFound("No such citizen.")
    read_logged(actor, [citizen], "citizen_contact")
    return citizen


def access_device_model(actor: Actor, model_id: UUID | str) -> DeviceModel:
    if not is_it(actor):
        raise NotFound("No such device model.")
    return _get(DeviceModel.objects.select_related("category"), model_id, "device model")


def assignments_visible_to(actor: Actor) -> QuerySet[Assignment]:
    return Assignment.objects.filter(device__in=devices_visible_to(actor))


def access_assignment(actor: Actor, assignment_id: UUID | str) -> Assignment:
    queryset = assignments_visible_to(actor).select_related("device__model__category", "citizen")
    return _get(queryset, assignment_id, "assignment")


def maintenance_tasks_visible_to(actor: Actor) -> QuerySet[MaintenanceTask]:
    return MaintenanceTask.objects.filter(device__in=devices_visible_to(actor))


def access_maintenance_task(actor: Actor, task_id: UUID | str) -> MaintenanceTask:
    return _get(maintenance_tasks_visible_to(actor).select_related("device__model"), task_id, "maintenance task")


def return_tasks_visible_to(actor: Actor) -> QuerySet[ReturnTask]:
    return ReturnTask.objects.filter(assignment__device__in=devices_visible_to(actor))


def alerts_visible_to(actor: Actor) -> QuerySet[Alert]:
    """IT sees device alerts of its municipality's devices; care staff see health alerts of citizens in
    their teams' care. Nobody sees the other audience's alerts."""
    visible = Q(pk__in=[])
    municipality_id = _municipality_id(actor)
    if municipality_id is not None:
        visible |= Q(audience=AlertAudience.IT, device__municipality_id=municipality_id)
    if actor.staff is not None and actor.care_team_ids():
        visible |= Q(audience=AlertAudience.CARE, citizen__in=citizens_visible_to(actor).values("pk"))
    return Alert.objects.filter(visible)


def access_alert(actor: Actor, alert_id: UUID | str) -> Alert:
    queryset = alerts_visible_to(actor).select_related("device__model", "citizen")
    return _get(queryset, alert_id, "alert")


def installed_devices_for_care(actor: Actor, citizen_id: UUID | str) -> list[Assignment]:
    """The devices placed with a citizen now (active assignments), for care staff of a team caring for the
    citizen: model, status and when it was last heard from, nothing of its telemetry. The read is logged;
    anyone else gets none (the citizen page itself is a 404 for them)."""
    if actor.staff is None or not actor.care_team_ids():
        return []
    assignments = list(
        Assignment.objects.filter(
            citizen_id=citizen_id,
            citizen__in=citizens_visible_to(actor).values("pk"),
            returned_at__isnull=True,
        )
        .select_related("device__model__category")
        .order_by("-installed_at", "-created_at", "-id")
    )
    read_logged(actor, [assignment.citizen_id for assignment in assignments], "device_assignment")
    return assignments


# What a device says of itself: it has gone silent, or its battery is low. These are IT's alerts, naming no
# citizen; the caseload counts them for the citizen the device is placed with (its ``device_offline`` and
# ``device_battery_low`` reasons).
DEVICE_OWN_ALERT_KINDS = (TelemetryKind.HEARTBEAT, TelemetryKind.BATTERY)


def device_troubles_for_care(actor: Actor, *, limit: int) -> list[tuple[Alert, Assignment]]:
    """The unresolved alerts a device raises about itself (``DEVICE_OWN_ALERT_KINDS``) while it is placed with a
    citizen in the care of one of the staff member's teams (an assignment not returned, as the caseload counts
    it), oldest first, each with that assignment and its citizen. Care staff learn that the device is silent
    or low and since when, as the triage card says it; the alert itself stays IT's to handle. Two queries;
    the caller logs the read of the citizens it shows."""
    if actor.staff is None or not actor.care_team_ids():
        return []
    placed = Assignment.objects.filter(returned_at__isnull=True, citizen__in=citizens_visible_to(actor).values("pk"))
    alerts = list(
        Alert.objects.filter(
            kind__in=DEVICE_OWN_ALERT_KINDS,
            citizen__isnull=True,
            status__in=OPEN_ALERT_STATUSES,
            device__in=placed.values("device"),
        )
        .select_related("device__model__category")
        .order_by("opened_at", "id")[:limit]
    )
    if not alerts:
        return []
    by_device = {
        assignment.device_id: assignment
        for assignment in placed.filter(device__in=[alert.device_id for alert in alerts]).select_related("citizen")
    }
    # A device returned between the two reads is left out.
    return [(alert, by_device[alert.device_id]) for alert in alerts if alert.device_id in by_device]
