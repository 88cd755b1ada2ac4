"""Episodes and their goals: fetched for the one who may see or change them, the read logged."""

from collections.abc import Sequence
from uuid import UUID

from django.db.models import QuerySet

from backend.access import paginate_logged
from backend.actors import Actor
from backend.audit import read_logged
from backend.errors import Forbidden, NotFound
from selvbetjening.models import Episode, Goal
from selvbetjening.selectors.episodes import (
    episodes_visible_to,
    goals_visible_to,
    goals_with_latest,
    with_episode_shape,
)


def _episode(actor: Actor, episode_id: UUID | str) -> Episode:
    try:
        return with_episode_shape(episodes_visible_to(actor)).get(pk=episode_id)
    except (Episode.DoesNotExist, ValueError) as exc:
        raise NotFound("No such episode.") from exc


def access_episode(actor: Actor, episode_id: UUID | str, *, reads: str = "episode") -> Episode:
    """An episode ``actor`` may see, its read logged; not found otherwise."""
    episode = _episode(actor, episode_id)
    read_logged(actor, [episode.citizen_id], reads, episode.pk)
    return episode


def _episode_team_only(actor: Actor, episode: Episode) -> None:
    """Staff change an episode and its goals only through an active care role in its own team; staff of
    another team caring for the same citizen may read it, hence 403 rather than 404."""
    if episode.team_id not in actor.care_team_ids():
        raise Forbidden("Only staff of the episode's team can change it.", code="not_episode_team")


def episodes_page(
    actor: Actor, episodes: QuerySet[Episode], *, cursor: str | None, limit: int | None, order: Sequence[str]
) -> tuple[list[Episode], str | None]:
    """One page of ``episodes`` (a list the actor may see), each citizen on the page logged as reading it."""
    return paginate_logged(
        actor,
        episodes,
        reads="episode",
        citizen_of=lambda episode: episode.citizen_id,
        cursor=cursor,
        limit=limit,
        order=order,
    )


def access_episode_for_change(actor: Actor, episode_id: UUID | str, *, reads: str | None = None) -> Episode:
    """An episode the staff member may change: visible to them, and run by one of their care teams. With
    ``reads`` a page shows it to be changed, and the read of ``reads`` is logged; without, a write's service
    logs what it does."""
    episode = _episode(actor, episode_id)
    _episode_team_only(actor, episode)
    if reads is not None:
        read_logged(actor, [episode.citizen_id], reads, episode.pk)
    return episode


def _goal(actor: Actor, goal_id: UUID | str) -> Goal:
    try:
        return goals_with_latest(goals_visible_to(actor).select_related("episode__citizen")).get(pk=goal_id)
    except (Goal.DoesNotExist, ValueError) as exc:
        raise NotFound("No such goal.") from exc


def access_goal(actor: Actor, goal_id: UUID | str, *, reads: str = "goal") -> Goal:
    """A goal ``actor`` may see, its read logged; not found otherwise."""
    goal = _goal(actor, goal_id)
    read_logged(actor, [goal.episode.citizen_id], reads, goal.pk)
    return goal


def access_goal_for_rating(actor: Actor, goal_id: UUID | str) -> Goal:
    """A goal ``actor`` may see, to rate it (the rating's service logs it); not found otherwise. Whether
    this actor may rate it is the service's rule."""
    return _goal(actor, goal_id)


def access_goal_for_change(actor: Actor, goal_id: UUID | str, *, reads: str | None = None) -> Goal:
    """A goal the staff member may change or rate: its episode is run by one of their care teams. With
    ``reads`` a page shows it to be changed or rated, and the read of ``reads`` is logged."""
    goal = _goal(actor, goal_id)
    _episode_team_only(actor, goal.episode)
    if reads is not None:
        read_logged(actor, [goal.episode.citizen_id], reads, goal.pk)
    return goal
