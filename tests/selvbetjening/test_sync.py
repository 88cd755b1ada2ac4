"""GET /api/v1/me/sync: what changed for the offline-first phone since its cursor."""

import base64
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.models import AccessLogEntry
from selvbetjening.models import (
    Exercise,
    ExerciseImage,
    Goal,
    GoalRating,
    PlanExercise,
    SessionLog,
    TrainingPlan,
    TrainingPlanVersion,
    TrainingSlot,
)
from selvbetjening.selectors.sync import decode_cursor
from tests.selvbetjening import factories
from tests.selvbetjening.test_sessions import URL as SESSIONS_URL
from tests.selvbetjening.test_sessions import local_day, session_body
from tests.selvbetjening.test_today import picture
from tests.selvbetjening.training_factories import ExerciseFactory, PlanExerciseFactory, make_plan, slot_at

SYNC_URL = "/api/v1/me/sync"


def settle(minutes: int = 60) -> None:
    """Make everything stored so far look as if it changed ``minutes`` ago."""
    earlier = timezone.now() - timedelta(minutes=minutes)
    for model in (TrainingPlan, Exercise, Goal, TrainingSlot, SessionLog):
        model.objects.update(updated_at=earlier)
    for model in (TrainingPlanVersion, ExerciseImage, GoalRating):
        model.objects.update(created_at=earlier)


