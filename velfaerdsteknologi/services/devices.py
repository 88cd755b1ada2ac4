"""Registering devices, moving them through their lifecycle, and managing their credentials."""

from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.errors import Conflict, InvalidInput
from backend.models import Municipality, User
from backend.timeutil import municipal_today
from velfaerdsteknologi.credentials import device_credential_issue
from velfaerdsteknologi.models import (
    Assignment,
    Device,
    DeviceCredential,
    DeviceModel,
    DeviceStatus,
    DeviceTransition,
    MaintenanceTask,
)
from velfaerdsteknologi.services.maintenance import maintenance_reminders_cancel, maintenance_schedule

S = DeviceStatus
TRANSITIONS: dict[str, frozenset[str]] = {
    S.IN_STOCK: frozenset({S.RESERVED, S.IN_USE, S.IN_REPAIR, S.LOST, S.RETIRED}),
    S.RESERVED: frozenset({S.IN_USE, S.IN_STOCK, S.LOST}),
    S.IN_USE: frozenset({S.IN_REPAIR, S.LOST, S.RETURNED}),
    S.IN_REPAIR: frozenset({S.IN_USE, S.RETURNED, S.RETIRED}),
    S.LOST: frozenset({S.RETURNED, S.RETIRED}),
    S.RETURNED: frozenset({S.CLEANING, S.IN_REPAIR, S.RETIRED}),
    S.CLEANING: frozenset({S.IN_STOCK, S.IN_REPAIR, S.RETIRED}),
    S.RETIRED: frozenset(),
}
# Reserving, installing and taking back go through the assignment, which records with whom.
ASSIGNMENT_STATUSES = frozenset({S.RESERVED, S.IN_USE, S.RETURNED})
EDITABLE_FIELDS = (
    "imei",
    "mac_address",
    "firmware_version",
    "purchase_date",
    "warranty_end",
    "next_service_due",
    "location",
)


def _unique_violation(exc: IntegrityError) -> InvalidInput:
    message = str(exc).lower()
    for field in ("imei", "mac_address"):
        if field in message:
            return InvalidInput(field, "Another device already has this value.", code="duplicate")
    return InvalidInput("serial_number", "A device of this model with this serial number exists.", code="duplicate")


def _blank_to_none(value: str | None) -> str | None:
    return value or None


@transaction.atomic
def device_register(
    *,
    municipality: Municipality,
    device_model: DeviceModel,
    serial_number: str,
    by: User | None,
    imei: str | None = None,
    mac_address: str | None = None,
    firmware_version: str = "",
    purchase_date: date | None = None,
    warranty_end: date | None = None,
    location: str = "",
) -> Device:
    """A new device in stock, with its first lifecycle step and its maintenance scheduled from the model."""
    now = timezone.now()
    try:
        with transaction.atomic():
            device = Device.objects.create(
                municipality=municipality,
                model=device_model,
                serial_number=serial_number,
                imei=_blank_to_none(imei),
                mac_address=_blank_to_none(mac_address),
                firmware_version=firmware_version,
                purchase_date=purchase_date,
                warranty_end=warranty_end,
                location=location,
                status=DeviceStatus.IN_STOCK,
                status_changed_at=now,
            )
    except IntegrityError as exc:
        raise _unique_violation(exc) from exc
    DeviceTransition.objects.create(
        device=device, from_status="", to_status=DeviceStatus.IN_STOCK, by=by, reason="Registreret"
    )
    maintenance_schedule(device=device, today=municipal_today())
    return device


@transaction.atomic
def device_update(*, device: Device, changes: dict[str, Any]) -> Device:
    for field, value in changes.items():
        if field not in EDITABLE_FIELDS:
            raise InvalidInput(field, "This field cannot be changed here.")
        setattr(device, field, _blank_to_none(value) if field in ("imei", "mac_address") else value)
    try:
        with transaction.atomic():
            device.save(update_fields=[*changes, "updated_at"])
    except IntegrityError as exc:
        raise _unique_violation(exc) from exc
    return device


def _move(*, device: Device, to_status: str, by: User | None, reason: str) -> Device:
    """Record one legal lifecycle step. Call inside a transaction holding the device's row lock."""
    if to_status not in TRANSITIONS[device.status]:
        raise Conflict(
            f"A device cannot go from {device.status} to {to_status}.",
            code="illegal_transition",
            allowed=sorted(TRANSITIONS[device.status]),
        )
    now = timezone.now()
    DeviceTransition.objects.create(device=device, from_status=device.status, to_status=to_status, by=by, reason=reason)
    device.status = to_status
    device.status_changed_at = now
    device.save(update_fields=["status", "status_changed_at", "updated_at"])
    return device


def device_locked(device: Device) -> Device:
    return Device.objects.select_for_update().select_related("model__category").get(pk=device.pk)


@transaction.atomic
def device_transition(*, device: Device, to_status: str, by: User | None, reason: str) -> Device:
    """Move a device along its lifecycle. Reserving, installing and returning belong to assignments; retiring
    cancels the device's open maintenance and its reminders, and revokes its credentials."""
    if to_status not in TRANSITIONS:
        raise InvalidInput("to_status", f"Unknown status {to_status!r}.")
    if to_status in ASSIGNMENT_STATUSES:
        raise Conflict("Reserve, install and return a device through its assignment.", code="use_assignment")
    device = device_locked(device)
    if to_status == S.IN_STOCK and Assignment.objects.filter(device=device, returned_at__isnull=True).exists():
        raise Conflict("The device is still assigned to a citizen.", code="device_assigned")
    _move(device=device, to_status=to_status, by=by, reason=reason)
    if to_status == S.RETIRED:
        now = timezone.now()
        MaintenanceTask.objects.filter(device=device, completed_at__isnull=True).update(
            completed_at=now, result=MaintenanceTask.Result.CANCELLED, notes="Enheden er kasseret"
        )
        maintenance_reminders_cancel(device=device)
        DeviceCredential.objects.filter(device=device, revoked_at__isnull=True).update(revoked_at=now)
    return device


def device_credential_rotate(*, device: Device, by: User) -> tuple[DeviceCredential, str]:
    """A new token for the device, shown once; the earlier ones stop working at once."""
    if device.status == S.RETIRED:
        raise Conflict("A retired device gets no credentials.", code="device_retired")
    return device_credential_issue(device=device, by=by)


@transaction.atomic
def device_credential_revoke(*, credential: DeviceCredential) -> DeviceCredential:
    if credential.revoked_at is None:
        credential.revoked_at = timezone.now()
        credential.save(update_fields=["revoked_at"])
    return credential
