"""Training plans through the API: making, reading, revising, pausing; their slots; who may do what."""

import io
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.models import AccessLogEntry, StaffRole
from backend.timeutil import municipal_today
from selvbetjening.models import Episode, PlanExercise, TrainingPlan, TrainingPlanVersion, TrainingSlot
from selvbetjening.services.plans import training_plans_end_for_episode
from selvbetjening.services.slots import (
    TRAINING_SLOTS_AHEAD,
    slots_mark_missed,
    slots_materialise,
    slots_materialise_ahead,
)
from tests import factories as core
from tests.conftest import ApiClient, access_token_for
from tests.selvbetjening import factories
from tests.selvbetjening.training_factories import (
    ExerciseFactory,
    ProgrammeTemplateFactory,
    ProgrammeTemplateItemFactory,
    make_plan,
    slot_at,
)

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
PLANS = "/api/v1/training-plans"
Slot = TrainingSlot.Status

pytestmark = pytest.mark.django_db


def plan_body(episode, exercise, **overrides):
    body = {
        "episode_id": str(episode.pk),
        "title": "Styrke og balance",
        "recurrence_rule": "FREQ=WEEKLY;BYDAY=MO,WE,FR",
        "start_time": "10:00",
        "exercises": [
            {
                "exercise_id": str(exercise.pk),
                "sets": 2,
                "repetitions": 10,
                "instructions": "Brug armlænene, hvis knæet gør ondt.",
                "progression_after_sessions": 4,
                "progression_repetitions_step": 2,
            }
        ],
    }
    body.update(overrides)
    return body


@pytest.fixture
def exercise(world):
    return ExerciseFactory(municipality=None, title_da="Rejse-sætte-sig", title_en="Sit to stand")


def create(world, body, role="staff_in_team"):
    return world.client(role).post(PLANS, body)


def expected_slot_days(start: datetime, end: datetime, weekdays: set[int], at: time) -> list[datetime]:
    """The MO/WE/FR-style times in [start, end), worked out day by day."""
    found = []
    day = start.astimezone(COPENHAGEN).date()
    while day <= end.astimezone(COPENHAGEN).date():
        instant = datetime.combine(day, at, tzinfo=COPENHAGEN).astimezone(UTC)
        if day.weekday() in weekdays and start <= instant < end:
            found.append(instant)
        day += timedelta(days=1)
    return found


def problem_field(response) -> str:
    return response.json()["errors"][0]["field"]


# --- Making a plan -------------------------------------------------------------------------------


def test_staff_makes_a_plan_tied_to_goals_with_slots_two_weeks_ahead(world, episode, exercise):
    goal = factories.GoalFactory(episode=episode)
    before = timezone.now()
    response = create(world, plan_body(episode, exercise, goal_ids=[str(goal.pk)]))
    after = timezone.now()
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "active"
    assert body["goals"] == [{"id": str(goal.pk), "description": goal.description, "rank": goal.rank}]
    current = body["current_version"]
    assert current["number"] == 1
    assert current["time_zone"] == "Europe/Copenhagen"
    assert current["start_date"] == str(municipal_today())
    assert current["end_date"] == str(episode.planned_end_date)
    assert current["created_by_name"] == world.staff_in_team.user.display_name
    [line] = current["exercises"]
    assert line["exercise"]["title"] == "Rejse-sætte-sig"
    assert (line["sets"], line["repetitions"], line["load_kg"]) == (2, 10, None)
    assert line["instructions"] == "Brug armlænene, hvis knæet gør ondt."
    assert line["progression_after_sessions"] == 4

    slots = list(TrainingSlot.objects.filter(plan_id=body["id"]).order_by("scheduled_at"))
    made = [slot.scheduled_at for slot in slots]
    assert made == expected_slot_days(before, after + TRAINING_SLOTS_AHEAD, {0, 2, 4}, time(10, 0))[: len(made)]
    assert len(made) >= 5
    assert all(slot.scheduled_at.astimezone(COPENHAGEN).time() == time(10, 0) for slot in slots)
    assert all(slot.local_date == slot.scheduled_at.astimezone(COPENHAGEN).date() for slot in slots)
    assert all(slot.due_until - slot.scheduled_at == timedelta(minutes=480) for slot in slots)
    assert {slot.status for slot in slots} == {Slot.PENDING}
    # One row for the request: the write, which covers the plan shown back.
    logged = AccessLogEntry.objects.filter(citizen=world.citizen, resource_type="training_plan")
    assert list(logged.values_list("action", flat=True)) == ["create"]


