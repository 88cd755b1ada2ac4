"""The exercise library: an exercise or picture fetched for the one who may see or change it."""

from uuid import UUID

from backend.actors import Actor
from backend.errors import Forbidden, NotFound
from selvbetjening.models import Exercise, ExerciseImage
from selvbetjening.selectors.exercises import exercises_visible_to, with_exercise_shape


def access_exercise(actor: Actor, exercise_id: UUID | str) -> Exercise:
    """An exercise the actor sees, with its pictures; the same 404 whether missing or another
    municipality's."""
    try:
        return with_exercise_shape(exercises_visible_to(actor)).get(pk=exercise_id)
    except (Exercise.DoesNotExist, ValueError) as exc:
        raise NotFound("No such exercise.") from exc


def access_exercise_for_change(actor: Actor, exercise_id: UUID | str) -> Exercise:
    """An exercise the actor may change: one of their municipality's. The shared library is read-only."""
    exercise = access_exercise(actor, exercise_id)
    if exercise.municipality_id is None:
        raise Forbidden(
            "The shared exercise library cannot be changed; make a copy for your municipality.",
            code="shared_exercise_read_only",
        )
    return exercise


def access_exercise_image(image_id: UUID | str) -> ExerciseImage:
    """Any exercise picture by id: pictures hold no personal data, and their ids cannot be guessed."""
    try:
        return ExerciseImage.objects.get(pk=image_id)
    except (ExerciseImage.DoesNotExist, ValueError) as exc:
        raise NotFound("No such picture.") from exc
