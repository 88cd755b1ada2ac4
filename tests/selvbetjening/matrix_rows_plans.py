"""Training-plan rows of the role × operation matrix (see tests/matrix.py)."""

from typing import Any

from tests.matrix import Row
from tests.selvbetjening.matrix_rows import _cached, care, episode, goal, own
from tests.selvbetjening.training_factories import ExerciseFactory, make_plan


def plan(world: Any) -> Any:
    return _cached(world, "_training_plan", lambda: make_plan(episode=episode(world)))


def shared_exercise(world: Any) -> Any:
    return _cached(world, "_shared_exercise", lambda: ExerciseFactory(municipality=None))


def _plan_id(world: Any) -> dict[str, Any]:
    return {"plan_id": plan(world).pk}


def _ingredients(world: Any) -> dict[str, Any]:
    episode(world)
    goal(world)
    shared_exercise(world)
    return {}


def _new_plan(world: Any) -> dict[str, Any]:
    return {
        "episode_id": str(episode(world).pk),
        "title": "Styrke og balance",
        "goal_ids": [str(goal(world).pk)],
        "recurrence_rule": "FREQ=WEEKLY;BYDAY=MO,WE,FR",
        "start_time": "10:00",
        "exercises": [{"exercise_id": str(shared_exercise(world).pk), "sets": 2, "repetitions": 10}],
    }


ROWS = [
    Row("GET", "/api/v1/training-plans", care(200, 200), path_params=_plan_id),
    Row("POST", "/api/v1/training-plans", care(201, 404), path_params=_ingredients, body=_new_plan),
    Row("GET", "/api/v1/training-plans/{plan_id}", care(200, 404), path_params=_plan_id),
    Row(
        "PATCH",
        "/api/v1/training-plans/{plan_id}",
        care(200, 404),
        path_params=_plan_id,
        body=lambda w: {"version": 1, "status": "paused"},
    ),
    Row("GET", "/api/v1/training-plans/{plan_id}/versions", care(200, 404), path_params=_plan_id),
    Row(
        "POST",
        "/api/v1/training-plans/{plan_id}/versions",
        care(201, 404),
        path_params=_plan_id,
        body=lambda w: {"version": 1, "recurrence_rule": "FREQ=WEEKLY;BYDAY=TU,TH", "change_note": "Nye dage"},
    ),
    Row("GET", "/api/v1/me/training-plans", own(200, 200), path_params=_plan_id),
    Row("GET", "/api/v1/me/training-plans/{plan_id}", own(200, 404), path_params=_plan_id),
]