def test_a_plan_from_a_template_copies_its_exercises_dosage_rules_and_schedule(world, episode, exercise):
    template = ProgrammeTemplateFactory(
        municipality=world.municipality, recurrence_rule="FREQ=WEEKLY;BYDAY=TU,TH", start_time=time(9, 30)
    )
    ProgrammeTemplateItemFactory(
        template=template,
        exercise=exercise,
        position=0,
        sets=3,
        repetitions=8,
        progression_after_sessions=5,
        progression_sets_step=1,
        stop_pain_level=6,
    )
    body = plan_body(episode, exercise, template_id=str(template.pk))
    del body["recurrence_rule"], body["start_time"], body["exercises"]
    response = create(world, body)
    assert response.status_code == 201, response.content
    current = response.json()["current_version"]
    assert (current["recurrence_rule"], current["start_time"]) == ("FREQ=WEEKLY;BYDAY=TU,TH", "09:30:00")
    [line] = current["exercises"]
    assert (line["sets"], line["repetitions"], line["progression_after_sessions"]) == (3, 8, 5)
    assert (line["progression_sets_step"], line["stop_pain_level"]) == (1, 6)
    assert response.json()["template_id"] == str(template.pk)


def test_another_municipalitys_template_is_refused(world, episode, exercise):
    template = ProgrammeTemplateFactory()
    response = create(world, plan_body(episode, exercise, template_id=str(template.pk)))
    assert (response.status_code, problem_field(response)) == (422, "template_id")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"recurrence_rule": "FREQ=WEEKLY;BYDAY=XX"}, "recurrence_rule"),
        ({"recurrence_rule": "FREQ=MINUTELY"}, "recurrence_rule"),
        ({"recurrence_rule": "FREQ=DAILY;COUNT=5"}, "recurrence_rule"),
        ({"recurrence_rule": "FREQ=DAILY;BYHOUR=6,8,10,12,14,16,18"}, "recurrence_rule"),
        ({"start_time": "10:00+02:00"}, "start_time"),
        ({"grace_minutes": -1}, "grace_minutes"),
    ],
)
def test_bad_schedules_are_refused_naming_the_field_and_nothing_is_saved(world, episode, exercise, change, field):
    response = create(world, plan_body(episode, exercise, **change))
    assert response.status_code == 422, response.content
    assert problem_field(response) == field
    assert TrainingPlan.objects.count() == TrainingPlanVersion.objects.count() == TrainingSlot.objects.count() == 0


def test_a_period_outside_the_episode_or_upside_down_is_refused(world, episode, exercise):
    episode.start_date = date(2026, 1, 1)
    episode.save(update_fields=["start_date"])
    cases = [
        ({"start_date": str(episode.start_date - timedelta(days=1))}, "start_date"),
        ({"end_date": str(episode.planned_end_date + timedelta(days=1))}, "end_date"),
        ({"start_date": str(municipal_today() + timedelta(days=5)), "end_date": str(municipal_today())}, "end_date"),
        (
            {
                "recurrence_rule": "FREQ=WEEKLY;BYDAY=SA",
                "start_date": "2026-03-16",
                "end_date": "2026-03-20",
            },
            "recurrence_rule",
        ),
    ]
    for change, field in cases:
        response = create(world, plan_body(episode, exercise, **change))
        assert (response.status_code, problem_field(response)) == (422, field), change
    assert TrainingPlan.objects.count() == 0


def test_a_goal_of_another_episode_is_refused(world, episode, exercise):
    elsewhere = factories.GoalFactory(episode=factories.EpisodeFactory(citizen=world.citizen, team=world.team))
    response = create(world, plan_body(episode, exercise, goal_ids=[str(elsewhere.pk)]))
    assert (response.status_code, problem_field(response)) == (422, "goal_ids")
    assert TrainingPlan.objects.count() == 0