def sync(client, cursor=None, **params: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = client.get(SYNC_URL, {**({"cursor": cursor} if cursor else {}), **params})
    assert response.status_code == 200, response.content
    return response.json()


def ids(items: list[dict[str, Any]]) -> set[str]:
    return {item["id"] for item in items}


@pytest.fixture
def setup(world, episode):  # type: ignore[no-untyped-def]
    plan = make_plan(episode=episode, exercises=2)
    goal = factories.GoalFactory(episode=episode)
    plan.goals.add(goal)
    today = local_day(0)
    slots = {
        "old": slot_at(plan, today - timedelta(days=9) + timedelta(hours=10), status=TrainingSlot.Status.MISSED),
        "recent": slot_at(plan, today - timedelta(days=2) + timedelta(hours=10)),
        "cancelled": slot_at(plan, today - timedelta(days=1) + timedelta(hours=10), status="cancelled"),
        "upcoming": slot_at(plan, today + timedelta(days=2, hours=10)),
    }
    log = world.client("citizen").post(SESSIONS_URL, session_body(plan, slot=slots["recent"])).json()
    other = make_plan(episode=factories.EpisodeFactory(citizen=world.other_citizen, team=world.other_team))
    slot_at(other, today + timedelta(hours=10))
    return {"plan": plan, "goal": goal, "slots": slots, "log": log, "other": other}


@pytest.mark.django_db
def test_the_first_sync_brings_everything_current(world, setup):
    plan = setup["plan"]
    body = sync(world.client("citizen"))

    assert body["has_more"] is False
    assert ids(body["plans"]) == {str(plan.pk)}
    synced_plan = body["plans"][0]
    assert synced_plan["goal_ids"] == [str(setup["goal"].pk)]
    assert synced_plan["current_version"]["number"] == 1
    plan_exercises = {str(item.exercise_id) for item in plan.current_version.exercises.all()}
    assert {item["exercise_id"] for item in synced_plan["current_version"]["exercises"]} == plan_exercises
    assert ids(body["exercises"]) == plan_exercises
    assert ids(body["goals"]) == {str(setup["goal"].pk)}
    slots = setup["slots"]
    assert ids(body["slots"]) == {str(slots["recent"].pk), str(slots["upcoming"].pk)}
    done = next(slot for slot in body["slots"] if slot["id"] == str(slots["recent"].pk))
    assert (done["status"], done["session_log_id"]) == ("done", setup["log"]["id"])
    assert ids(body["session_logs"]) == {setup["log"]["id"]}
    assert body["session_logs"][0]["version"] == 1
    assert AccessLogEntry.objects.filter(citizen=world.citizen, resource_type="training_sync").count() == 1


@pytest.mark.django_db
def test_a_second_sync_brings_only_what_changed(world, setup):
    client = world.client("citizen")
    plan = setup["plan"]
    settle()
    cursor = sync(client)["cursor"]
    quiet = sync(client, cursor)
    assert [quiet[kind] for kind in ("plans", "exercises", "goals", "slots", "session_logs")] == [[]] * 5

    first_version = plan.current_version
    revision = TrainingPlanVersion.objects.create(
        plan=plan,
        number=2,
        recurrence_rule=first_version.recurrence_rule,
        start_date=first_version.start_date,
        start_time=first_version.start_time,
        end_date=first_version.end_date,
        time_zone=first_version.time_zone,
    )
    newcomer = ExerciseFactory(title_da="Trappetrin")
    Exercise.objects.filter(pk=newcomer.pk).update(updated_at=timezone.now() - timedelta(days=30))
    for item in first_version.exercises.all():
        PlanExerciseFactory(version=revision, exercise=item.exercise, sets=3)
    PlanExerciseFactory(version=revision, exercise=newcomer)
    TrainingPlan.objects.filter(pk=plan.pk).update(current_version=revision)  # updated_at left as it was
    kept = first_version.exercises.order_by("position").first().exercise
    kept.title_da = "Rejs dig fra stolen"
    kept.save()
    slots = setup["slots"]
    slots["upcoming"].status = TrainingSlot.Status.CANCELLED
    slots["upcoming"].save()
    goal = setup["goal"]
    factories.GoalRatingFactory(goal=goal, gas_score=1)
    changes = sync(client, quiet["cursor"])

    assert ids(changes["plans"]) == {str(plan.pk)}
    assert changes["plans"][0]["current_version"]["number"] == 2
    assert {item["sets"] for item in changes["plans"][0]["current_version"]["exercises"]} == {3, 2}
    exercises = {item["id"]: item for item in changes["exercises"]}
    revised_exercises = {str(item.exercise_id) for item in revision.exercises.all()}
    assert set(exercises) == revised_exercises, "those of the new version, the newcomer included"
    assert str(newcomer.pk) in exercises
    assert exercises[str(kept.pk)]["title"] == "Rejs dig fra stolen"
    assert [(slot["id"], slot["status"]) for slot in changes["slots"]] == [(str(slots["upcoming"].pk), "cancelled")]
    assert [(item["id"], item["latest_gas"]) for item in changes["goals"]] == [(str(goal.pk), 1)]
    assert changes["session_logs"] == []


@pytest.mark.django_db
def test_an_exercise_retitled_in_the_library_shows_up_where_a_plan_uses_it(world, setup):
    settle()
    mine = sync(world.client("citizen"))["cursor"]
    theirs = sync(world.client("other_citizen"))["cursor"]
    exercise = setup["plan"].current_version.exercises.order_by("position").last().exercise
    exercise.title_da = "Hælløft ved køkkenbordet"
    exercise.save()

    changes = sync(world.client("citizen"), mine)

    assert [(item["id"], item["title"]) for item in changes["exercises"]] == [
        (str(exercise.pk), "Hælløft ved køkkenbordet")
    ]
    assert changes["plans"] == []
    assert sync(world.client("other_citizen"), theirs)["exercises"] == []


@pytest.mark.django_db
def test_a_new_picture_or_an_edited_log_shows_up(world, setup):
    client = world.client("citizen")
    settle()
    cursor = sync(client)["cursor"]
    exercise = setup["plan"].current_version.exercises.first().exercise
    picture(exercise)
    log = setup["log"]
    client.patch(f"{SESSIONS_URL}/{log['id']}", {"version": log["version"], "note": "Ondt i knæet"})

    changes = sync(client, cursor)

    assert ids(changes["exercises"]) == {str(exercise.pk)}
    assert len(changes["exercises"][0]["images"]) == 1
    assert [(item["id"], item["version"], item["note"]) for item in changes["session_logs"]] == [
        (log["id"], 2, "Ondt i knæet")
    ]


@pytest.mark.django_db
def test_a_change_stamped_before_the_cursor_but_committed_after_it_is_not_lost(world, setup):
    client = world.client("citizen")
    settle()
    cursor = sync(client)["cursor"]
    since = decode_cursor(cursor).since
    assert since is not None
    late = slot_at(setup["plan"], local_day(0) + timedelta(days=4, hours=10))
    TrainingSlot.objects.filter(pk=late.pk).update(updated_at=since - timedelta(seconds=1))

    assert str(late.pk) in ids(sync(client, cursor)["slots"])


@pytest.mark.django_db
def test_a_large_change_comes_in_bounded_answers_without_losing_or_repeating(world, setup):
    client = world.client("citizen")
    plan = setup["plan"]
    settle()
    cursor = sync(client)["cursor"]
    made = [slot_at(plan, local_day(0) + timedelta(days=day, hours=10)) for day in range(3, 10)]
    burst = timezone.now() - timedelta(seconds=1)
    TrainingSlot.objects.filter(pk__in=[slot.pk for slot in made]).update(updated_at=burst)  # one instant
    logs = [
        client.post(SESSIONS_URL, session_body(plan, performed_at=(timezone.now() - timedelta(hours=h)).isoformat()))
        for h in (1, 2, 3)
    ]

    answers = []
    while True:
        answer = sync(client, cursor, limit=2)
        answers.append(answer)
        cursor = answer["cursor"]
        if not answer["has_more"]:
            break
        assert len(answers) < 10, "the walk must end"

    slot_ids = [slot["id"] for answer in answers for slot in answer["slots"]]
    log_ids = [log["id"] for answer in answers for log in answer["session_logs"]]
    assert all(len(answer["slots"]) <= 2 and len(answer["session_logs"]) <= 2 for answer in answers)
    assert sorted(slot_ids) == sorted(str(slot.pk) for slot in made), "each slot exactly once"
    assert sorted(log_ids) == sorted(response.json()["id"] for response in logs)
    assert len(answers) == 4
    assert all(answer["plans"] == [] for answer in answers[1:]), "plans come with the first answer"

    settle()
    assert sync(client, cursor)["slots"] == []


@pytest.mark.django_db
def test_sync_costs_the_same_queries_whatever_changed(world, setup):
    client = world.client("citizen")

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            sync(client)
        return len(captured)

    few = count()
    plan = make_plan(episode=setup["plan"].episode, exercises=5)
    plan.goals.add(factories.GoalFactory(episode=plan.episode))
    for exercise in PlanExercise.objects.filter(version=plan.current_version):
        picture(exercise.exercise)
    for day in range(3, 12):
        slot_at(plan, local_day(0) + timedelta(days=day, hours=10))
    for hours in range(1, 8):
        client.post(
            SESSIONS_URL, session_body(plan, performed_at=(timezone.now() - timedelta(hours=hours)).isoformat())
        )
    assert count() == few


@pytest.mark.django_db
@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(b'{"since": "yesterday"}').decode(),
        base64.urlsafe_b64encode(b'{"since": "2026-01-01T10:00:00"}').decode(),
        base64.urlsafe_b64encode(b'{"since": null, "walk": "2026-01-01T10:00:00+00:00", "slots": [1]}').decode(),
    ],
)
def test_a_malformed_cursor_is_refused_naming_it(world, cursor):
    response = world.client("citizen").get(SYNC_URL, {"cursor": cursor})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cursor"


@pytest.mark.django_db
def test_another_citizens_data_never_syncs(world, setup):
    body = sync(world.client("other_citizen"))
    assert ids(body["plans"]) == {str(setup["other"].pk)}
    assert body["goals"] == [] and body["session_logs"] == []
    assert len(body["slots"]) == 1
    assert world.client("staff_in_team").get(SYNC_URL).status_code == 403
