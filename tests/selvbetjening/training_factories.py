"""Factories for the exercise library, training plans, slots and session logs (factory-boy)."""

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from backend.timeutil import municipal_today
from selvbetjening.models import (
    Exercise,
    PlanExercise,
    ProgrammeTemplate,
    ProgrammeTemplateItem,
    SessionLog,
    SessionLogExercise,
    TrainingPlan,
    TrainingPlanVersion,
    TrainingSlot,
)
from tests import factories as core
from tests.selvbetjening.factories import EpisodeFactory


class ExerciseFactory(DjangoModelFactory):
    class Meta:
        model = Exercise

    municipality = None
    title_da = factory.Sequence(lambda n: f"Øvelse {n}")
    title_en = factory.Sequence(lambda n: f"Exercise {n}")
    instructions_da = "Sid på en stol og rejs dig langsomt op."
    instructions_en = "Sit on a chair and stand up slowly."
    body_area = Exercise.BodyArea.LOWER_BODY
    equipment = Exercise.Equipment.CHAIR
    difficulty = Exercise.Difficulty.EASY


class ProgrammeTemplateFactory(DjangoModelFactory):
    class Meta:
        model = ProgrammeTemplate

    municipality = factory.SubFactory(core.MunicipalityFactory)
    title = factory.Sequence(lambda n: f"Program {n}")
    recurrence_rule = "FREQ=WEEKLY;BYDAY=MO,WE,FR"
    start_time = time(10, 0)
    created_by = factory.SubFactory(core.UserFactory)


class ProgrammeTemplateItemFactory(DjangoModelFactory):
    class Meta:
        model = ProgrammeTemplateItem

    template = factory.SubFactory(ProgrammeTemplateFactory)
    exercise = factory.SubFactory(ExerciseFactory)
    sets = 2
    repetitions = 10


class TrainingPlanFactory(DjangoModelFactory):
    """A plan without versions; ``make_plan`` gives one ready to train against."""

    class Meta:
        model = TrainingPlan

    episode = factory.SubFactory(EpisodeFactory)
    citizen = factory.SelfAttribute("episode.citizen")
    title = "Træning derhjemme"
    created_by = factory.SubFactory(core.UserFactory)


class TrainingPlanVersionFactory(DjangoModelFactory):
    class Meta:
        model = TrainingPlanVersion

    plan = factory.SubFactory(TrainingPlanFactory)
    number = factory.Sequence(lambda n: n + 1)
    recurrence_rule = "FREQ=WEEKLY;BYDAY=MO,WE,FR"
    start_date = factory.LazyFunction(lambda: municipal_today() - timedelta(days=14))
    start_time = time(10, 0)
    end_date = factory.LazyFunction(lambda: municipal_today() + timedelta(days=42))
    time_zone = "Europe/Copenhagen"


class PlanExerciseFactory(DjangoModelFactory):
    class Meta:
        model = PlanExercise

    version = factory.SubFactory(TrainingPlanVersionFactory)
    exercise = factory.SubFactory(ExerciseFactory)
    sets = 2
    repetitions = 10


def make_plan(
    *,
    episode: Any = None,
    exercises: int = 2,
    recurrence_rule: str = "FREQ=WEEKLY;BYDAY=MO,WE,FR",
    start_time: time = time(10, 0),
    start_date: date | None = None,
    end_date: date | None = None,
    **plan_fields: Any,
) -> TrainingPlan:
    """An active plan with a first version holding ``exercises`` plan exercises (no slots)."""
    plan = TrainingPlanFactory(**({"episode": episode} if episode is not None else {}), **plan_fields)
    version = TrainingPlanVersionFactory(
        plan=plan,
        number=1,
        recurrence_rule=recurrence_rule,
        start_time=start_time,
        start_date=start_date or plan.episode.start_date,
        end_date=end_date or plan.episode.planned_end_date,
        time_zone=plan.citizen.time_zone,
    )
    for position in range(exercises):
        PlanExerciseFactory(version=version, position=position)
    plan.current_version = version
    plan.save(update_fields=["current_version"])
    return plan


def slot_at(plan: TrainingPlan, local: datetime, *, status: str = TrainingSlot.Status.PENDING) -> TrainingSlot:
    """A slot of ``plan``'s current version at the naive local wall-clock time ``local``."""
    version = plan.current_version
    assert version is not None
    scheduled_at = local.replace(tzinfo=ZoneInfo(version.time_zone)).astimezone(UTC)
    return TrainingSlot.objects.create(
        plan=plan,
        version=version,
        citizen=plan.citizen,
        scheduled_at=scheduled_at,
        local_date=local.date(),
        due_until=scheduled_at + timedelta(minutes=version.grace_minutes),
        status=status,
    )


class SessionLogFactory(DjangoModelFactory):
    """A session log of ``plan``'s current version, done now by the citizen, filling no slot."""

    class Meta:
        model = SessionLog

    id = factory.LazyFunction(uuid.uuid4)
    plan = factory.SubFactory(TrainingPlanFactory)
    citizen = factory.SelfAttribute("plan.citizen")
    plan_version = factory.SelfAttribute("plan.current_version")
    performed_at = factory.LazyFunction(timezone.now)
    pain_before = 2
    pain_after = 2
    effort = 4
    logged_by = factory.SelfAttribute("plan.citizen.user")
    logged_by_role = SessionLog.LoggedByRole.CITIZEN
    logged_by_name = "Borger"
    fingerprint = factory.LazyFunction(lambda: uuid.uuid4().hex)


class SessionLogExerciseFactory(DjangoModelFactory):
    class Meta:
        model = SessionLogExercise

    session_log = factory.SubFactory(SessionLogFactory)
    plan_exercise = factory.LazyAttribute(lambda o: o.session_log.plan_version.exercises.first())
    exercise = factory.LazyAttribute(lambda o: o.plan_exercise.exercise)
    sets = 2
    repetitions = 10
