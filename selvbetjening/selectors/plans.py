"""Training plans: who sees them, and the query shape the responses need.

A plan is seen by whoever sees its episode (staff of the teams caring for the citizen, the citizen);
it is changed only by care staff of the episode's own team.
"""

from datetime import datetime
from uuid import UUID

from django.db.models import Prefetch, QuerySet

from backend.actors import Actor
from backend.errors import InvalidInput
from selvbetjening.models import (
    Exercise,
    Goal,
    PlanExercise,
    ProgrammeTemplate,
    ProgrammeTemplateItem,
    ProgressionDecision,
    TrainingPlan,
    TrainingPlanStatusChange,
    TrainingPlanVersion,
)
from selvbetjening.selectors.episodes import episodes_visible_to
from selvbetjening.selectors.exercises import exercises_visible_to
from selvbetjening.selectors.templates import templates_visible_to


def training_plans_visible_to(actor: Actor) -> QuerySet[TrainingPlan]:
    return TrainingPlan.objects.filter(episode__in=episodes_visible_to(actor))


def _plan_exercises() -> QuerySet[PlanExercise]:
    return PlanExercise.objects.select_related("exercise").prefetch_related("exercise__images")


def with_plan_shape(queryset: QuerySet[TrainingPlan]) -> QuerySet[TrainingPlan]:
    """A plan with its current version, that version's exercises (with titles and pictures) and its
    goals, in a fixed number of queries whatever the row count."""
    return queryset.select_related("citizen", "episode", "current_version__created_by").prefetch_related(
        Prefetch("current_version__exercises", queryset=_plan_exercises()),
        Prefetch("goals", queryset=Goal.objects.order_by("rank", "id")),
    )


def training_plans_for_staff(
    actor: Actor, *, citizen_id: UUID | None, episode_id: UUID | None, status: str | None
) -> QuerySet[TrainingPlan]:
    plans = training_plans_visible_to(actor)
    if citizen_id is not None:
        plans = plans.filter(citizen_id=citizen_id)
    if episode_id is not None:
        plans = plans.filter(episode_id=episode_id)
    if status is not None:
        plans = plans.filter(status=status)
    return with_plan_shape(plans)


def training_plans_of_citizen(actor: Actor, *, status: str | None) -> QuerySet[TrainingPlan]:
    """The citizen's own plans (``actor`` acting as the citizen)."""
    if actor.citizen is None:
        return TrainingPlan.objects.none()
    plans = training_plans_visible_to(actor).filter(citizen=actor.citizen)
    if status is not None:
        plans = plans.filter(status=status)
    return with_plan_shape(plans)


def versions_of(plan: TrainingPlan) -> QuerySet[TrainingPlanVersion]:
    """The plan's versions with their exercises, in a fixed number of queries."""
    return plan.versions.select_related("created_by").prefetch_related(
        Prefetch("exercises", queryset=_plan_exercises())
    )


PLAN_DECISIONS_SHOWN = 30


def with_plan_history(queryset: QuerySet[TrainingPlan]) -> QuerySet[TrainingPlan]:
    """Plans (shaped by ``with_plan_shape`` already) with each plan's versions (newest first, with their
    exercises) and the progression decisions of its latest sessions with their reasons
    (``plan.recent_decisions``), in a fixed number of queries whatever the number of plans, versions or
    sessions."""
    decisions = ProgressionDecision.objects.select_related(
        "plan_exercise__exercise", "session_log", "new_version"
    ).order_by("-session_log__performed_at", "-id")[:PLAN_DECISIONS_SHOWN]
    versions = (
        TrainingPlanVersion.objects.select_related("created_by")
        .prefetch_related(Prefetch("exercises", queryset=_plan_exercises()))
        .order_by("-number")
    )
    return queryset.prefetch_related(
        Prefetch("versions", queryset=versions, to_attr="versions_newest_first"),
        Prefetch("progression_decisions", queryset=decisions, to_attr="recent_decisions"),
    )


# --- What a plan may be made of ------------------------------------------------------------------


def goals_for_plan(episode_id: UUID, goal_ids: list[UUID]) -> list[Goal]:
    """The goals, all of the episode and not cancelled; 422 naming ``goal_ids`` otherwise."""
    unique = set(goal_ids)
    goals = list(
        Goal.objects.filter(pk__in=unique, episode_id=episode_id).exclude(
            lifecycle_status=Goal.LifecycleStatus.CANCELLED
        )
    )
    if len(goals) != len(unique):
        raise InvalidInput("goal_ids", "every goal must be a goal of the plan's episode that is not cancelled.")
    return goals


def exercises_for_plan(actor: Actor, exercise_ids: list[UUID], *, already_in_plan: set[UUID]) -> dict[UUID, Exercise]:
    """The exercises by id that the staff member may put in a plan: visible to them (the shared library
    and their municipality's), and not retired unless the plan already has them."""
    found = {
        exercise.pk: exercise
        for exercise in exercises_visible_to(actor).filter(pk__in=set(exercise_ids))
        if exercise.is_active or exercise.pk in already_in_plan
    }
    for index, exercise_id in enumerate(exercise_ids):
        if exercise_id not in found:
            raise InvalidInput(f"exercises.{index}.exercise_id", "is not an exercise of the library you can use.")
    return found


def template_for_plan(actor: Actor, template_id: UUID) -> ProgrammeTemplate:
    """An active programme template of the staff member's municipality, with its items; 422 naming
    ``template_id`` otherwise."""
    items = ProgrammeTemplateItem.objects.order_by("position", "id")
    template = (
        templates_visible_to(actor)
        .filter(pk=template_id, is_active=True)
        .prefetch_related(Prefetch("items", queryset=items))
        .first()
    )
    if template is None:
        raise InvalidInput("template_id", "is not a programme template of your municipality.")
    return template


def plan_active_at(plan: TrainingPlan, instant: datetime) -> bool:
    """Whether the plan was active at ``instant``, by its status history (a plan starts active): the same
    answer whatever the plan's status is now, so a session done during a pause is refused also after the
    plan was resumed. One query."""
    last = (
        TrainingPlanStatusChange.objects.filter(plan=plan, changed_at__lte=instant)
        .order_by("-changed_at", "-id")
        .values_list("to_status", flat=True)
        .first()
    )
    return last is None or last == TrainingPlan.Status.ACTIVE