def test_an_exercise_of_another_municipality_is_refused(world, episode, exercise):
    foreign = ExerciseFactory(municipality=core.MunicipalityFactory(code="751"))
    body = plan_body(episode, exercise)
    body["exercises"].append({"exercise_id": str(foreign.pk), "sets": 1})
    response = create(world, body)
    assert (response.status_code, problem_field(response)) == (422, "exercises.1.exercise_id")
    assert TrainingPlan.objects.count() == PlanExercise.objects.count() == 0


def test_own_municipalitys_exercise_is_accepted_and_a_retired_one_is_not(world, episode, exercise):
    own = ExerciseFactory(municipality=world.municipality)
    retired = ExerciseFactory(municipality=None, is_active=False)
    body = plan_body(episode, exercise)
    body["exercises"].append({"exercise_id": str(retired.pk), "sets": 1})
    assert problem_field(create(world, body)) == "exercises.1.exercise_id"
    body["exercises"][1]["exercise_id"] = str(own.pk)
    assert create(world, body).status_code == 201


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"sets": None, "repetitions": None}, "exercises.0.sets"),
        ({"sets": -1}, "exercises.0.sets"),
        ({"progression_effort_min": 6, "progression_effort_max": 4}, "exercises.0.progression_effort_max"),
        ({"progression_max_pain": 5, "stop_pain_level": 5}, "exercises.0.stop_pain_level"),
        ({"progression_repetitions_step": 0}, "exercises.0.progression_after_sessions"),
        ({"load_kg": 2.25}, "exercises.0.load_kg"),
    ],
)
def test_bad_dosage_and_rules_are_refused(world, episode, exercise, line, field):
    body = plan_body(episode, exercise)
    body["exercises"][0].update(line)
    response = create(world, body)
    assert (response.status_code, problem_field(response)) == (422, field)
    assert TrainingPlan.objects.count() == 0


def test_an_exercise_listed_twice_is_refused(world, episode, exercise):
    body = plan_body(episode, exercise)
    body["exercises"].append({"exercise_id": str(exercise.pk), "sets": 1})
    assert problem_field(create(world, body)) == "exercises.1.exercise_id"


def test_a_plan_for_an_ended_episode_is_refused(world, episode, exercise):
    Episode.objects.filter(pk=episode.pk).update(status=Episode.Status.CANCELLED)
    response = create(world, plan_body(episode, exercise))
    assert (response.status_code, response.json()["code"]) == (409, "episode_ended")
    assert TrainingPlan.objects.count() == 0


# --- Who may -------------------------------------------------------------------------------------


@pytest.fixture
def other_team_colleague(world):
    """A therapist of the other team, which also cares for world.citizen: reads, never changes."""
    core.CareRelationFactory(citizen=world.citizen, team=world.other_team)
    return access_token_for(world.staff_out_of_team.user, "staff")


def test_staff_of_a_team_without_the_citizen_get_404_and_change_nothing(world, episode, exercise):
    plan = make_plan(episode=episode)
    outsider = world.client("staff_out_of_team")
    assert outsider.post(PLANS, plan_body(episode, exercise)).status_code == 404
    assert outsider.get(f"{PLANS}/{plan.pk}").status_code == 404
    assert outsider.patch(f"{PLANS}/{plan.pk}", {"version": 1, "title": "X"}).status_code == 404
    assert outsider.post(f"{PLANS}/{plan.pk}/versions", {"version": 1}).status_code == 404
    assert outsider.get(PLANS).json()["items"] == []
    assert TrainingPlan.objects.count() == 1
    assert TrainingPlanVersion.objects.count() == 1


