from django.db.models.fields.files import FieldFile
from django.http import HttpResponse


def photo_response(stored: FieldFile) -> HttpResponse:
    """The stored (already cleaned) JPEG, never cached by anything between server and phone."""
    with stored.open("rb") as handle:
        content = handle.read()
    response = HttpResponse(content, content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    response["Content-Disposition"] = "inline"
    return response
