"""Words for the welfare-technology codes, as IT's pages show them."""

from typing import Any

from velfaerdsteknologi.models import (
    AlertSeverity,
    AlertStatus,
    ConsentBasis,
    DeviceStatus,
    MaintenanceKind,
    MaintenanceTask,
    ReturnTask,
    TelemetryKind,
)

STATUS = dict(DeviceStatus.choices)
MAINTENANCE = dict(MaintenanceKind.choices)
RESULT = dict(MaintenanceTask.Result.choices)
TELEMETRY = dict(TelemetryKind.choices)
SEVERITY = dict(AlertSeverity.choices)
ALERT_STATUS = dict(AlertStatus.choices)
RETURN_REASON = dict(ReturnTask.Reason.choices)
CONSENT = dict(ConsentBasis.choices)


def transitions(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {**item, "from_words": STATUS.get(item["from_status"], ""), "to_words": STATUS.get(item["to_status"], "")}
        for item in items
    ]


def maintenance(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            **item,
            "kind_words": MAINTENANCE.get(item["kind"], item["kind"]),
            "result_words": RESULT.get(item["result"], ""),
        }
        for item in items
    ]


def alerts(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            **item,
            "kind_words": "Intet livstegn" if item["kind"] == TelemetryKind.HEARTBEAT else TELEMETRY.get(item["kind"]),
            "severity_words": SEVERITY.get(item["severity"], ""),
            "status_words": ALERT_STATUS.get(item["status"], ""),
        }
        for item in items
    ]


def returns(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**item, "reason_words": RETURN_REASON.get(item["reason"], item["reason"])} for item in items]


def devices(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**item, "status_words": STATUS.get(item["status"], "")} for item in items]


def board(sections: dict[str, Any]) -> dict[str, Any]:
    """The health board's sections with words for their codes."""
    words = {
        "offline": devices,
        "low_battery": devices,
        "maintenance_due": maintenance,
        "maintenance_overdue": maintenance,
        "pending_returns": returns,
        "consent_reviews_due": lambda items: [
            {**item, "basis_words": CONSENT.get(item["consent_basis"], "")} for item in items
        ],
    }
    return {key: {**section, "items": words[key](section["items"])} for key, section in sections.items()}
