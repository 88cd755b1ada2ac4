"""Training plans: care staff make and revise them inside an episode; the citizen reads their own."""

from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.db.models import QuerySet
from ninja import Query, Router, Status

from backend.access import paginate_logged
from backend.actors import CARE
from backend.auth import AuthedRequest, UserBearer
from backend.pagination import paginate
from selvbetjening.access import plans as plan_access
from selvbetjening.access.episodes import access_episode_for_change
from selvbetjening.api.auth import citizen_auth
from selvbetjening.models import TrainingPlan
from selvbetjening.presenters.plans import my_plan_out, plan_out, version_out
from selvbetjening.schemas import plans as schemas
from selvbetjening.schemas.common import PageQuery
from selvbetjening.selectors import plans as plan_reads
from selvbetjening.services import plans as plan_services

plans = Router(tags=["staff: training plans"], auth=UserBearer(roles=CARE))
my_plans = Router(tags=["me: training plans"], auth=citizen_auth())
RESOURCE = plan_services.RESOURCE


# --- Responses -----------------------------------------------------------------------------------


def _plan_response(request: AuthedRequest, plan_id: UUID) -> dict[str, Any]:
    return plan_out(plan_access.access_training_plan(request.auth, plan_id))


def _page(
    request: AuthedRequest, queryset: QuerySet[TrainingPlan], query: Any, out: Callable[[TrainingPlan], dict[str, Any]]
) -> dict[str, Any]:
    """A page of plans in ``out``'s shape, each citizen on it logged."""
    items, next_cursor = paginate_logged(
        request.auth,
        queryset,
        reads=RESOURCE,
        citizen_of=lambda plan: plan.citizen_id,
        cursor=query.cursor,
        limit=query.limit,
    )
    return {"items": [out(item) for item in items], "next_cursor": next_cursor}


def _exercises(payload: Any) -> list[dict[str, Any]] | None:
    return None if payload.exercises is None else [item.model_dump() for item in payload.exercises]


# --- Staff ---------------------------------------------------------------------------------------


@plans.get("", response=schemas.TrainingPlanPageOut, summary="Training plans of my teams' citizens")
def list_plans(request: AuthedRequest, query: Query[schemas.TrainingPlanQuery]):
    queryset = plan_reads.training_plans_for_staff(
        request.auth, citizen_id=query.citizen_id, episode_id=query.episode_id, status=query.status
    )
    return _page(request, queryset, query, plan_out)


@plans.post("", response={201: schemas.TrainingPlanOut}, summary="Make a training plan in an episode")
def create_plan(request: AuthedRequest, payload: schemas.TrainingPlanCreateIn):
    episode = access_episode_for_change(request.auth, payload.episode_id)
    fields = payload.model_dump(exclude={"episode_id", "exercises"})
    plan = plan_services.training_plan_create(episode=episode, by=request.auth, exercises=_exercises(payload), **fields)
    return Status(201, _plan_response(request, plan.pk))


@plans.get("/{uuid:plan_id}", response=schemas.TrainingPlanOut, summary="A plan with its current version")
def get_plan(request: AuthedRequest, plan_id: UUID):
    return _plan_response(request, plan_id)


@plans.patch(
    "/{uuid:plan_id}",
    response=schemas.TrainingPlanOut,
    summary="Rename, change goals, pause, resume or end (send the version you read; 409 if stale)",
)
def update_plan(request: AuthedRequest, plan_id: UUID, payload: schemas.TrainingPlanUpdateIn):
    plan = plan_access.access_training_plan_for_change(request.auth, plan_id)
    plan_services.training_plan_update(plan=plan, by=request.auth, **payload.model_dump())
    return _plan_response(request, plan_id)


@plans.get("/{uuid:plan_id}/versions", response=schemas.PlanVersionPageOut, summary="The plan's versions, newest first")
def list_versions(request: AuthedRequest, plan_id: UUID, query: Query[PageQuery]):
    plan = plan_access.access_training_plan(request.auth, plan_id)
    items, next_cursor = paginate(
        plan_reads.versions_of(plan), cursor=query.cursor, limit=query.limit, order=("-number", "-id")
    )
    return {"items": [version_out(item) for item in items], "next_cursor": next_cursor}


@plans.post(
    "/{uuid:plan_id}/versions",
    response={201: schemas.TrainingPlanOut},
    summary="Revise the plan: a new version; pending slots ahead are made again (409 if stale)",
)
def revise_plan(request: AuthedRequest, plan_id: UUID, payload: schemas.TrainingPlanReviseIn):
    plan = plan_access.access_training_plan_for_change(request.auth, plan_id)
    fields = payload.model_dump(exclude={"exercises"})
    plan_services.training_plan_revise(plan=plan, by=request.auth, exercises=_exercises(payload), **fields)
    return Status(201, _plan_response(request, plan_id))


# --- The citizen ---------------------------------------------------------------------------------


@my_plans.get("", response=schemas.MyTrainingPlanPageOut, summary="My training plans")
def my_plan_list(request: AuthedRequest, query: Query[schemas.MyTrainingPlanQuery]):
    queryset = plan_reads.training_plans_of_citizen(request.auth, status=query.status)
    return _page(request, queryset, query, my_plan_out)


@my_plans.get("/{uuid:plan_id}", response=schemas.MyTrainingPlanOut, summary="One of my training plans")
def my_plan(request: AuthedRequest, plan_id: UUID):
    return my_plan_out(plan_access.access_training_plan(request.auth, plan_id))


ROUTERS: list[tuple[str, Router]] = [("/training-plans", plans), ("/me/training-plans", my_plans)]
