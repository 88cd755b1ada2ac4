"""Citizens' requests and their photos: fetched for the one who may see or answer them, the read logged."""

from uuid import UUID

from django.db.models.fields.files import FieldFile

from backend.actors import Actor
from backend.audit import read_logged
from backend.errors import NotFound
from selvbetjening.models import CitizenRequest
from selvbetjening.selectors.requests import requests_visible_to, with_request_shape


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


def access_request_photo(actor: Actor, request_id: UUID | str, size: str) -> FieldFile:
    """The photo of a request ``actor`` may see (``thumbnail`` or full size), its read logged; not found
    when there is no such request or it has no photo."""
    citizen_request = access_request_for_change(actor, request_id)
    stored = citizen_request.photo_thumbnail if size == "thumbnail" else citizen_request.photo
    if not stored:
        raise NotFound("The request has no photo.")
    read_logged(actor, [citizen_request.citizen_id], "request_photo", citizen_request.pk)
    return stored
