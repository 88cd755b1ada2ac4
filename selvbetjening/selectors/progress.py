"""What a relative with the view-progress scope sees: courses, goals and where they stand."""

from django.db.models import Prefetch

from backend.actors import Actor
from backend.models import Citizen
from selvbetjening.models import Episode, Goal
from selvbetjening.selectors.episodes import episodes_visible_to, goals_with_latest, with_episode_shape


def progress_episodes_for_relative(actor: Actor, citizen: Citizen) -> list[Episode]:
    """The citizen's courses a relative sees (all but cancelled ones), each with its contacts and its active and
    completed goals (``shown_goals``) with their latest ratings."""
    episodes = with_episode_shape(
        episodes_visible_to(actor).filter(citizen=citizen).exclude(status="cancelled")
    ).prefetch_related(
        Prefetch(
            "goals",
            queryset=goals_with_latest(Goal.objects.filter(lifecycle_status__in=["active", "completed"])),
            to_attr="shown_goals",
        )
    )
    return list(episodes)
