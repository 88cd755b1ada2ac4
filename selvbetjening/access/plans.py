"""Training plans: fetched for the one who may see or change them, the read logged."""

from uuid import UUID

from backend.actors import Actor
from backend.audit import read_logged
from backend.errors import Forbidden, NotFound
from selvbetjening.models import (
    TrainingPlan,
)
from selvbetjening.selectors.plans import training_plans_visible_to, with_plan_shape


def _training_plan(actor: Actor, plan_id: UUID | str) -> TrainingPlan:
    try:
        return with_plan_shape(training_plans_visible_to(actor)).get(pk=plan_id)
    except (TrainingPlan.DoesNotExist, ValueError) as exc:
        raise NotFound("No such training plan.") from exc


def access_training_plan(actor: Actor, plan_id: UUID | str, *, reads: str = "training_plan") -> TrainingPlan:
    """A plan ``actor`` may see, its read logged; not found otherwise."""
    plan = _training_plan(actor, plan_id)
    read_logged(actor, [plan.citizen_id], reads, plan.pk)
    return plan


def require_episode_team(actor: Actor, team_id: UUID) -> None:
    """Only care staff of the episode's own team change its plans; staff of another team caring for
    the same citizen may read them, hence 403 rather than 404."""
    if team_id not in actor.care_team_ids():
        raise Forbidden("Only staff of the episode's team can change its training plans.", code="not_episode_team")


def access_training_plan_for_change(actor: Actor, plan_id: UUID | str, *, reads: str | None = None) -> TrainingPlan:
    """A plan the staff member may change: its episode is run by one of their care teams. With ``reads`` a
    page shows it to be changed, and the read of ``reads`` is logged; without, a write's service logs what
    it does."""
    plan = _training_plan(actor, plan_id)
    require_episode_team(actor, plan.episode.team_id)
    if reads is not None:
        read_logged(actor, [plan.citizen_id], reads, plan.pk)
    return plan
