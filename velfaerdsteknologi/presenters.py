"""The welfare-technology app's presenters: devices, transitions, maintenance, returns, alerts, IT's board and
the device's own answers as the API and the IT pages show them. Nothing here queries: the selectors load what
each presenter reads."""

import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from backend.timeutil import municipal_today
from velfaerdsteknologi.models import (
    Alert,
    AlertAudience,
    Assignment,
    Device,
    DeviceCredential,
    DeviceTransition,
    MaintenanceTask,
    ReturnTask,
)
from velfaerdsteknologi.selectors import BoardSection, HealthBoard
from velfaerdsteknologi.services.telemetry import DUPLICATE, REFUSED, STORED, ReadingResult

ALERT_FIELDS = (
    "id",
    "device_id",
    "audience",
    "kind",
    "severity",
    "status",
    "trigger_count",
    "opened_at",
    "last_triggered_at",
    "acknowledged_at",
    "resolved_at",
    "value",
)
CREDENTIAL_FIELDS = ("id", "lookup_prefix", "created_at", "last_used_at", "revoked_at")


def device_self_out(device: Device, now: datetime) -> dict[str, Any]:
    return {"id": device.pk, "serial_number": device.serial_number, "server_time": now}


def _result_json(status: str, reason: str) -> str:
    """One reading's result as JSON, with ``%d`` for its sequence."""
    reason_json = json.dumps(reason).replace("%", "%%")
    return '{"sequence": %d, "status": ' + json.dumps(status) + ', "reason": ' + reason_json + "}"


_RESULT_JSON: dict[tuple[str, str], str] = {}


def telemetry_out(results: Sequence[ReadingResult]) -> str:
    """A batch's answer as JSON text in the shape of ``TelemetryOut``: how many readings were stored,
    duplicates or refused, and one result per reading. Each result is written from its status's template,
    as ``json.dumps`` would write it, at a fraction of the cost for 500 results."""
    counts = {STORED: 0, DUPLICATE: 0, REFUSED: 0}
    items = []
    for sequence, status, reason in results:
        counts[status] += 1
        template = _RESULT_JSON.get((status, reason))
        if template is None:
            template = _RESULT_JSON[(status, reason)] = _result_json(status, reason)
        items.append(template % sequence)
    return (
        f'{{"stored": {counts[STORED]}, "duplicates": {counts[DUPLICATE]}, "refused": {counts[REFUSED]}, '
        f'"results": [{", ".join(items)}]}}'
    )


def issued_credential_out(credential: DeviceCredential, token: str) -> dict[str, Any]:
    """A new credential with its token, shown this once."""
    return {**{name: getattr(credential, name) for name in CREDENTIAL_FIELDS}, "token": token}


def transition_out(transition: DeviceTransition) -> dict[str, Any]:
    return {
        "from_status": transition.from_status,
        "to_status": transition.to_status,
        "reason": transition.reason,
        "at": transition.at,
        "by_name": transition.by.display_name if transition.by else None,
    }


def maintenance_out(task: MaintenanceTask, today: date | None = None) -> dict[str, Any]:
    """One maintenance task as IT sees it, overdue by the municipality's date (today's unless given)."""
    today = today or municipal_today()
    return {
        "id": task.id,
        "device_id": task.device_id,
        "serial_number": task.device.serial_number,
        "kind": task.kind,
        "due_on": task.due_on,
        "is_overdue": task.completed_at is None and task.due_on < today,
        "completed_at": task.completed_at,
        "result": task.result,
        "notes": task.notes,
    }


def return_task_out(task: ReturnTask) -> dict[str, Any]:
    assignment = task.assignment
    return {
        "id": task.id,
        "reason": task.reason,
        "created_at": task.created_at,
        "assignment_id": assignment.id,
        "device_id": assignment.device_id,
        "serial_number": assignment.device.serial_number,
        "citizen": assignment.citizen,
        "installation_address": assignment.installation_address,
    }


def alert_out(alert: Alert) -> dict[str, Any]:
    """An alert; a care alert names its citizen (IT's alerts name none)."""
    item: dict[str, Any] = {name: getattr(alert, name) for name in ALERT_FIELDS}
    item["serial_number"] = alert.device.serial_number
    if alert.audience == AlertAudience.CARE and alert.citizen is not None:
        item["citizen_id"] = alert.citizen_id
        item["citizen_name"] = alert.citizen.full_name
    return item


def board_device_out(device: Device) -> dict[str, Any]:
    return {
        "id": device.id,
        "serial_number": device.serial_number,
        "model": str(device.model),
        "status": device.status,
        "location": device.location,
        "last_seen_at": device.last_seen_at,
        "battery_level": device.battery_level,
    }


def consent_review_out(assignment: Assignment) -> dict[str, Any]:
    return {
        "assignment_id": assignment.id,
        "device_id": assignment.device_id,
        "serial_number": assignment.device.serial_number,
        "citizen": assignment.citizen,
        "consent_basis": assignment.consent_basis,
        "consent_review_on": assignment.consent_review_on,
    }


def health_board_out(board: HealthBoard) -> dict[str, Any]:
    """IT's board: each section's count and its items."""

    def section(loaded: BoardSection, present: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
        return {"count": loaded.count, "items": [present(item) for item in loaded.items]}

    def maintenance(task: MaintenanceTask) -> dict[str, Any]:
        return maintenance_out(task, board.today)

    return {
        "offline": section(board.offline, board_device_out),
        "low_battery": section(board.low_battery, board_device_out),
        "maintenance_due": section(board.maintenance_due, maintenance),
        "maintenance_overdue": section(board.maintenance_overdue, maintenance),
        "pending_returns": section(board.pending_returns, return_task_out),
        "consent_reviews_due": section(board.consent_reviews_due, consent_review_out),
    }
