"""Every welfare-technology operation for every role. IT's operations never reveal health: a care alert is
a 404 for IT exactly like for staff outside the citizen's care (see also test_it_privacy.py)."""

from typing import Any

from django.utils import timezone

from tests.matrix import Row, statuses
from velfaerdsteknologi.models import DeviceStatus

IT_ONLY = statuses(403, it=200)
IT_CREATES = statuses(403, it=201)


def _once(world: Any, name: str, make):  # type: ignore[no-untyped-def]
    if not hasattr(world, name):
        setattr(world, name, make())
    return getattr(world, name)


def _assignment(world: Any):  # type: ignore[no-untyped-def]
    from tests.velfaerdsteknologi.factories import AssignmentFactory

    def make():  # type: ignore[no-untyped-def]
        world.device.status = DeviceStatus.RESERVED
        world.device.save()
        return AssignmentFactory(device=world.device, citizen=world.citizen)

    return _once(world, "_assignment", make)


def _care_alert(world: Any):  # type: ignore[no-untyped-def]
    from tests.velfaerdsteknologi.factories import AlertFactory

    return _once(world, "_care_alert", lambda: AlertFactory(device=world.device, citizen=world.citizen))


def _maintenance_task(world: Any):  # type: ignore[no-untyped-def]
    from tests.velfaerdsteknologi.factories import MaintenanceTaskFactory

    return _once(world, "_maintenance", lambda: MaintenanceTaskFactory(device=world.device))


def _device(world: Any) -> dict[str, Any]:
    return {"device_id": world.device.pk}


def _model(world: Any) -> dict[str, Any]:
    return {"model_id": world.device.model_id}


def _citizen_cpr(world: Any) -> dict[str, Any]:
    from backend import cpr

    return {"cpr": cpr.decrypt(world.citizen.cpr_ciphertext).digits}


def _heartbeat(world: Any) -> dict[str, Any]:
    return {"readings": [{"sequence": 1, "kind": "heartbeat", "measured_at": timezone.now().isoformat()}]}


