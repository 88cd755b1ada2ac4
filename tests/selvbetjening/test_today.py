"""GET /api/v1/me/today: the day's slots with exercises, dosage and pictures, and the next reminder."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.models import AccessLogEntry
from selvbetjening.models import ExerciseImage, TrainingPlan, TrainingSlot
from selvbetjening.selectors.today import today_for_citizen
from tests.selvbetjening import factories
from tests.selvbetjening.test_sessions import URL as SESSIONS_URL
from tests.selvbetjening.test_sessions import local_day, session_body
from tests.selvbetjening.training_factories import ExerciseFactory, PlanExerciseFactory, make_plan, slot_at

TODAY_URL = "/api/v1/me/today"


def picture(exercise, position=0):  # type: ignore[no-untyped-def]
    return ExerciseImage.objects.create(
        exercise=exercise,
        position=position,
        alt_text_da=f"Billede {position}",
        alt_text_en=f"Picture {position}",
        image=f"exercises/{exercise.pk}/large-{position}.jpg",
        medium=f"exercises/{exercise.pk}/medium-{position}.jpg",
        thumbnail=f"exercises/{exercise.pk}/thumbnail-{position}.jpg",
        width=800,
        height=600,
    )


def grow(plan: TrainingPlan, *, exercises: int, pictures: int) -> None:
    version = plan.current_version
    for position in range(exercises):
        exercise = ExerciseFactory()
        PlanExerciseFactory(version=version, exercise=exercise, position=10 + position, instructions="Langsomt")
        for index in range(pictures):
            picture(exercise, index)


def query_count(client, params=None) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as captured:
        response = client.get(TODAY_URL, params or {})
    assert response.status_code == 200, response.content
    return len(captured)


@pytest.mark.django_db
def test_today_shows_the_days_slots_with_what_to_do(world, episode):
    plan = make_plan(episode=episode, exercises=0, title="Styrke")
    sit_to_stand = ExerciseFactory(title_da="Rejse-sætte-sig", title_en="Sit-to-stand", video_url="https://v.example/1")
    PlanExerciseFactory(
        version=plan.current_version,
        exercise=sit_to_stand,
        position=0,
        sets=3,
        repetitions=8,
        instructions="Brug armlæn",
    )
    first_picture = picture(sit_to_stand, 0)
    picture(sit_to_stand, 1)
    today = local_day(0)
    morning = slot_at(plan, today + timedelta(hours=8), status=TrainingSlot.Status.MISSED)
    noon = slot_at(plan, today + timedelta(hours=12))
    slot_at(plan, today + timedelta(hours=14), status=TrainingSlot.Status.CANCELLED)
    slot_at(plan, today - timedelta(days=1) + timedelta(hours=12))
    paused = make_plan(episode=episode, status=TrainingPlan.Status.PAUSED)
    slot_at(paused, today + timedelta(hours=9))
    other = make_plan(episode=factories.EpisodeFactory(citizen=world.other_citizen, team=world.other_team))
    slot_at(other, today + timedelta(hours=9))
    logged = world.client("citizen").post(
        SESSIONS_URL, session_body(plan, slot=noon, performed_at=timezone.now().isoformat())
    )
    assert logged.status_code == 201, logged.content

    body = world.client("citizen").get(TODAY_URL).json()

    assert body["date"] == today.date().isoformat()
    assert body["time_zone"] == "Europe/Copenhagen"
    assert [slot["id"] for slot in body["slots"]] == [str(morning.pk), str(noon.pk)]
    first, second = body["slots"]
    assert (first["status"], first["status_name"], first["session_log_id"]) == ("missed", "Ikke udført", None)
    assert (second["status"], second["session_log_id"]) == ("done", logged.json()["id"])
    assert second["plan_title"] == "Styrke"
    assert datetime.fromisoformat(second["scheduled_at"]) == noon.scheduled_at
    assert datetime.fromisoformat(second["scheduled_local"]).strftime("%H:%M") == "12:00"
    assert datetime.fromisoformat(second["scheduled_local"]) == noon.scheduled_at
    exercise = first["exercises"][0]
    assert exercise["title"] == "Rejse-sætte-sig"
    assert (exercise["sets"], exercise["repetitions"], exercise["load_kg"]) == (3, 8, None)
    assert exercise["individual_instructions"] == "Brug armlæn"
    assert exercise["instructions"] == sit_to_stand.instructions_da
    assert exercise["video_url"] == "https://v.example/1"
    assert len(exercise["images"]) == 2
    assert exercise["images"][0]["urls"] == {
        "thumbnail": f"/api/v1/exercise-images/{first_picture.pk}/thumbnail",
        "medium": f"/api/v1/exercise-images/{first_picture.pk}/medium",
        "large": f"/api/v1/exercise-images/{first_picture.pk}/large",
    }
    assert AccessLogEntry.objects.filter(
        citizen=world.citizen, resource_type="training", action="read", actor_role="citizen"
    ).exists()


@pytest.mark.django_db
def test_texts_follow_accept_language(world, episode):
    plan = make_plan(episode=episode, exercises=0)
    exercise = ExerciseFactory(title_da="Hælløft", title_en="Heel raises", instructions_en="Rise onto your toes.")
    PlanExerciseFactory(version=plan.current_version, exercise=exercise)
    picture(exercise)
    slot_at(plan, local_day(0) + timedelta(hours=10), status=TrainingSlot.Status.MISSED)

    body = world.client("citizen").get(TODAY_URL, headers={"Accept-Language": "en"}).json()

    slot = body["slots"][0]
    assert slot["status_name"] == "Missed"
    assert (slot["exercises"][0]["title"], slot["exercises"][0]["instructions"]) == (
        "Heel raises",
        "Rise onto your toes.",
    )
    assert slot["exercises"][0]["images"][0]["alt_text"] == "Picture 0"


@pytest.mark.django_db
def test_next_reminder_is_the_next_pending_slot_after_now_across_days(world, episode):
    plan = make_plan(episode=episode)
    today = local_day(0)
    slot_at(plan, today - timedelta(days=1) + timedelta(hours=10))  # pending but past: no reminder
    slot_at(plan, today + timedelta(days=1, hours=10), status=TrainingSlot.Status.CANCELLED)
    later = slot_at(plan, today + timedelta(days=3, hours=10))
    slot_at(plan, today + timedelta(days=5, hours=10))

    body = world.client("citizen").get(TODAY_URL).json()

    assert datetime.fromisoformat(body["next_reminder_at"]) == later.scheduled_at
    TrainingPlan.objects.filter(pk=plan.pk).update(status=TrainingPlan.Status.PAUSED)
    assert world.client("citizen").get(TODAY_URL).json()["next_reminder_at"] is None


@pytest.mark.django_db
def test_the_day_defaults_to_today_in_the_citizens_time_zone(world, episode):
    plan = make_plan(episode=episode)
    late_evening_utc = datetime(2026, 6, 1, 22, 30, tzinfo=UTC)  # 00:30 on 2 June in Copenhagen
    second_of_june = slot_at(plan, datetime.combine(date(2026, 6, 2), time(10, 0)))
    slot_at(plan, datetime.combine(date(2026, 6, 1), time(10, 0)))

    copenhagen = today_for_citizen(world.citizen, now=late_evening_utc)
    world.citizen.time_zone = "America/New_York"
    new_york = today_for_citizen(world.citizen, now=late_evening_utc)

    assert copenhagen["date"] == date(2026, 6, 2)
    assert [slot["id"] for slot in copenhagen["slots"]] == [second_of_june.pk]
    assert new_york["date"] == date(2026, 6, 1)
    assert copenhagen["next_reminder_at"] == second_of_june.scheduled_at


@pytest.mark.django_db
def test_another_day_is_asked_for_by_date_and_local_times_follow_daylight_saving(world, episode):
    plan = make_plan(episode=episode)
    spring_forward = slot_at(plan, datetime.combine(date(2026, 3, 29), time(10, 0)))
    slot_at(plan, datetime.combine(date(2026, 3, 28), time(10, 0)))

    body = world.client("citizen").get(TODAY_URL, {"date": "2026-03-29"}).json()

    assert [slot["id"] for slot in body["slots"]] == [str(spring_forward.pk)]
    assert body["slots"][0]["scheduled_local"].endswith("10:00:00+02:00")
    assert body["slots"][0]["scheduled_at"].startswith("2026-03-29T08:00:00")
    day_before = world.client("citizen").get(TODAY_URL, {"date": "2026-03-28"}).json()
    assert day_before["slots"][0]["scheduled_local"].endswith("10:00:00+01:00")
    assert world.client("citizen").get(TODAY_URL, {"date": "2026-02-30"}).status_code == 422


@pytest.mark.django_db
def test_today_costs_the_same_queries_whatever_the_number_of_slots_exercises_and_pictures(world, episode):
    client = world.client("citizen")
    today = local_day(0)
    plan = make_plan(episode=episode, exercises=0)
    grow(plan, exercises=1, pictures=1)
    slot_at(plan, today + timedelta(hours=10))
    slot_at(plan, today + timedelta(days=2, hours=10))
    few = query_count(client)

    grow(plan, exercises=6, pictures=3)
    for hour in (12, 14, 16, 18):
        slot_at(plan, today + timedelta(hours=hour))
    second = make_plan(episode=episode, exercises=0)
    grow(second, exercises=4, pictures=2)
    for hour in (11, 13):
        slot_at(second, today + timedelta(hours=hour))
    body = client.get(TODAY_URL).json()
    assert len(body["slots"]) == 7
    assert sum(len(slot["exercises"]) for slot in body["slots"]) == 5 * 7 + 2 * 4

    assert query_count(client) == few
    assert few <= 7, "the bearer token, the citizen, four reads and the access-log row"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["staff_in_team", "relative_with_consent", "it", "analyst"])
def test_today_is_only_for_the_citizen(world, episode, role):
    plan = make_plan(episode=episode)
    slot_at(plan, local_day(0) + timedelta(hours=10))
    assert world.client(role).get(TODAY_URL).status_code == 403


@pytest.mark.django_db
def test_an_empty_day_is_not_an_error(world):
    body = world.client("other_citizen").get(TODAY_URL).json()
    assert body["slots"] == []
    assert body["next_reminder_at"] is None
    assert not AccessLogEntry.objects.filter(resource_type="training").exists()
