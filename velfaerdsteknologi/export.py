"""The citizen's welfare-technology data in their export (GET /api/v1/me/export): the devices placed with them
and the alerts that concern them. Device credentials and raw telemetry stay out."""

from typing import Any

from backend.models import Citizen
from backend.services.export import export_section
from velfaerdsteknologi.models import Alert, Assignment


@export_section("welfare_technology")
def welfare_technology_export(citizen: Citizen) -> dict[str, Any]:
    assignments = Assignment.objects.filter(citizen=citizen).select_related("device__model__category")
    alerts = Alert.objects.filter(citizen=citizen).select_related("device__model")
    return {
        "assignments": [
            {
                "id": assignment.id,
                "device_category": assignment.device.model.category.name,
                "device_model": str(assignment.device.model),
                "serial_number": assignment.device.serial_number,
                "installation_address": assignment.installation_address,
                "planned_install_on": assignment.planned_install_on,
                "installed_at": assignment.installed_at,
                "planned_return_on": assignment.planned_return_on,
                "returned_at": assignment.returned_at,
                "consent_basis": assignment.consent_basis,
                "consent_reference": assignment.consent_reference,
                "consent_review_on": assignment.consent_review_on,
                "consent_recorded_at": assignment.consent_recorded_at,
                "created_at": assignment.created_at,
            }
            for assignment in assignments
        ],
        "alerts": [
            {
                "id": alert.id,
                "device_model": str(alert.device.model),
                "kind": alert.kind,
                "severity": alert.severity,
                "status": alert.status,
                "trigger_count": alert.trigger_count,
                "opened_at": alert.opened_at,
                "last_triggered_at": alert.last_triggered_at,
                "acknowledged_at": alert.acknowledged_at,
                "resolved_at": alert.resolved_at,
            }
            for alert in alerts
        ],
    }
