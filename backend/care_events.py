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


# --- Whether an episode and a goal are a citizen's own ------------------------------------------

ReferenceCheck = Callable[..., dict[str, str]]
_reference_checks: list[ReferenceCheck] = []


def on_care_reference_check(check: ReferenceCheck) -> None:
    """Register ``check(citizen_id=..., episode_id=..., goal_id=...)``, which answers the fields whose id
    does not belong to the citizen, with a reason each (empty when all do)."""
    if check not in _reference_checks:
        _reference_checks.append(check)


def care_reference_problems(*, citizen_id: UUID, episode_id: UUID | None, goal_id: UUID | None) -> dict[str, str]:
    """What is wrong with tying something of the citizen's to this episode and goal: field → reason.
    Without a registered check (the app that keeps episodes is not installed) no reference is accepted."""
    if episode_id is None and goal_id is None:
        return {}
    if not _reference_checks:
        named = {"episode_id": episode_id, "goal_id": goal_id}
        return {field: "No episodes are kept here." for field, value in named.items() if value is not None}
    problems: dict[str, str] = {}
    for check in _reference_checks:
        problems.update(check(citizen_id=citizen_id, episode_id=episode_id, goal_id=goal_id))
    return problems
