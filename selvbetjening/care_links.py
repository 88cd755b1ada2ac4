"""The citizen's running episodes and their goals as the welfare-technology app may see them (``backend.care_links``):
ids and neutral labels only."""

from uuid import UUID

from django.db.models import Prefetch
from django.utils import formats

from backend.care_links import EpisodeRef, GoalRef
from selvbetjening.models import Episode, Goal

RUNNING = (Episode.Status.PLANNED, Episode.Status.ACTIVE, Episode.Status.ON_HOLD)


def open_episodes(citizen_id: UUID) -> list[EpisodeRef]:
    episodes = (
        Episode.objects.filter(citizen_id=citizen_id, status__in=RUNNING)
        .select_related("team")
        .prefetch_related(Prefetch("goals", queryset=Goal.objects.order_by("rank", "id")))
        .order_by("start_date", "id")
    )
    return [
        EpisodeRef(
            id=episode.pk,
            label=f"{episode.get_kind_display()}, {episode.team.name}, fra "
            f"{formats.date_format(episode.start_date, 'j. F Y')}",
            goals=tuple(GoalRef(id=goal.pk, label=f"Mål nr. {goal.rank}") for goal in episode.goals.all()),
        )
        for episode in episodes
    ]
