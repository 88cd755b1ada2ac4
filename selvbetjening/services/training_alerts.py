"""Staff acting on training alerts: acknowledging that they have seen one, resolving it with a note.

Alerts are raised by the progression service when a session reports pain at the stop level. Only staff
of the episode's own team act on them (see ``selectors.caseload.access_training_alert_for_change``).
"""

from django.db import transaction
from django.utils import timezone

from backend.actors import Actor
from backend.audit import access_log_record
from backend.errors import Conflict
from backend.models import AccessLogEntry
from selvbetjening.models import TrainingAlert

Status = TrainingAlert.Status


def _locked(alert: TrainingAlert) -> TrainingAlert:
    return TrainingAlert.objects.select_for_update().get(pk=alert.pk)


def _log_change(actor: Actor, alert: TrainingAlert) -> None:
    access_log_record(
        actor=actor,
        citizens=[alert.citizen],
        resource_type="training_alert",
        action=AccessLogEntry.Action.UPDATE,
        resource_id=str(alert.pk),
    )


@transaction.atomic
def training_alert_acknowledge(*, alert: TrainingAlert, by: Actor) -> tuple[TrainingAlert, bool]:
    """Mark an open alert as seen. Acknowledging one already acknowledged changes nothing and returns
    ``changed=False``; a resolved alert cannot be acknowledged again (409 ``training_alert_resolved``)."""
    locked = _locked(alert)
    if locked.status == Status.RESOLVED:
        raise Conflict("The alert is already resolved.", code="training_alert_resolved")
    if locked.status == Status.ACKNOWLEDGED:
        return locked, False
    locked.status = Status.ACKNOWLEDGED
    locked.acknowledged_at = timezone.now()
    locked.acknowledged_by = by.user
    locked.save(update_fields=["status", "acknowledged_at", "acknowledged_by"])
    _log_change(by, alert)
    return locked, True


@transaction.atomic
def training_alert_resolve(*, alert: TrainingAlert, by: Actor, note: str) -> TrainingAlert:
    """Close an alert with a note on what was done. Resolved is final: resolving again, or reopening by
    acknowledging, is 409 ``training_alert_resolved``. An alert resolved unseen counts as seen too."""
    locked = _locked(alert)
    if locked.status == Status.RESOLVED:
        raise Conflict("The alert is already resolved.", code="training_alert_resolved")
    now = timezone.now()
    locked.status = Status.RESOLVED
    locked.resolved_at = now
    locked.resolved_by = by.user
    locked.resolution_note = note
    if locked.acknowledged_at is None:
        locked.acknowledged_at = now
        locked.acknowledged_by = by.user
    locked.save(
        update_fields=[
            "status",
            "resolved_at",
            "resolved_by",
            "resolution_note",
            "acknowledged_at",
            "acknowledged_by",
        ]
    )
    _log_change(by, alert)
    return locked
