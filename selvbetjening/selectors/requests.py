"""Citizens' requests: who sees them, and the team inbox with the most urgent first."""

from uuid import UUID

from django.db.models import Count, QuerySet
from django.db.models.fields.files import FieldFile

from backend.access import citizens_visible_to
from backend.actors import Actor
from backend.audit import read_logged
from backend.errors import NotFound
from selvbetjening.models import CitizenRequest

OPEN_STATUSES = (CitizenRequest.Status.OPEN, CitizenRequest.Status.IN_PROGRESS)


def requests_visible_to(actor: Actor) -> QuerySet[CitizenRequest]:
    """The citizen's own requests, and those of citizens in a staff member's teams' care."""
    return CitizenRequest.objects.filter(citizen__in=citizens_visible_to(actor))


def _shaped(queryset: QuerySet[CitizenRequest]) -> QuerySet[CitizenRequest]:
    return queryset.select_related("citizen", "team").annotate(message_count=Count("messages"))


def access_request_for_change(actor: Actor, request_id: UUID | str) -> CitizenRequest:
    """A request ``actor`` may see, for a write whose service logs it; not found otherwise."""
    try:
        return _shaped(requests_visible_to(actor)).get(pk=request_id)
    except (CitizenRequest.DoesNotExist, ValueError) as exc:
        raise NotFound("No such request.") from exc


def access_request(actor: Actor, request_id: UUID | str, *, reads: str = "request") -> CitizenRequest:
    """A request ``actor`` may see, its read logged; not found otherwise."""
    citizen_request = access_request_for_change(actor, request_id)
    read_logged(actor, [citizen_request.citizen_id], reads, citizen_request.pk)
    return citizen_request


def access_request_photo(actor: Actor, request_id: UUID | str, size: str) -> FieldFile:
    """The photo of a request ``actor`` may see (``thumbnail`` or full size), its read logged; not found
    when there is no such request or it has no photo."""
    citizen_request = access_request_for_change(actor, request_id)
    stored = citizen_request.photo_thumbnail if size == "thumbnail" else citizen_request.photo
    if not stored:
        raise NotFound("The request has no photo.")
    read_logged(actor, [citizen_request.citizen_id], "request_photo", citizen_request.pk)
    return stored


def requests_of_citizen(actor: Actor) -> QuerySet[CitizenRequest]:
    assert actor.citizen is not None
    return _shaped(CitizenRequest.objects.filter(citizen=actor.citizen))


def team_inbox(actor: Actor, *, statuses: tuple[str, ...]) -> QuerySet[CitizenRequest]:
    """Requests to the staff member's care teams; ordered by deadline, so the overdue come first."""
    return _shaped(
        requests_visible_to(actor).filter(team_id__in=actor.care_team_ids(), status__in=list(statuses))
    )


def messages_of(request: CitizenRequest):
    return request.messages.all()
