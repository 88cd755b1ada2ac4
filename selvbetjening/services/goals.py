"""Goals and their ratings."""

from datetime import date
from typing import Any
from uuid import UUID

from django.db import transaction

from backend.actors import Actor
from backend.audit import access_log_record, read_logged
from backend.client_ids import create_once
from backend.concurrency import require_version, save_with_version
from backend.errors import Conflict, InvalidInput
from backend.models import AccessLogEntry
from backend.timeutil import municipal_today
from selvbetjening import events
from selvbetjening.models import Episode, Goal, GoalRating
from selvbetjening.selectors.conditions import condition_unlisted
from selvbetjening.services.common import rater_role

Action = AccessLogEntry.Action
EDITABLE_FIELDS = (
    "description",
    "rank",
    "area",
    "condition_code",
    "condition_display",
    "direction",
    "baseline_level",
    "target_level",
    "baseline_gas",
    "gas_weight",
    "gas_minus_2",
    "gas_minus_1",
    "gas_0",
    "gas_plus_1",
    "gas_plus_2",
    "copm_importance",
    "due_date",
    "expressed_by",
    "lifecycle_status",
    "achievement_status",
)


def _goal_rules(goal: Goal, episode: Episode) -> None:
    """The rules a goal meets whatever changed; 422 naming the field that breaks one."""
    if not episode.start_date <= goal.due_date <= episode.planned_end_date:
        raise InvalidInput("due_date", "must be within the episode.")
    if goal.direction == Goal.Direction.IMPROVE and goal.target_level > goal.baseline_level:
        raise InvalidInput("target_level", "is worse than the baseline level for an improvement goal.")
    if goal.direction == Goal.Direction.MAINTAIN and goal.target_level != goal.baseline_level:
        raise InvalidInput("target_level", "must equal the baseline level for a goal of keeping a level.")


def _condition_listed(code: Any) -> None:
    """A goal's condition is on the municipality's FSIII code list, once it keeps one."""
    if condition_unlisted(code):
        raise InvalidInput("condition_code", "is not a condition on the municipality's FSIII code list.")


def _running(episode: Episode) -> None:
    if episode.status in (Episode.Status.COMPLETED, Episode.Status.CANCELLED):
        raise Conflict("The episode has ended.", code="episode_ended")


def _log(actor: Actor, episode: Episode, resource_type: str, action: str, resource_id: UUID) -> None:
    access_log_record(
        actor=actor,
        citizens=[episode.citizen],
        resource_type=resource_type,
        action=action,
        resource_id=str(resource_id),
    )


@transaction.atomic
def goal_create(*, episode: Episode, by: Actor, **fields: Any) -> Goal:
    """A goal set together with the citizen, in their words, tied to an FSIII condition."""
    _running(episode)
    goal = Goal(episode=episode, created_by=by.user, **fields)
    _goal_rules(goal, episode)
    _condition_listed(goal.condition_code)
    goal.save()
    _log(by, episode, "goal", Action.CREATE, goal.pk)
    return goal


@transaction.atomic
def goal_update(*, goal: Goal, by: Actor, version: int, changes: dict[str, Any]) -> Goal:
    """Change a goal if nobody else changed it since ``version`` was read (409 otherwise)."""
    require_version(goal, version)
    episode = goal.episode
    _running(episode)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput(sorted(unknown)[0], "cannot be changed.")
    if "condition_code" in changes:
        _condition_listed(changes["condition_code"])
    for name, value in changes.items():
        setattr(goal, name, value)
    _goal_rules(goal, episode)
    save_with_version(goal, expected_version=version, update_fields=list(changes))
    _log(by, episode, "goal", Action.UPDATE, goal.pk)
    return goal


@transaction.atomic
def goal_rate(
    *,
    goal: Goal,
    by: Actor,
    rating_id: UUID | None,
    rated_on: date | None,
    gas_score: int | None,
    function_level: int | None,
    copm_performance: int | None,
    copm_satisfaction: int | None,
    note: str,
) -> tuple[GoalRating, bool]:
    """Record a rating by the citizen or staff; a retry with the same ``rating_id`` and the same rating
    returns the first (``backend.client_ids``), the id with another rating is 422 ``id_reused``.

    The date must fall within the episode and not in the future.
    """
    episode = goal.episode
    scores = {
        "gas_score": gas_score,
        "function_level": function_level,
        "copm_performance": copm_performance,
        "copm_satisfaction": copm_satisfaction,
        "note": note,
    }

    def create() -> GoalRating:
        today = municipal_today()
        last_day = min(today, episode.ended_on) if episode.ended_on else today
        day = rated_on or today
        if not episode.start_date <= day <= last_day:
            raise InvalidInput("rated_on", "must be within the episode and not in the future.")
        if goal.lifecycle_status == Goal.LifecycleStatus.CANCELLED:
            raise Conflict("The goal is cancelled.", code="goal_cancelled")
        if all(value is None for value in (gas_score, function_level, copm_performance, copm_satisfaction)):
            raise InvalidInput("gas_score", "give at least one of gas_score, function_level or the COPM scores.")
        return GoalRating.objects.create(
            id=rating_id or None,
            goal=goal,
            rated_on=day,
            rater_role=rater_role(by),
            rated_by=by.user,
            rated_by_name=by.user.display_name,
            **scores,
        )

    def is_same(existing: GoalRating) -> bool:
        return (
            existing.goal_id == goal.pk
            and existing.rated_by_id == by.user.pk
            and (rated_on is None or existing.rated_on == rated_on)
            and all(getattr(existing, name) == value for name, value in scores.items())
        )

    if rating_id is None:
        rating, created = create(), True
    else:
        rating, created = create_once(
            find=lambda: GoalRating.objects.filter(pk=rating_id).first(), is_same=is_same, create=create, what="rating"
        )
    if not created:
        read_logged(by, [episode.citizen_id], "goal_rating", rating.pk)
        return rating, False
    _log(by, episode, "goal_rating", Action.CREATE, rating.pk)
    transaction.on_commit(
        lambda: events.goal_rated(goal_id=goal.pk, rating_id=rating.pk, citizen_id=episode.citizen_id)
    )
    return rating, True
