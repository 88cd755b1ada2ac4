"""What a relative with the view-progress scope sees: courses, goals and where they stand."""

from typing import Any

from django.db.models import Prefetch

from backend.actors import Actor
from backend.models import Citizen
from selvbetjening.models import Goal
from selvbetjening.selectors.episodes import (
    current_contacts,
    episode_gas,
    episodes_visible_to,
    goals_with_latest,
    with_episode_shape,
)
from selvbetjening.texts import label


def progress_for_relative(actor: Actor, citizen: Citizen) -> dict[str, Any]:
    episodes = with_episode_shape(
        episodes_visible_to(actor).filter(citizen=citizen).exclude(status="cancelled")
    ).prefetch_related(
        Prefetch(
            "goals",
            queryset=goals_with_latest(Goal.objects.filter(lifecycle_status__in=["active", "completed"])),
            to_attr="shown_goals",
        )
    )
    result = []
    for episode in episodes:
        contact_person, stand_in = current_contacts(episode)
        contact = stand_in or contact_person
        result.append(
            {
                "id": episode.id,
                "kind_name": label(type(episode).Kind, episode.kind),
                "title": episode.title,
                "status": episode.status,
                "start_date": episode.start_date,
                "planned_end_date": episode.planned_end_date,
                "contact_name": contact.staff.user.display_name if contact else None,
                "gas_t_score": episode_gas(episode)[0],
                "goals": episode.shown_goals,
            }
        )
    return {"citizen_id": citizen.pk, "given_name": citizen.given_name, "episodes": result}
