"""Rows of the role × operation matrix for the staff views of training: a citizen's progress, a team's
caseload, training alerts (see tests/matrix.py)."""

from datetime import timedelta
from typing import Any

from django.utils import timezone

from selvbetjening.models import TrainingAlert, TrainingPlan
from tests.matrix import Row, statuses
from tests.selvbetjening.matrix_rows import episode
from tests.selvbetjening.training_factories import SessionLogFactory, make_plan


def care(status: int, other: int) -> dict[str, int]:
    return statuses(403, staff_in_team=status, staff_out_of_team=other)


def plan(world: Any) -> TrainingPlan:
    if "_progress_plan" not in world.__dict__:
        world.__dict__["_progress_plan"] = make_plan(episode=episode(world))
    return world.__dict__["_progress_plan"]


def alert(world: Any) -> TrainingAlert:
    if "_training_alert" not in world.__dict__:
        made = plan(world)
        log = SessionLogFactory(plan=made, performed_at=timezone.now() - timedelta(hours=1), pain_after=8)
        world.__dict__["_training_alert"] = TrainingAlert.objects.create(
            citizen=made.citizen,
            episode=made.episode,
            plan=made,
            session_log=log,
            kind=TrainingAlert.Kind.PAIN_STOP,
            pain=8,
            contact_person=world.staff_in_team,
        )
    return world.__dict__["_training_alert"]


def _citizen_id(world: Any) -> dict[str, Any]:
    plan(world)
    return {"citizen_id": world.citizen.pk}


def _team_id(world: Any) -> dict[str, Any]:
    alert(world)
    return {"team_id": world.team.pk}


def _with_alert(world: Any) -> dict[str, Any]:
    alert(world)
    return {}


def _alert_id(world: Any) -> dict[str, Any]:
    return {"alert_id": alert(world).pk}


ROWS = [
    Row("GET", "/api/v1/citizens/{citizen_id}/training/progress", care(200, 404), path_params=_citizen_id),
    Row("GET", "/api/v1/teams/{team_id}/caseload", care(200, 404), path_params=_team_id),
    Row("GET", "/api/v1/staff/training-alerts", care(200, 200), path_params=_with_alert),
    Row("POST", "/api/v1/staff/training-alerts/{alert_id}/acknowledge", care(200, 404), path_params=_alert_id),
    Row(
        "POST",
        "/api/v1/staff/training-alerts/{alert_id}/resolve",
        care(200, 404),
        path_params=_alert_id,
        body=lambda w: {"note": "Talt med borgeren"},
    ),
]
