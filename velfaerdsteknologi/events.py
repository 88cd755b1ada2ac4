"""The events of welfare technology and whom each one reaches, through ``notifications.services.notify``.

``services.alerts`` calls them through ``transaction.on_commit`` once the alert is stored. A health alert
(about a citizen: a fall, a missed dose) reaches the care staff on duty in the teams caring for the
citizen — every care member of those teams when nobody is on duty — and the teams' live views. A device
alert (battery, a device gone silent) reaches the municipality's IT staff. Notifications carry ids and
neutral text only, never a name or a health term. A delivery that fails is logged, never raised.
"""

import logging
from uuid import UUID

from backend.access import active_care_relation_filter
from backend.models import CareRelation
from backend.selectors import care_alert_recipients, it_staff_user_ids
from notifications.services import notify, recipients_notified
from velfaerdsteknologi.models import Alert, AlertAudience, AlertSeverity, TelemetryKind

logger = logging.getLogger("velfaerdsteknologi.events")

RAISED = "device_alert.raised"
OFFLINE = "device.offline"
ACKNOWLEDGED = "device_alert.acknowledged"


def raised_dedupe_key(alert_id: UUID, severity: str) -> str:
    """One notification per alert and severity: a repeated trigger tells nobody again, an escalation does."""
    return f"device_alert.raised:{alert_id}:{severity}"


def _care_team_ids(alert: Alert) -> list[UUID]:
    if alert.audience != AlertAudience.CARE or alert.citizen_id is None:
        return []
    return list(
        CareRelation.objects.filter(active_care_relation_filter(prefix=""), citizen_id=alert.citizen_id)
        .values_list("team_id", flat=True)
        .distinct()
    )


def device_alert_raised(*, alert_id: UUID, severity: str) -> None:
    """An alert was opened, or escalated to ``severity``."""
    logger.info("event device_alert.raised alert_id=%s severity=%s", alert_id, severity)
    try:
        _raised(alert_id, severity)
    except Exception:
        logger.exception("event device_alert.raised was not delivered")


def _raised(alert_id: UUID, severity: str) -> None:
    alert = Alert.objects.select_related("device").get(pk=alert_id)
    key = raised_dedupe_key(alert_id, severity)
    team_ids = _care_team_ids(alert)
    if team_ids:
        notify(
            recipients=care_alert_recipients(team_ids),
            kind=RAISED,
            refs={"alert_id": alert_id, "device_id": alert.device_id, "citizen_id": alert.citizen_id},
            team_ids=team_ids,
            dedupe_key=key,
        )
        return
    if alert.audience == AlertAudience.CARE:
        # A health alert for a citizen no team cares for now: IT is told about the device rather than nobody.
        logger.warning("health alert %s has no care team; IT is told about the device", alert_id)
    notify(
        recipients=it_staff_user_ids(alert.device.municipality_id),
        kind=OFFLINE if alert.kind == TelemetryKind.HEARTBEAT else RAISED,
        refs={"alert_id": alert_id, "device_id": alert.device_id},
        dedupe_key=key,
    )


def device_alert_acknowledged(*, alert_id: UUID, by_user_id: UUID | None) -> None:
    """Someone took the alert on: everyone else who was told about it is told it is handled, and the care
    teams' live views show it."""
    logger.info("event device_alert.acknowledged alert_id=%s", alert_id)
    try:
        _acknowledged(alert_id, by_user_id)
    except Exception:
        logger.exception("event device_alert.acknowledged was not delivered")


def _acknowledged(alert_id: UUID, by_user_id: UUID | None) -> None:
    alert = Alert.objects.get(pk=alert_id)
    told = recipients_notified(dedupe_keys=[raised_dedupe_key(alert_id, severity) for severity in AlertSeverity.values])
    team_ids = _care_team_ids(alert)
    refs: dict[str, UUID] = {"alert_id": alert_id, "device_id": alert.device_id}
    if team_ids and alert.citizen_id is not None:
        refs["citizen_id"] = alert.citizen_id
    notify(
        recipients=told - {by_user_id},
        kind=ACKNOWLEDGED,
        refs=refs,
        team_ids=team_ids,
        dedupe_key=f"device_alert.acknowledged:{alert_id}",
    )
