"""Training plans as the API shows them to care staff and to the citizen (from rows the selectors
loaded; nothing here queries)."""

from typing import Any

from selvbetjening.media import exercise_image_url
from selvbetjening.models import PlanExercise, TrainingPlan, TrainingPlanVersion
from selvbetjening.presenters.exercises import exercise_brief_out
from selvbetjening.rules.dosage import dosage_out, prescription_out
from selvbetjening.texts import label, pick


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
