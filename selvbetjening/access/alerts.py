"""Training alerts: fetched for the care staff who may see or act on them, the read logged."""

from uuid import UUID

from backend.actors import Actor
from backend.audit import read_logged
from backend.errors import Forbidden, NotFound
from selvbetjening.models import (
    TrainingAlert,
)
from selvbetjening.selectors.caseload import training_alerts_visible_to, with_alert_shape


def _training_alert(actor: Actor, alert_id: UUID | str) -> TrainingAlert:
    try:
        return with_alert_shape(training_alerts_visible_to(actor)).get(pk=alert_id)
    except (TrainingAlert.DoesNotExist, ValueError) as exc:
        raise NotFound("No such training alert.") from exc


def access_training_alert(actor: Actor, alert_id: UUID | str, *, reads: str = "training_alert") -> TrainingAlert:
    """An alert ``actor`` may see, its read logged; not found otherwise."""
    alert = _training_alert(actor, alert_id)
    read_logged(actor, [alert.citizen_id], reads, alert.pk)
    return alert


def access_training_alert_for_change(actor: Actor, alert_id: UUID | str) -> TrainingAlert:
    """An alert the staff member may act on: visible, and its episode run by one of their care teams
    (staff of another team caring for the citizen see it, hence 403 rather than 404)."""
    alert = _training_alert(actor, alert_id)
    if alert.episode.team_id not in actor.care_team_ids():
        raise Forbidden("Only staff of the episode's team can act on its alerts.", code="not_episode_team")
    return alert
