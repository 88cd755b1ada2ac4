"""Today's four hand-written statements (``selectors/today.py``) answer what the ORM answers for the same
question, on a realistic day: two active plans with several exercises and pictures, slots in every status,
a logged session, a paused plan, another day and another citizen. Run on SQLite and on PostgreSQL."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from selvbetjening.models import ExerciseImage, PlanExercise, SessionLog, TrainingPlan, TrainingSlot
from selvbetjening.rules.dosage import dosage_out
from selvbetjening.selectors.today import exercise_images, next_reminder_at, today_for_citizen
from tests.selvbetjening import factories
from tests.selvbetjening.test_sessions import local_day
from tests.selvbetjening.test_today import grow, picture
from tests.selvbetjening.training_factories import PlanExerciseFactory, SessionLogFactory, make_plan, slot_at

Status = TrainingSlot.Status


def orm_today(citizen, day, now) -> dict:  # type: ignore[no-untyped-def]
    """The same day read through the ORM."""
    slots = (
        TrainingSlot.objects.filter(citizen=citizen, local_date=day, plan__status=TrainingPlan.Status.ACTIVE)
        .exclude(status=Status.CANCELLED)
        .select_related("plan", "version")
        .order_by("scheduled_at", "id")
    )
    logs = dict(SessionLog.objects.filter(slot__in=slots).values_list("slot_id", "id"))
    items = []
    for slot in slots:
        exercises = []
        for item in (
            PlanExercise.objects.filter(version=slot.version).select_related("exercise").order_by("position", "id")
        ):
            images = ExerciseImage.objects.filter(exercise=item.exercise).order_by("position", "created_at")
            exercises.append(
                {
                    "plan_exercise_id": item.pk,
                    "exercise_id": item.exercise_id,
                    "position": item.position,
                    "title": item.exercise.title_da,
                    "instructions": item.exercise.instructions_da,
                    "individual_instructions": item.instructions,
                    "video_url": item.exercise.video_url,
                    **dosage_out(item),
                    "images": [(image.pk, image.alt_text_da, image.width, image.height) for image in images],
                }
            )
        items.append(
            {
                "id": slot.pk,
                "training_plan_id": slot.plan_id,
                "plan_title": slot.plan.title,
                "plan_version_id": slot.version_id,
                "plan_version_number": slot.version.number,
                "scheduled_at": slot.scheduled_at,
                "scheduled_local": slot.scheduled_at.astimezone(ZoneInfo(slot.version.time_zone)),
                "due_until": slot.due_until,
                "status": slot.status,
                "session_log_id": logs.get(slot.pk),
                "exercises": exercises,
            }
        )
    upcoming = (
        TrainingSlot.objects.filter(
            citizen=citizen, status=Status.PENDING, scheduled_at__gt=now, plan__status=TrainingPlan.Status.ACTIVE
        )
        .order_by("scheduled_at")
        .values_list("scheduled_at", flat=True)
        .first()
    )
    return {"slots": items, "next_reminder_at": upcoming}


def comparable(answer: dict) -> dict:
    """The hand-written answer without what the ORM reading leaves to the presenter (status names, URLs)."""
    slots = []
    for slot in answer["slots"]:
        exercises = [
            {
                **{key: value for key, value in exercise.items() if key != "images"},
                "images": [
                    (image["id"], image["alt_text"], image["width"], image["height"]) for image in exercise["images"]
                ],
            }
            for exercise in slot["exercises"]
        ]
        slots.append({**{k: v for k, v in slot.items() if k != "status_name"}, "exercises": exercises})
    return {"slots": slots, "next_reminder_at": answer["next_reminder_at"]}


@pytest.fixture
def busy_day(world, episode):  # type: ignore[no-untyped-def]
    strength = make_plan(episode=episode, exercises=2, title="Styrke")
    grow(strength, exercises=3, pictures=2)
    balance = make_plan(episode=episode, exercises=1, title="Balance")
    PlanExerciseFactory(version=balance.current_version, position=5, sets=2, load_kg="1.5", instructions="Langsomt")
    today = local_day(0)
    slot_at(strength, today + timedelta(hours=7), status=Status.MISSED)
    done = slot_at(strength, today + timedelta(hours=9), status=Status.DONE)
    SessionLogFactory(plan=strength, slot=done, performed_at=done.scheduled_at)
    slot_at(balance, today + timedelta(hours=9))
    slot_at(balance, today + timedelta(hours=16))
    slot_at(strength, today + timedelta(hours=18), status=Status.CANCELLED)
    slot_at(strength, today + timedelta(days=2, hours=10))
    paused = make_plan(episode=episode, status=TrainingPlan.Status.PAUSED)
    slot_at(paused, today + timedelta(hours=11))
    other = make_plan(episode=factories.EpisodeFactory(citizen=world.other_citizen, team=world.other_team))
    slot_at(other, today + timedelta(hours=10))
    return today


@pytest.mark.django_db
def test_the_days_slots_exercises_pictures_and_next_reminder_are_the_orms(world, busy_day):
    citizen = world.citizen
    now = busy_day.replace(hour=12, tzinfo=ZoneInfo(citizen.time_zone))
    answer = today_for_citizen(citizen, busy_day.date(), now=now)
    expected = orm_today(citizen, busy_day.date(), now)
    assert len(expected["slots"]) == 4 and sum(len(slot["exercises"]) for slot in expected["slots"]) == 14
    assert comparable(answer) == expected


@pytest.mark.django_db
def test_the_next_reminder_is_the_orms_before_during_and_after_the_day(world, busy_day):
    citizen = world.citizen
    for hour in (0, 8, 12, 17, 23):
        now = datetime.combine(busy_day.date(), datetime.min.time(), ZoneInfo(citizen.time_zone)) + timedelta(
            hours=hour
        )
        assert next_reminder_at(citizen, now) == orm_today(citizen, busy_day.date(), now)["next_reminder_at"]
    assert next_reminder_at(citizen, timezone.now() + timedelta(days=30)) is None


@pytest.mark.django_db
def test_the_pictures_of_exercises_are_the_orms_in_order(world, episode):
    plan = make_plan(episode=episode, exercises=2)
    exercises = [item.exercise for item in plan.current_version.exercises.all()]
    for position in (2, 0, 1):
        picture(exercises[0], position)
    picture(exercises[1], 0)
    found = exercise_images([exercise.pk for exercise in exercises], "da")
    for exercise in exercises:
        expected = list(
            ExerciseImage.objects.filter(exercise=exercise)
            .order_by("position", "created_at")
            .values_list("id", "alt_text_da", "width", "height")
        )
        assert [(image["id"], image["alt_text"], image["width"], image["height"]) for image in found[exercise.pk]] == (
            expected
        )
    assert exercise_images([], "da") == {}