def test_staff_of_another_team_caring_for_the_citizen_read_but_may_not_change(
    world, episode, exercise, other_team_colleague
):
    plan = make_plan(episode=episode, title="Træning")
    colleague = ApiClient(other_team_colleague)
    assert colleague.get(f"{PLANS}/{plan.pk}").status_code == 200
    refusals = [
        colleague.post(PLANS, plan_body(episode, exercise)),
        colleague.patch(f"{PLANS}/{plan.pk}", {"version": 1, "title": "X"}),
        colleague.post(f"{PLANS}/{plan.pk}/versions", {"version": 1}),
    ]
    assert [(r.status_code, r.json()["code"]) for r in refusals] == [(403, "not_episode_team")] * 3
    plan.refresh_from_db()
    assert (plan.title, plan.version, plan.versions.count(), TrainingPlan.objects.count()) == ("Træning", 1, 1, 1)


def test_the_citizen_reads_their_own_plans_with_dosage_and_instructions(world, episode):
    plan = make_plan(episode=episode, exercises=1)
    line = plan.current_version.exercises.get()
    PlanExercise.objects.filter(pk=line.pk).update(instructions="Hold fast i køkkenbordet.", load_kg="1.5")
    me = world.client("citizen")
    listed = me.get("/api/v1/me/training-plans").json()["items"]
    assert [item["id"] for item in listed] == [str(plan.pk)]
    detail = me.get(f"/api/v1/me/training-plans/{plan.pk}").json()
    [exercise_line] = detail["current_version"]["exercises"]
    assert exercise_line["instructions"] == "Hold fast i køkkenbordet."
    assert (exercise_line["sets"], exercise_line["repetitions"], exercise_line["load_kg"]) == (2, 10, 1.5)
    assert exercise_line["exercise_instructions"] == line.exercise.instructions_da
    assert "progression_max_pain" not in exercise_line
    assert world.client("other_citizen").get(f"/api/v1/me/training-plans/{plan.pk}").status_code == 404
    assert world.client("other_citizen").get("/api/v1/me/training-plans").json()["items"] == []
    assert AccessLogEntry.objects.filter(
        citizen=world.citizen, resource_type="training_plan", actor_role="citizen", purpose="own_use"
    ).exists()


def test_staff_filter_plans_by_citizen_episode_and_status(world, episode):
    active = make_plan(episode=episode)
    paused = make_plan(episode=episode, status=TrainingPlan.Status.PAUSED)
    other_episode = factories.EpisodeFactory(citizen=world.citizen, team=world.team)
    elsewhere = make_plan(episode=other_episode)
    staff = world.client("staff_in_team")

    def ids(**query):
        return {item["id"] for item in staff.get(PLANS, query).json()["items"]}

    assert ids() == {str(active.pk), str(paused.pk), str(elsewhere.pk)}
    assert ids(status="paused") == {str(paused.pk)}
    assert ids(episode_id=str(episode.pk)) == {str(active.pk), str(paused.pk)}
    assert ids(citizen_id=str(world.other_citizen.pk)) == set()
    assert staff.get(PLANS, {"status": "deleted"}).status_code == 422


# --- Revising ------------------------------------------------------------------------------------


def test_a_revision_keeps_history_and_makes_only_the_pending_slots_again(world, episode, exercise):
    plan_id = create(world, plan_body(episode, exercise)).json()["id"]
    plan = TrainingPlan.objects.get(pk=plan_id)
    first_version = plan.current_version
    today = municipal_today()
    done = slot_at(plan, datetime.combine(today - timedelta(days=3), time(10)), status=Slot.DONE)
    missed = slot_at(plan, datetime.combine(today - timedelta(days=2), time(10)), status=Slot.MISSED)
    still_open = slot_at(plan, datetime.combine(today - timedelta(days=1), time(23, 59)))
    ahead = plan.slots.filter(status=Slot.PENDING, scheduled_at__gte=timezone.now())
    ahead_before = set(ahead.values_list("pk", flat=True))

    staff = world.client("staff_in_team")
    revised = staff.post(
        f"{PLANS}/{plan_id}/versions",
        {
            "version": 1,
            "recurrence_rule": "FREQ=DAILY",
            "start_time": "17:30",
            "exercises": [{"exercise_id": str(exercise.pk), "sets": 3, "repetitions": 12}],
            "change_note": "Hver dag om eftermiddagen",
        },
    )
    assert revised.status_code == 201, revised.content
    body = revised.json()
    assert (body["version"], body["current_version"]["number"]) == (2, 2)
    assert body["current_version"]["exercises"][0]["sets"] == 3

    history = staff.get(f"{PLANS}/{plan_id}/versions").json()["items"]
    assert [item["number"] for item in history] == [2, 1]
    assert history[1]["recurrence_rule"] == "FREQ=WEEKLY;BYDAY=MO,WE,FR"
    assert history[1]["exercises"][0]["sets"] == 2
    assert history[0]["change_note"] == "Hver dag om eftermiddagen"

    for kept, status in ((done, Slot.DONE), (missed, Slot.MISSED), (still_open, Slot.PENDING)):
        kept.refresh_from_db()
        assert (kept.status, kept.version_id) == (status, first_version.pk)
    assert set(plan.slots.filter(pk__in=ahead_before).values_list("status", flat=True)) == {Slot.CANCELLED}
    new_slots = plan.slots.filter(status=Slot.PENDING, scheduled_at__gte=timezone.now())
    assert new_slots.count() in (13, 14, 15)
    assert {slot.version.number for slot in new_slots} == {2}
    assert {slot.scheduled_at.astimezone(COPENHAGEN).time() for slot in new_slots} == {time(17, 30)}


