"""Who may see which citizen: decided here and nowhere else.

Staff see a citizen while one of their teams has an active care relation to the citizen and they
hold an active care role in that team; a citizen sees themself. What may not be seen is reported
exactly like what does not exist.
"""

from uuid import UUID

from django.db.models import Q, QuerySet

from backend.actors import CARE, Actor
from backend.errors import NotFound
from backend.models import Citizen
from backend.timeutil import municipal_today


def active_care_relation_filter(prefix: str = "care_relations__") -> Q:
    today = municipal_today()
    return Q(**{f"{prefix}valid_from__lte": today}) & (
        Q(**{f"{prefix}valid_to__isnull": True}) | Q(**{f"{prefix}valid_to__gte": today})
    )


def citizens_visible_to(actor: Actor) -> QuerySet[Citizen]:
    visible = Q(pk__in=[])
    team_ids = actor.team_ids(CARE)
    if team_ids:
        cared_for = Citizen.objects.filter(active_care_relation_filter(), care_relations__team_id__in=team_ids).values(
            "pk"
        )
        visible |= Q(pk__in=cared_for)
    if actor.citizen is not None:
        visible |= Q(pk=actor.citizen.pk)
    return Citizen.objects.filter(visible)


def access_citizen(actor: Actor, citizen_id: UUID | str) -> Citizen:
    try:
        return citizens_visible_to(actor).get(pk=citizen_id)
    except (Citizen.DoesNotExist, ValueError) as exc:
        raise NotFound("No such citizen.") from exc
