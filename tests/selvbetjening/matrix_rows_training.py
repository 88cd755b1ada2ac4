"""Session logging, today and sync rows of the role × operation matrix (see tests/matrix.py).

These are the citizen's phone's routes: only the citizen acting as the citizen gets past the role check,
and another citizen finds nothing of theirs; relatives log only through their own route and only with
the logging grant in force.
"""

import uuid
from datetime import timedelta
from typing import Any

from django.utils import timezone

from tests.matrix import Row
from tests.selvbetjening.matrix_rows import _cached, episode, own, relatives
from tests.selvbetjening.training_factories import SessionLogExerciseFactory, SessionLogFactory, make_plan


def plan(world: Any) -> Any:
    return _cached(world, "_training_plan", lambda: make_plan(episode=episode(world)))


def session_log(world: Any) -> Any:
    def make():  # type: ignore[no-untyped-def]
        made = SessionLogFactory(plan=plan(world))
        SessionLogExerciseFactory(session_log=made)
        return made

    return _cached(world, "_session_log", make)


def _with_plan(world: Any) -> dict[str, Any]:
    plan(world)
    return {}


def _session_log_id(world: Any) -> dict[str, Any]:
    return {"session_log_id": session_log(world).pk}


def _citizen_id(world: Any) -> dict[str, Any]:
    plan(world)
    return {"citizen_id": world.citizen.pk}


def _session(world: Any) -> dict[str, Any]:
    """A session of the world's plan done an hour ago (reads only: the counts are already taken)."""
    made = plan(world)
    exercise = made.current_version.exercises.order_by("position").first()
    return {
        "id": str(uuid.uuid4()),
        "training_plan_id": str(made.pk),
        "performed_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "pain_before": 1,
        "pain_after": 2,
        "effort": 4,
        "exercises": [{"exercise_id": str(exercise.exercise_id), "sets": 2, "repetitions": 10}],
    }


ROWS: list[Row] = [
    Row("POST", "/api/v1/me/session-logs", own(201, 404), path_params=_with_plan, body=_session),
    Row(
        "POST",
        "/api/v1/me/session-logs/batch",
        own(200, 200),  # another citizen's items each answer 404 inside the batch
        path_params=_with_plan,
        body=lambda w: {"items": [_session(w)]},
    ),
    Row("GET", "/api/v1/me/session-logs", own(200, 200)),
    Row("GET", "/api/v1/me/session-logs/{session_log_id}", own(200, 404), path_params=_session_log_id),
    Row(
        "PATCH",
        "/api/v1/me/session-logs/{session_log_id}",
        own(200, 404),
        path_params=_session_log_id,
        body=lambda w: {"version": 1, "note": "Det gik lidt tungt"},
    ),
    Row("GET", "/api/v1/me/today", own(200, 200)),
    Row("GET", "/api/v1/me/sync", own(200, 200)),
    Row(
        "GET",
        "/api/v1/relative/citizens/{citizen_id}/today",
        relatives(200, 404),
        path_params=_citizen_id,
    ),
    Row(
        "POST",
        "/api/v1/relative/citizens/{citizen_id}/session-logs",
        relatives(201, 404),
        path_params=_citizen_id,
        body=_session,
    ),
]