def test_a_stale_revision_or_edit_is_409_and_changes_nothing(world, episode):
    plan = make_plan(episode=episode)
    staff = world.client("staff_in_team")
    assert staff.patch(f"{PLANS}/{plan.pk}", {"version": 1, "title": "Ny"}).status_code == 200
    stale = [
        staff.post(f"{PLANS}/{plan.pk}/versions", {"version": 1, "recurrence_rule": "FREQ=DAILY"}),
        staff.patch(f"{PLANS}/{plan.pk}", {"version": 1, "status": "paused"}),
    ]
    assert [(r.status_code, r.json()["code"]) for r in stale] == [(409, "stale_version")] * 2
    plan.refresh_from_db()
    assert (plan.version, plan.status, plan.versions.count()) == (2, "active", 1)


def test_a_revision_may_keep_a_retired_exercise_already_in_the_plan(world, episode):
    plan = make_plan(episode=episode, exercises=1)
    line = plan.current_version.exercises.get()
    line.exercise.is_active = False
    line.exercise.save(update_fields=["is_active"])
    response = world.client("staff_in_team").post(
        f"{PLANS}/{plan.pk}/versions",
        {"version": 1, "exercises": [{"exercise_id": str(line.exercise_id), "sets": 4}]},
    )
    assert response.status_code == 201, response.content


# --- Pausing, resuming, ending -------------------------------------------------------------------


def test_pausing_cancels_pending_slots_ahead_and_resuming_makes_them_again(world, episode, exercise):
    plan_id = create(world, plan_body(episode, exercise)).json()["id"]
    plan = TrainingPlan.objects.get(pk=plan_id)
    earlier = slot_at(plan, datetime.combine(municipal_today() - timedelta(days=1), time(23, 59)))
    ahead = plan.slots.filter(status=Slot.PENDING, scheduled_at__gte=timezone.now()).count()
    assert ahead > 0
    staff = world.client("staff_in_team")

    paused = staff.patch(f"{PLANS}/{plan_id}", {"version": 1, "status": "paused"})
    assert (paused.status_code, paused.json()["status"]) == (200, "paused")
    assert plan.slots.filter(status=Slot.PENDING, scheduled_at__gte=timezone.now()).count() == 0
    earlier.refresh_from_db()
    assert earlier.status == Slot.PENDING

    resumed = staff.patch(f"{PLANS}/{plan_id}", {"version": 2, "status": "active"})
    assert resumed.status_code == 200
    assert plan.slots.filter(status=Slot.PENDING, scheduled_at__gte=timezone.now()).count() == ahead

    ended = staff.patch(f"{PLANS}/{plan_id}", {"version": 3, "status": "ended"})
    assert ended.json()["status"] == "ended"
    assert plan.slots.filter(status=Slot.PENDING, scheduled_at__gte=timezone.now()).count() == 0
    again = staff.patch(f"{PLANS}/{plan_id}", {"version": 4, "status": "active"})
    assert (again.status_code, again.json()["code"]) == (409, "plan_ended")


