from django.http import HttpResponse

from backend.actors import Actor
from backend.errors import NotFound
from selvbetjening.models import CitizenRequest
from selvbetjening.selectors.reads import log_read


def photo_response(actor: Actor, request: CitizenRequest, size: str) -> HttpResponse:
    """The stored (already cleaned) JPEG, never cached by anything between server and phone."""
    stored = request.photo_thumbnail if size == "thumbnail" else request.photo
    if not stored:
        raise NotFound("The request has no photo.")
    log_read(actor, [request.citizen], "request_photo", request.pk)
    with stored.open("rb") as handle:
        content = handle.read()
    response = HttpResponse(content, content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = "inline"
    return response