ROWS = [
    # The device itself.
    Row("GET", "/api/v1/device/me", statuses(401, device=200)),
    Row("POST", "/api/v1/telemetry", statuses(401, device=200), body=_heartbeat),
    # Catalogue.
    Row("GET", "/api/v1/device-categories", IT_ONLY),
    Row("GET", "/api/v1/device-models", IT_ONLY),
    Row(
        "POST",
        "/api/v1/device-models",
        IT_CREATES,
        body=lambda w: {"manufacturer": "Doro", "model_number": "Secure 580", "category": "fall_detector"},
    ),
    Row("GET", "/api/v1/device-models/{model_id}", IT_ONLY, path_params=_model),
    Row(
        "PATCH",
        "/api/v1/device-models/{model_id}",
        IT_ONLY,
        path_params=_model,
        body=lambda w: {"name": "Omdøbt", "service_interval_days": 180},
    ),
    Row("GET", "/api/v1/device-models/{model_id}/alert-rules", IT_ONLY, path_params=_model),
    Row(
        "PUT",
        "/api/v1/device-models/{model_id}/alert-rules/{kind}",
        IT_ONLY,
        path_params=lambda w: {**_model(w), "kind": "battery"},
        body=lambda w: {"alert_low": 10, "warning_low": 25},
    ),
    # Devices.
    Row("GET", "/api/v1/devices", IT_ONLY),
    Row(
        "POST",
        "/api/v1/devices",
        IT_CREATES,
        body=lambda w: {"model_id": str(w.device.model_id), "serial_number": "NEW-0001"},
    ),
    Row("GET", "/api/v1/devices/export", IT_ONLY),
    Row(
        "POST",
        "/api/v1/devices/import",
        IT_ONLY,
        body=lambda w: {
            "csv": f"serial_number,manufacturer,model_number\nCSV-1,{w.device.model.manufacturer},"
            f"{w.device.model.model_number}\n",
            "dry_run": True,
        },
    ),
    Row("GET", "/api/v1/devices/{device_id}", IT_ONLY, path_params=_device),
    Row("PATCH", "/api/v1/devices/{device_id}", IT_ONLY, path_params=_device, body=lambda w: {"firmware_version": "2"}),
    Row(
        "POST",
        "/api/v1/devices/{device_id}/transitions",
        IT_ONLY,
        path_params=_device,
        body=lambda w: {"to_status": "in_repair", "reason": "Knap sidder fast"},
    ),
    Row("GET", "/api/v1/devices/{device_id}/transitions", IT_ONLY, path_params=_device),
    Row("GET", "/api/v1/devices/{device_id}/credentials", IT_ONLY, path_params=_device),
    Row("POST", "/api/v1/devices/{device_id}/credentials", IT_CREATES, path_params=_device),
    Row(
        "DELETE",
        "/api/v1/devices/{device_id}/credentials/{credential_id}",
        IT_ONLY,
        path_params=lambda w: {**_device(w), "credential_id": w.device.credentials.first().pk},
    ),
    # Assignments: IT sees the citizen's name, address and phone, nothing more.
    Row("GET", "/api/v1/device-assignments", IT_ONLY),
    Row(
        "POST",
        "/api/v1/device-assignments",
        IT_CREATES,
        body=lambda w: {"device_id": str(w.device.pk), "citizen_id": str(w.citizen.pk)},
    ),
    Row(
        "GET",
        "/api/v1/device-assignments/{assignment_id}",
        IT_ONLY,
        path_params=lambda w: {"assignment_id": _assignment(w).pk},
    ),
    Row(
        "POST",
        "/api/v1/device-assignments/{assignment_id}/install",
        IT_ONLY,
        path_params=lambda w: {"assignment_id": _assignment(w).pk},
    ),
    Row(
        "POST",
        "/api/v1/device-assignments/{assignment_id}/return",
        IT_ONLY,
        path_params=lambda w: {"assignment_id": _assignment(w).pk},
    ),
    Row(
        "POST",
        "/api/v1/device-assignments/{assignment_id}/consent",
        IT_ONLY,
        path_params=lambda w: {"assignment_id": _assignment(w).pk},
        body=lambda w: {"basis": "consent", "reference": "Journal 2026-17", "review_on": "2099-01-01"},
    ),
    # IT's work lists.
    Row("GET", "/api/v1/it/board", IT_ONLY),
    Row("GET", "/api/v1/it/maintenance", IT_ONLY),
    Row(
        "POST",
        "/api/v1/it/maintenance/{task_id}/complete",
        IT_ONLY,
        path_params=lambda w: {"task_id": _maintenance_task(w).pk},
        body=lambda w: {"result": "passed"},
    ),
    Row("GET", "/api/v1/it/return-tasks", IT_ONLY),
    Row("POST", "/api/v1/it/citizens/lookup", IT_ONLY, body=_citizen_cpr),
    # Alerts: a health alert reaches the citizen's care team and nobody else, IT included.
    Row("GET", "/api/v1/device-alerts", statuses(403, it=200, staff_in_team=200, staff_out_of_team=200)),
    Row(
        "GET",
        "/api/v1/device-alerts/{alert_id}",
        statuses(403, staff_in_team=200, staff_out_of_team=404, it=404),
        path_params=lambda w: {"alert_id": _care_alert(w).pk},
    ),
    Row(
        "POST",
        "/api/v1/device-alerts/{alert_id}/acknowledge",
        statuses(403, staff_in_team=200, staff_out_of_team=404, it=404),
        path_params=lambda w: {"alert_id": _care_alert(w).pk},
    ),
    Row(
        "POST",
        "/api/v1/device-alerts/{alert_id}/resolve",
        statuses(403, staff_in_team=200, staff_out_of_team=404, it=404),
        path_params=lambda w: {"alert_id": _care_alert(w).pk},
    ),
]
