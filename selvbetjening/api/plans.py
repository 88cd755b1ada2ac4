"""Training plans: care staff make and revise them inside an episode; the citizen reads their own."""

from typing import Any
from uuid import UUID

from ninja import Query, Router, Status

from backend.access import paginate_logged
from backend.actors import CARE
from backend.auth import AuthedRequest, UserBearer
from backend.pagination import paginate
from selvbetjening.api.auth import citizen_auth
from selvbetjening.api.exercises import exercise_brief_out
from selvbetjening.media import exercise_image_url
from selvbetjening.models import PlanExercise, TrainingPlan, TrainingPlanVersion
from selvbetjening.rules.dosage import dosage_out, prescription_out
from selvbetjening.schemas import plans as schemas
from selvbetjening.schemas.common import PageQuery
from selvbetjening.selectors import plans as plan_reads
from selvbetjening.selectors.episodes import access_episode_for_change
from selvbetjening.services import plans as plan_services
from selvbetjening.texts import label, pick

plans = Router(tags=["staff: training plans"], auth=UserBearer(roles=CARE))
my_plans = Router(tags=["me: training plans"], auth=citizen_auth())
RESOURCE = plan_services.RESOURCE


# --- Shapes (from rows loaded by the selectors; nothing here queries) -----------------------------


def plan_exercise_out(item: PlanExercise) -> dict[str, Any]:
    return {
        "id": item.id,
        "exercise_id": item.exercise_id,
        "exercise": exercise_brief_out(item.exercise),
        "position": item.position,
        "instructions": item.instructions,
        **prescription_out(item),
    }


def version_out(version: TrainingPlanVersion) -> dict[str, Any]:
    return {
        **{
            name: getattr(version, name)
            for name in (
                "id",
                "number",
                "recurrence_rule",
                "start_date",
                "start_time",
                "end_date",
                "time_zone",
                "grace_minutes",
                "change_note",
                "created_at",
            )
        },
        "is_automatic": version.created_by_id is None,
        "created_by_name": version.created_by.display_name if version.created_by is not None else None,
        "exercises": [plan_exercise_out(item) for item in version.exercises.all()],
    }


def _goals(plan: TrainingPlan) -> list[dict[str, Any]]:
    return [{"id": goal.id, "description": goal.description, "rank": goal.rank} for goal in plan.goals.all()]


def plan_out(plan: TrainingPlan) -> dict[str, Any]:
    return {
        "id": plan.id,
        "version": plan.version,
        "episode_id": plan.episode_id,
        "citizen_id": plan.citizen_id,
        "citizen_name": plan.citizen.full_name,
        "title": plan.title,
        "status": plan.status,
        "status_name": label(TrainingPlan.Status, plan.status),
        "template_id": plan.template_id,
        "goals": _goals(plan),
        "current_version": version_out(plan.current_version) if plan.current_version else None,
        "created_at": plan.created_at,
        "updated_at": plan.updated_at,
    }


def my_plan_exercise_out(item: PlanExercise) -> dict[str, Any]:
    exercise = item.exercise
    return {
        "id": item.id,
        "exercise_id": item.exercise_id,
        "exercise": exercise_brief_out(exercise),
        "exercise_instructions": pick(exercise.instructions_da, exercise.instructions_en or exercise.instructions_da),
        "video_url": exercise.video_url,
        "images": [
            {size: exercise_image_url(image.id, size) for size in ("thumbnail", "medium", "large")}
            for image in exercise.images.all()
        ],
        "position": item.position,
        "instructions": item.instructions,
        "stop_pain_level": item.stop_pain_level,
        **dosage_out(item),
    }


def my_plan_out(plan: TrainingPlan) -> dict[str, Any]:
    version = plan.current_version
    return {
        "id": plan.id,
        "version": plan.version,
        "episode_id": plan.episode_id,
        "title": plan.title,
        "status": plan.status,
        "status_name": label(TrainingPlan.Status, plan.status),
        "goals": _goals(plan),
        "current_version": None
        if version is None
        else {
            **{
                name: getattr(version, name)
                for name in ("id", "number", "recurrence_rule", "start_date", "start_time", "end_date")
            },
            "time_zone": version.time_zone,
            "grace_minutes": version.grace_minutes,
            "exercises": [my_plan_exercise_out(item) for item in version.exercises.all()],
        },
        "updated_at": plan.updated_at,
    }


def _plan_response(request: AuthedRequest, plan_id: UUID) -> dict[str, Any]:
    return plan_out(plan_reads.access_training_plan(request.auth, plan_id))


def _exercises(payload: Any) -> list[dict[str, Any]] | None:
    return None if payload.exercises is None else [item.model_dump() for item in payload.exercises]


# --- Staff ---------------------------------------------------------------------------------------


@plans.get("", response=schemas.TrainingPlanPageOut, summary="Training plans of my teams' citizens")
def list_plans(request: AuthedRequest, query: Query[schemas.TrainingPlanQuery]):
    queryset = plan_reads.training_plans_for_staff(
        request.auth, citizen_id=query.citizen_id, episode_id=query.episode_id, status=query.status
    )
    items, next_cursor = paginate_logged(
        request.auth,
        queryset,
        reads=RESOURCE,
        citizen_of=lambda plan: plan.citizen_id,
        cursor=query.cursor,
        limit=query.limit,
    )
    return {"items": [plan_out(item) for item in items], "next_cursor": next_cursor}


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
    plan = plan_reads.access_training_plan_for_change(request.auth, plan_id)
    plan_services.training_plan_update(plan=plan, by=request.auth, **payload.model_dump())
    return _plan_response(request, plan_id)


@plans.get("/{uuid:plan_id}/versions", response=schemas.PlanVersionPageOut, summary="The plan's versions, newest first")
def list_versions(request: AuthedRequest, plan_id: UUID, query: Query[PageQuery]):
    plan = plan_reads.access_training_plan(request.auth, plan_id)
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
    plan = plan_reads.access_training_plan_for_change(request.auth, plan_id)
    fields = payload.model_dump(exclude={"exercises"})
    plan_services.training_plan_revise(plan=plan, by=request.auth, exercises=_exercises(payload), **fields)
    return Status(201, _plan_response(request, plan_id))


# --- The citizen ---------------------------------------------------------------------------------


@my_plans.get("", response=schemas.MyTrainingPlanPageOut, summary="My training plans")
def my_plan_list(request: AuthedRequest, query: Query[schemas.MyTrainingPlanQuery]):
    queryset = plan_reads.training_plans_of_citizen(request.auth, status=query.status)
    items, next_cursor = paginate_logged(
        request.auth,
        queryset,
        reads=RESOURCE,
        citizen_of=lambda plan: plan.citizen_id,
        cursor=query.cursor,
        limit=query.limit,
    )
    return {"items": [my_plan_out(item) for item in items], "next_cursor": next_cursor}


@my_plans.get("/{uuid:plan_id}", response=schemas.MyTrainingPlanOut, summary="One of my training plans")
def my_plan(request: AuthedRequest, plan_id: UUID):
    return my_plan_out(plan_reads.access_training_plan(request.auth, plan_id))


ROUTERS: list[tuple[str, Router]] = [("/training-plans", plans), ("/me/training-plans", my_plans)]