def test_plans_end_with_their_episode_and_their_pending_slots_ahead_are_cancelled(world, episode, exercise):
    plan_id = create(world, plan_body(episode, exercise)).json()["id"]
    plan = TrainingPlan.objects.get(pk=plan_id)
    earlier = slot_at(plan, datetime.combine(municipal_today() - timedelta(days=3), time(10)), status=Slot.MISSED)
    other = make_plan(episode=factories.EpisodeFactory(citizen=world.citizen, team=world.team))
    slots_materialise(plan=other, until=timezone.now() + TRAINING_SLOTS_AHEAD)

    assert training_plans_end_for_episode(episode_id=episode.pk, citizen_id=world.citizen.pk) == 1

    plan.refresh_from_db()
    earlier.refresh_from_db()
    assert (plan.status, plan.version, earlier.status) == (TrainingPlan.Status.ENDED, 2, Slot.MISSED)
    assert not plan.slots.filter(status=Slot.PENDING).exists()
    assert other.slots.filter(status=Slot.PENDING).exists()


def test_goals_are_changed_only_to_goals_of_the_episode(world, episode):
    plan = make_plan(episode=episode)
    goal = factories.GoalFactory(episode=episode)
    foreign = factories.GoalFactory()
    staff = world.client("staff_in_team")
    refused = staff.patch(f"{PLANS}/{plan.pk}", {"version": 1, "goal_ids": [str(foreign.pk)]})
    assert (refused.status_code, problem_field(refused)) == (422, "goal_ids")
    changed = staff.patch(f"{PLANS}/{plan.pk}", {"version": 1, "goal_ids": [str(goal.pk)]})
    assert [item["id"] for item in changed.json()["goals"]] == [str(goal.pk)]


# --- Slots ---------------------------------------------------------------------------------------


def test_materialising_twice_makes_each_slot_once(world, episode):
    plan = make_plan(episode=episode, start_date=episode.start_date)
    now = timezone.now()
    first = slots_materialise(plan=plan, until=now + timedelta(days=14), now=now)
    plan.slots_until = None
    second = slots_materialise(plan=plan, until=now + timedelta(days=14), now=now)
    assert first > 0
    assert second == 0
    assert plan.slots.count() == first


def test_materialising_follows_local_time_across_the_spring_change(world):
    episode = factories.EpisodeFactory(
        citizen=world.citizen, team=world.team, start_date=date(2026, 3, 1), planned_end_date=date(2026, 5, 1)
    )
    plan = make_plan(episode=episode, recurrence_rule="FREQ=DAILY", start_time=time(7, 45))
    start = datetime(2026, 3, 27, tzinfo=UTC)
    made = slots_materialise(plan=plan, until=start + timedelta(days=4), now=start)
    slots = list(plan.slots.order_by("scheduled_at"))
    assert made == 4
    assert [slot.local_date for slot in slots] == [date(2026, 3, 27 + n) for n in range(4)]
    assert [slot.scheduled_at.hour for slot in slots] == [6, 6, 5, 5]
    plan.refresh_from_db()
    assert plan.slots_until == start + timedelta(days=4)


def test_overdue_pending_slots_become_missed_in_one_update(world, episode, django_assert_num_queries, settings):
    settings.MISSED_TRAINING_ALERT_AFTER = 0  # the missed-training rule: tests/selvbetjening/test_missed_training.py
    plan = make_plan(episode=episode)
    today = municipal_today()
    overdue = [slot_at(plan, datetime.combine(today - timedelta(days=n), time(8))) for n in (2, 3, 4)]
    done = slot_at(plan, datetime.combine(today - timedelta(days=5), time(8)), status=Slot.DONE)
    ahead = slot_at(plan, datetime.combine(today + timedelta(days=2), time(8)))
    with django_assert_num_queries(4):  # in a savepoint: which slots (and their plans), then the UPDATE
        assert slots_mark_missed(now=timezone.now()) == 3
    assert {slot.status for slot in TrainingSlot.objects.filter(pk__in=[s.pk for s in overdue])} == {Slot.MISSED}
    done.refresh_from_db()
    ahead.refresh_from_db()
    assert (done.status, ahead.status) == (Slot.DONE, Slot.PENDING)


