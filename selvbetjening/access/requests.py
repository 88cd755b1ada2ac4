"""Citizens' requests and their photos: fetched for the one who may see or answer them, the read logged."""

from uuid import UUID

from django.db.models.fields.files import FieldFile

from backend.actors import Actor
from backend.audit import read_logged
from backend.errors import NotFound
from selvbetjening.models import CitizenRequest, RequestMessage
from selvbetjening.selectors.requests import messages_of, requests_visible_to, team_inbox, with_request_shape


def access_request_for_change(actor: Actor, request_id: UUID | str) -> CitizenRequest:
    """A request ``actor`` may see, for a write whose service logs it; not found otherwise."""
    try:
        return with_request_shape(requests_visible_to(actor)).get(pk=request_id)
    except (CitizenRequest.DoesNotExist, ValueError) as exc:
        raise NotFound("No such request.") from exc


def access_request(actor: Actor, request_id: UUID | str, *, reads: str = "request") -> CitizenRequest:
    """A request ``actor`` may see, its read logged; not found otherwise."""
    citizen_request = access_request_for_change(actor, request_id)
    read_logged(actor, [citizen_request.citizen_id], reads, citizen_request.pk)
    return citizen_request


def access_request_thread(actor: Actor, request_id: UUID | str) -> tuple[CitizenRequest, list[RequestMessage]]:
    """A request ``actor`` may see with its messages, oldest first, the read logged; not found otherwise."""
    citizen_request = access_request(actor, request_id)
    return citizen_request, list(messages_of(citizen_request))


def inbox_page(actor: Actor, *, statuses: tuple[str, ...], limit: int) -> list[CitizenRequest]:
    """The first ``limit`` requests in ``statuses`` to the staff member's care teams, the overdue first, each
    citizen on the page logged as reading ``request``."""
    items = list(team_inbox(actor, statuses=statuses).order_by("respond_by", "id")[:limit])
    read_logged(actor, [item.citizen_id for item in items], "request")
    return items


def access_request_photo(actor: Actor, request_id: UUID | str, size: str) -> FieldFile:
    """The photo of a request ``actor`` may see (``thumbnail`` or full size), its read logged; not found
    when there is no such request or it has no photo."""
    citizen_request = access_request_for_change(actor, request_id)
    stored = citizen_request.photo_thumbnail if size == "thumbnail" else citizen_request.photo
    if not stored:
        raise NotFound("The request has no photo.")
    read_logged(actor, [citizen_request.citizen_id], "request_photo", citizen_request.pk)
    return stored
