"""The exercise library for care staff, and exercise pictures for everyone who is logged in."""

from typing import Any
from uuid import UUID

from django.http import HttpResponse
from ninja import File, Form, Query, Router, Status, UploadedFile

from backend.actors import ANY_USER, CARE
from backend.auth import AuthedRequest, UserBearer, person_auth
from backend.errors import NotFound
from backend.i18n import language
from backend.images import MAX_IMAGE_BYTES
from backend.pagination import paginate
from selvbetjening.access import exercises as exercise_access
from selvbetjening.presenters.exercises import exercise_out, image_out
from selvbetjening.schemas import exercises as schemas
from selvbetjening.selectors import exercises as exercise_reads
from selvbetjening.services import exercises as exercise_services
from selvbetjening.services.exercises import IMAGE_FIELDS

CARE_STAFF = UserBearer(roles=CARE)
library = Router(tags=["exercise library"], auth=CARE_STAFF)
pictures = Router(tags=["exercise library"], auth=person_auth(ANY_USER))

# Pictures of an id never change (a new picture gets a new id), so any copy may be kept for a year.
IMAGE_CACHE_CONTROL = "private, max-age=31536000, immutable"


def _exercise_response(request: AuthedRequest, exercise_id: UUID) -> dict[str, Any]:
    return exercise_out(exercise_access.access_exercise(request.auth, exercise_id))


@library.get("", response=schemas.ExercisePageOut, summary="Search the shared library and my municipality's exercises")
def list_exercises(request: AuthedRequest, query: Query[schemas.ExerciseQuery]):
    queryset = exercise_reads.exercises_search(
        exercise_reads.with_exercise_shape(exercise_reads.exercises_visible_to(request.auth)),
        text=query.q,
        body_areas=query.body_area,
        equipment=query.equipment,
        difficulties=query.difficulty,
        scope=query.scope,
        include_retired=query.include_retired,
    )
    order = ("title_en", "id") if language() == "en" else ("title_da", "id")
    items, next_cursor = paginate(queryset, cursor=query.cursor, limit=query.limit, order=order)
    return {"items": [exercise_out(item) for item in items], "next_cursor": next_cursor}


@library.post("", response={201: schemas.ExerciseOut}, summary="Add an exercise for my municipality")
def create_exercise(request: AuthedRequest, payload: schemas.ExerciseIn):
    exercise = exercise_services.exercise_create(by=request.auth, **payload.model_dump())
    return Status(201, _exercise_response(request, exercise.pk))


@library.get("/{uuid:exercise_id}", response=schemas.ExerciseOut, summary="One exercise")
def get_exercise(request: AuthedRequest, exercise_id: UUID):
    return _exercise_response(request, exercise_id)


@library.patch(
    "/{uuid:exercise_id}",
    response=schemas.ExerciseOut,
    summary="Edit or retire one of my municipality's exercises (send the version you read; 409 if stale)",
)
def update_exercise(request: AuthedRequest, exercise_id: UUID, payload: schemas.ExerciseUpdateIn):
    exercise = exercise_access.access_exercise_for_change(request.auth, exercise_id)
    exercise_services.exercise_update(
        exercise=exercise, by=request.auth, version=payload.version, changes=payload.changes()
    )
    return _exercise_response(request, exercise_id)


@library.post(
    "/{uuid:exercise_id}/images",
    response={201: schemas.ExerciseImageOut},
    summary="Add a picture (multipart field 'image'; JPEG, PNG or WebP)",
)
def add_image(
    request: AuthedRequest,
    exercise_id: UUID,
    image: File[UploadedFile],
    alt_text_da: Form[str] = "",
    alt_text_en: Form[str] = "",
):
    exercise = exercise_access.access_exercise_for_change(request.auth, exercise_id)
    stored = exercise_services.exercise_image_add(
        exercise=exercise,
        by=request.auth,
        data=image.read(MAX_IMAGE_BYTES + 1),
        alt_text_da=alt_text_da.strip()[:300],
        alt_text_en=alt_text_en.strip()[:300],
    )
    return Status(201, image_out(stored))


@library.delete("/{uuid:exercise_id}/images/{uuid:image_id}", response={204: None}, summary="Remove a picture")
def delete_image(request: AuthedRequest, exercise_id: UUID, image_id: UUID):
    exercise = exercise_access.access_exercise_for_change(request.auth, exercise_id)
    image = next((image for image in exercise.images.all() if image.pk == image_id), None)
    if image is None:
        raise NotFound("No such picture.")
    exercise_services.exercise_image_delete(exercise=exercise, by=request.auth, image=image)
    return Status(204, None)


@pictures.get(
    "/{uuid:image_id}/{size}",
    response={200: None},
    summary="One size of an exercise picture (JPEG, or SVG for the shipped drawings); the same bytes for ever",
)
def get_image(request: AuthedRequest, image_id: UUID, size: str) -> HttpResponse:
    if size not in IMAGE_FIELDS:
        raise NotFound("Pictures come in the sizes thumbnail, medium and large.")
    image = exercise_access.access_exercise_image(image_id)
    stored = getattr(image, IMAGE_FIELDS[size])
    try:
        with stored.open("rb") as handle:
            content = handle.read()
    except (FileNotFoundError, ValueError) as exc:
        raise NotFound("No such picture.") from exc
    is_drawing = stored.name.endswith(".svg")
    response = HttpResponse(content, content_type="image/svg+xml" if is_drawing else "image/jpeg")
    if is_drawing:
        # A drawing opened on its own runs nothing and loads nothing.
        response["Content-Security-Policy"] = "default-src 'none'"
    response["Cache-Control"] = IMAGE_CACHE_CONTROL
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    return response


ROUTERS: list[tuple[str, Router]] = [("/exercises", library), ("/exercise-images", pictures)]