def test_the_periodic_command_is_safe_to_run_twice(world, episode):
    active = make_plan(episode=episode)
    paused = make_plan(episode=episode, status=TrainingPlan.Status.PAUSED)
    ended_episode = factories.EpisodeFactory(citizen=world.citizen, team=world.team)
    of_ended_episode = make_plan(episode=ended_episode)
    Episode.objects.filter(pk=ended_episode.pk).update(status=Episode.Status.CANCELLED)
    overdue = slot_at(active, datetime.combine(municipal_today() - timedelta(days=2), time(8)))

    output = io.StringIO()
    call_command("training_slots", "--batch-size", "1", stdout=output)
    made = active.slots.filter(status=Slot.PENDING).count()
    call_command("training_slots", stdout=output)

    assert made > 0
    assert active.slots.filter(status=Slot.PENDING).count() == made
    assert paused.slots.count() == of_ended_episode.slots.count() == 0
    overdue.refresh_from_db()
    assert overdue.status == Slot.MISSED
    assert output.getvalue().splitlines() == [
        f"{made} training slots made, 1 marked missed.",
        "0 training slots made, 0 marked missed.",
    ]


def test_the_periodic_job_tops_up_only_plans_running_short(world, episode):
    plan = make_plan(episode=episode)
    now = timezone.now()
    assert slots_materialise_ahead(now=now) > 0
    plan.refresh_from_db()
    assert plan.slots_until == now + TRAINING_SLOTS_AHEAD
    assert slots_materialise_ahead(now=now + timedelta(days=6)) == 0
    assert slots_materialise_ahead(now=now + timedelta(days=8)) > 0


# --- Query counts --------------------------------------------------------------------------------


def count_queries(client, path, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, params or {})
    assert response.status_code == 200, response.content
    return len(captured)


def grow(world, episode, times):
    for _ in range(times):
        plan = make_plan(episode=episode, exercises=3)
        plan.goals.add(factories.GoalFactory(episode=episode))
        for line in plan.current_version.exercises.all():
            line.exercise.images.create(image="x.jpg", medium="x.jpg", thumbnail="x.jpg", width=1, height=1)
        version = plan.current_version
        version.pk = None
        version.number = 2
        version.save()


def test_reads_cost_the_same_number_of_queries_whatever_the_number_of_rows(world, episode):
    plan = make_plan(episode=episode, exercises=1)
    reads = [
        ("staff_in_team", PLANS),
        ("staff_in_team", f"{PLANS}/{plan.pk}"),
        ("staff_in_team", f"{PLANS}/{plan.pk}/versions"),
        ("citizen", "/api/v1/me/training-plans"),
        ("citizen", f"/api/v1/me/training-plans/{plan.pk}"),
    ]
    grow(world, episode, 1)
    small = {path: count_queries(world.client(role), path) for role, path in reads}
    grow(world, episode, 6)
    for _ in range(4):
        TrainingPlanVersion.objects.create(
            plan=plan,
            number=TrainingPlanVersion.objects.filter(plan=plan).count() + 1,
            recurrence_rule="FREQ=DAILY",
            start_date=episode.start_date,
            start_time=time(9),
            end_date=episode.planned_end_date,
            time_zone="Europe/Copenhagen",
        )
    line = plan.current_version.exercises.get()
    for _ in range(3):
        PlanExercise.objects.create(version=plan.current_version, exercise=ExerciseFactory(), sets=1)
    line.exercise.images.create(image="x.jpg", medium="x.jpg", thumbnail="x.jpg", width=1, height=1)
    large = {path: count_queries(world.client(role), path) for role, path in reads}
    assert large == small


def test_a_care_worker_of_the_team_may_make_plans_too(world, episode, exercise):
    worker = core.StaffFactory(municipality=world.municipality)
    core.MembershipFactory(staff=worker, team=world.team, role=StaffRole.CARE_WORKER)
    client = ApiClient(access_token_for(worker.user, "staff"))
    assert client.post(PLANS, plan_body(episode, exercise)).status_code == 201
