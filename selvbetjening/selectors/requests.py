"""Citizens' requests: who sees them, and the team inbox with the most urgent first."""

from django.db.models import Count, QuerySet

from backend.access import citizens_visible_to
from backend.actors import Actor
from selvbetjening.models import CitizenRequest

OPEN_STATUSES = (CitizenRequest.Status.OPEN, CitizenRequest.Status.IN_PROGRESS)


def requests_visible_to(actor: Actor) -> QuerySet[CitizenRequest]:
    """The citizen's own requests, and those of citizens in a staff member's teams' care."""
    return CitizenRequest.objects.filter(citizen__in=citizens_visible_to(actor))


def with_request_shape(queryset: QuerySet[CitizenRequest]) -> QuerySet[CitizenRequest]:
    return queryset.select_related("citizen", "team").annotate(message_count=Count("messages"))


def requests_of_citizen(actor: Actor) -> QuerySet[CitizenRequest]:
    assert actor.citizen is not None
    return with_request_shape(CitizenRequest.objects.filter(citizen=actor.citizen))


def team_inbox(actor: Actor, *, statuses: tuple[str, ...]) -> QuerySet[CitizenRequest]:
    """Requests to the staff member's care teams; ordered by deadline, so the overdue come first."""
    return with_request_shape(
        requests_visible_to(actor).filter(team_id__in=actor.care_team_ids(), status__in=list(statuses))
    )


def messages_of(request: CitizenRequest):
    return request.messages.all()
