"""What the welfare-technology app may know of a citizen's episodes and goals without importing self-service:
which are the citizen's own and still running, by id and a neutral label (the kind of episode, its team and
start; a goal's rank), never a goal's words, ratings or scores.

Self-service registers the one provider when it is loaded (``AppConfig.ready``); the assignment service checks
an episode and goal against it, and IT's assign page offers them from it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from backend.errors import InvalidInput


@dataclass(frozen=True)
class GoalRef:
    id: UUID
    label: str


@dataclass(frozen=True)
class EpisodeRef:
    id: UUID
    label: str
    goals: tuple[GoalRef, ...]


EpisodesProvider = Callable[[UUID], list[EpisodeRef]]
_providers: list[EpisodesProvider] = []


def provide_open_episodes(provider: EpisodesProvider) -> None:
    """Register ``provider(citizen_id)``: the citizen's episodes that have not ended, with their goals."""
    if provider not in _providers:
        _providers.append(provider)


def open_episodes(citizen_id: UUID) -> list[EpisodeRef]:
    return [episode for provider in _providers for episode in provider(citizen_id)]


def episode_and_goal_check(*, citizen_id: UUID, episode_id: UUID | None, goal_id: UUID | None) -> None:
    """An episode and goal a device is to serve must be the citizen's own, still running, and the goal one of
    the episode's; refused on the field otherwise (the same answer whether it exists elsewhere or not at all)."""
    if episode_id is None and goal_id is None:
        return
    episodes = {episode.id: episode for episode in open_episodes(citizen_id)}
    if episode_id is not None and episode_id not in episodes:
        raise InvalidInput("episode_id", "Not one of the citizen's running episodes.", code="not_citizens_own")
    if goal_id is None:
        return
    candidates = [episodes[episode_id]] if episode_id is not None else list(episodes.values())
    if not any(goal.id == goal_id for episode in candidates for goal in episode.goals):
        raise InvalidInput("goal_id", "Not a goal of the citizen's episode.", code="not_citizens_own")
