"""Exercise library and programme template rows of the role × operation matrix (see tests/matrix.py).

Both care staff of the world work in its municipality, so team membership makes no difference here:
the library and the templates belong to the municipality, not to a team.
"""

import uuid
from typing import Any

from selvbetjening.models import ExerciseImage
from tests.matrix import Row, statuses
from tests.selvbetjening.matrix_rows import _cached, care
from tests.selvbetjening.training_factories import (
    ExerciseFactory,
    ProgrammeTemplateFactory,
    ProgrammeTemplateItemFactory,
)


def own_exercise(world: Any) -> Any:
    return _cached(world, "_own_exercise", lambda: ExerciseFactory(municipality=world.municipality))


def exercise_image(world: Any) -> Any:
    def make():  # type: ignore[no-untyped-def]
        exercise = own_exercise(world)
        return ExerciseImage.objects.create(
            exercise=exercise,
            image=f"exercises/{exercise.pk}/matrix-large.jpg",
            medium=f"exercises/{exercise.pk}/matrix-medium.jpg",
            thumbnail=f"exercises/{exercise.pk}/matrix-thumbnail.jpg",
            width=1600,
            height=1200,
        )

    return _cached(world, "_exercise_image", make)


def template(world: Any) -> Any:
    def make():  # type: ignore[no-untyped-def]
        made = ProgrammeTemplateFactory(municipality=world.municipality, created_by=world.staff_in_team.user)
        ProgrammeTemplateItemFactory(template=made, exercise=own_exercise(world))
        return made

    return _cached(world, "_template", make)


def _exercise_id(w: Any) -> dict[str, Any]:
    return {"exercise_id": own_exercise(w).pk}


def _image_ids(w: Any) -> dict[str, Any]:
    return {"exercise_id": own_exercise(w).pk, "image_id": exercise_image(w).pk}


def _template_id(w: Any) -> dict[str, Any]:
    return {"template_id": template(w).pk}


def _made_exercise(w: Any) -> dict[str, Any]:
    own_exercise(w)
    return {}


def _new_exercise(w: Any) -> dict[str, Any]:
    return {
        "title_da": "Gå baglæns langs bordet",
        "instructions_da": "1. Stil dig ved bordet.\n2. Gå baglæns.",
        "body_area": "balance",
        "equipment": "table",
    }


def _new_template(w: Any) -> dict[str, Any]:
    return {
        "title": "Hverdagsrehabilitering, ben",
        "recurrence_rule": "FREQ=WEEKLY;BYDAY=MO,WE,FR",
        "start_time": "10:00",
        "items": [{"exercise_id": str(own_exercise(w).pk), "sets": 2, "repetitions": 10}],
    }


ROWS = [
    # The exercise library: care staff of the municipality; the shared library is read-only.
    Row("GET", "/api/v1/exercises", care(200, 200)),
    Row("POST", "/api/v1/exercises", care(201, 201), body=_new_exercise),
    Row("GET", "/api/v1/exercises/{exercise_id}", care(200, 200), path_params=_exercise_id),
    Row(
        "PATCH",
        "/api/v1/exercises/{exercise_id}",
        care(200, 200),
        path_params=_exercise_id,
        body=lambda w: {"version": 1, "title_da": "Rejse-sætte-sig fra lav stol"},
    ),
    # A JSON body carries no picture: 422 naming the field for those allowed to add one.
    Row("POST", "/api/v1/exercises/{exercise_id}/images", care(422, 422), path_params=_exercise_id),
    Row("DELETE", "/api/v1/exercises/{exercise_id}/images/{image_id}", care(204, 204), path_params=_image_ids),
    # Pictures: anyone logged in; an unknown picture is 404 for all of them.
    Row(
        "GET",
        "/api/v1/exercise-images/{image_id}/{size}",
        statuses(404),
        path_params=lambda w: {"image_id": uuid.uuid4(), "size": "thumbnail"},
    ),
    # Programme templates: care staff of the municipality.
    Row("GET", "/api/v1/programme-templates", care(200, 200)),
    Row(
        "POST",
        "/api/v1/programme-templates",
        care(201, 201),
        path_params=_made_exercise,
        body=_new_template,
    ),
    Row("GET", "/api/v1/programme-templates/{template_id}", care(200, 200), path_params=_template_id),
    Row(
        "PATCH",
        "/api/v1/programme-templates/{template_id}",
        care(200, 200),
        path_params=_template_id,
        body=lambda w: {"version": 1, "title": "Hverdagsrehabilitering, balance"},
    ),
]
