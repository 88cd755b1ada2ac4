"""Facts one app establishes that another app acts on, without the two importing each other.

An app registers what it does on a fact when it is loaded (``AppConfig.ready``); the app that
establishes the fact calls the function here explicitly from its service, inside the same transaction,
so the fact and what follows from it are stored together or not at all.
"""

from collections.abc import Callable
from uuid import UUID

EpisodeEndedHandler = Callable[..., object]
_episode_ended: list[EpisodeEndedHandler] = []


def on_episode_ended(handler: EpisodeEndedHandler) -> None:
    """Register ``handler(episode_id=..., citizen_id=...)`` for when an episode is completed or cancelled."""
    if handler not in _episode_ended:
        _episode_ended.append(handler)


def episode_ended(*, episode_id: UUID, citizen_id: UUID) -> None:
    for handler in _episode_ended:
        handler(episode_id=episode_id, citizen_id=citizen_id)
