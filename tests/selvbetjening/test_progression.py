"""Safe progression, case by case: advance, hold (and why) or stop after each session."""

import logging
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from backend.actors import Actor
from backend.models import AppSession
from backend.timeutil import municipal_today
from selvbetjening.models import (
    EpisodeContact,
    PlanExercise,
    ProgressionDecision,
    TrainingAlert,
    TrainingPlanVersion,
    TrainingSlot,
)
from selvbetjening.services.plans import training_plan_revise
from selvbetjening.services.progression import progression_evaluate
from tests.selvbetjening.training_factories import (
    ExerciseFactory,
    SessionLogExerciseFactory,
    SessionLogFactory,
    make_plan,
    slot_at,
)

pytestmark = pytest.mark.django_db
Outcome = ProgressionDecision.Outcome
RULE = {
    "progression_after_sessions": 3,
    "progression_max_pain": 3,
    "progression_effort_min": 3,
    "progression_effort_max": 6,
    "progression_repetitions_step": 2,
    "progression_load_kg_step": "0.5",
    "stop_pain_level": 7,
}


def staff(world):
    return Actor(user=world.staff_in_team.user, audience=AppSession.Audience.STAFF)


@pytest.fixture
def plan(world, episode):
    """Two exercises with the same rule: sit-to-stand (A, with a load) and heel raises (B)."""
    made = make_plan(episode=episode, exercises=0)
    version = made.current_version
    PlanExercise.objects.create(
        version=version,
        exercise=ExerciseFactory(title_da="Rejse-sætte-sig"),
        position=0,
        sets=2,
        repetitions=10,
        load_kg="1.0",
        **RULE,
    )
    PlanExercise.objects.create(
        version=version, exercise=ExerciseFactory(title_da="Tåhævninger"), position=1, sets=2, repetitions=15, **RULE
    )
    return made


def line(plan, position):
    plan.refresh_from_db()
    return plan.current_version.exercises.get(position=position)


counter = iter(range(10_000))


def session(plan, *, pain_before=1, pain_after=2, effort=4, positions=(0, 1), completed=True, evaluate=True):
    """A session against the plan's current version, done a little later than the one before."""
    plan.refresh_from_db()
    log = SessionLogFactory(
        plan=plan,
        pain_before=pain_before,
        pain_after=pain_after,
        effort=effort,
        performed_at=timezone.now() - timedelta(days=10) + timedelta(minutes=next(counter)),
    )
    for position in positions:
        item = plan.current_version.exercises.get(position=position)
        SessionLogExerciseFactory(session_log=log, plan_exercise=item, exercise=item.exercise, is_completed=completed)
    return (log, progression_evaluate(session_log=log)) if evaluate else (log, [])


def outcomes(decisions, position=0):
    return [(d.outcome, d.reason) for d in decisions if d.plan_exercise.position == position]


# --- Advancing -----------------------------------------------------------------------------------


def test_n_sessions_with_pain_and_effort_in_bounds_advance_the_dosage_in_a_new_version(plan):
    first = session(plan)[1]
    second = session(plan)[1]
    assert outcomes(first) == outcomes(second) == [(Outcome.HELD, "not_enough_sessions")]
    ahead = slot_at(plan, datetime.combine(municipal_today() + timedelta(days=2), time(10)))
    done = slot_at(plan, datetime.combine(municipal_today() - timedelta(days=3), time(10)), status="done")

    _, third = session(plan)

    assert outcomes(third, 0) == outcomes(third, 1) == [(Outcome.ADVANCED, "criteria_met")]
    plan.refresh_from_db()
    version = plan.current_version
    assert (version.number, version.created_by_id, plan.version) == (2, None, 2)
    assert version.change_note == "Automatisk progression: Rejse-sætte-sig, Tåhævninger"
    assert {d.new_version_id for d in third} == {version.pk}
    advanced = line(plan, 0)
    assert (advanced.sets, advanced.repetitions, str(advanced.load_kg)) == (2, 12, "1.5")
    assert line(plan, 1).repetitions == 17
    assert version.recurrence_rule == TrainingPlanVersion.objects.get(plan=plan, number=1).recurrence_rule
    old = TrainingPlanVersion.objects.get(plan=plan, number=1).exercises.get(position=0)
    assert (old.repetitions, str(old.load_kg)) == (10, "1.0")
    ahead.refresh_from_db()
    done.refresh_from_db()
    assert (ahead.status, ahead.version_id) == (TrainingSlot.Status.PENDING, version.pk)
    assert done.version.number == 1


def test_the_count_starts_again_after_an_advance(plan):
    for _ in range(3):
        session(plan)
    assert line(plan, 0).repetitions == 12
    assert outcomes(session(plan)[1]) == [(Outcome.HELD, "not_enough_sessions")]
    assert outcomes(session(plan)[1]) == [(Outcome.HELD, "not_enough_sessions")]
    assert outcomes(session(plan)[1]) == [(Outcome.ADVANCED, "criteria_met")]
    assert line(plan, 0).repetitions == 14


def test_not_enough_sessions_holds(plan):
    _, decisions = session(plan)
    assert outcomes(decisions) == [(Outcome.HELD, "not_enough_sessions")]
    assert TrainingPlanVersion.objects.filter(plan=plan).count() == 1


def test_an_exercise_not_completed_does_not_count(plan):
    session(plan)
    session(plan, completed=False)
    _, decisions = session(plan)
    assert outcomes(decisions) == [(Outcome.HELD, "not_enough_sessions")]


# --- Holding -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("report", "reason"),
    [
        ({"pain_after": 4}, "pain_above_threshold"),
        ({"pain_after": None, "pain_before": 4}, "pain_above_threshold"),
        ({"effort": 2}, "effort_outside_band"),
        ({"effort": 7}, "effort_outside_band"),
        ({"effort": None}, "not_reported"),
        ({"pain_after": None, "pain_before": None}, "not_reported"),
    ],
)
def test_one_session_out_of_bounds_among_the_last_n_holds(plan, report, reason):
    session(plan)
    session(plan, **report)
    _, decisions = session(plan)
    assert outcomes(decisions) == [(Outcome.HELD, reason)]
    assert line(plan, 0).repetitions == 10
    plan.refresh_from_db()
    assert plan.current_version.number == 1


def test_pain_at_the_threshold_and_effort_at_the_band_edges_advance(plan):
    session(plan, pain_after=3, effort=3)
    session(plan, pain_after=3, effort=6)
    _, decisions = session(plan, pain_after=0, effort=5)
    assert outcomes(decisions) == [(Outcome.ADVANCED, "criteria_met")]


def test_pain_after_counts_over_pain_before(plan):
    for _ in range(3):
        _, decisions = session(plan, pain_before=5, pain_after=2)
    assert outcomes(decisions) == [(Outcome.ADVANCED, "criteria_met")]


def test_the_last_n_slide_past_an_old_painful_session(plan):
    session(plan, pain_after=5)
    session(plan)
    assert outcomes(session(plan)[1]) == [(Outcome.HELD, "pain_above_threshold")]
    assert outcomes(session(plan)[1]) == [(Outcome.ADVANCED, "criteria_met")]


# --- Versions and the count ----------------------------------------------------------------------


def test_another_exercises_progression_does_not_reset_this_exercises_count(plan):
    PlanExercise.objects.filter(version=plan.current_version, position=1).update(progression_after_sessions=1)
    _, decisions = session(plan, positions=(0, 1))
    assert outcomes(decisions, 1) == [(Outcome.ADVANCED, "criteria_met")]
    assert outcomes(decisions, 0) == [(Outcome.HELD, "not_enough_sessions")]
    session(plan, positions=(0,))
    _, decisions = session(plan, positions=(0,))
    plan.refresh_from_db()
    assert outcomes(decisions, 0) == [(Outcome.ADVANCED, "criteria_met")]
    assert plan.current_version.number == 3


def test_a_revision_that_changes_the_dosage_starts_the_count_again(plan, world):
    session(plan)
    session(plan)
    entries = [
        {"exercise_id": item.exercise_id, "sets": 3, "repetitions": item.repetitions, **RULE}
        for item in plan.current_version.exercises.all()
    ]
    training_plan_revise(plan=plan, by=staff(world), version=plan.version, exercises=entries)
    assert outcomes(session(plan)[1]) == [(Outcome.HELD, "not_enough_sessions")]


def test_a_revision_that_keeps_the_dosage_keeps_the_count(plan, world):
    session(plan)
    session(plan)
    training_plan_revise(plan=plan, by=staff(world), version=plan.version, recurrence_rule="FREQ=DAILY")
    plan.refresh_from_db()
    assert plan.current_version.number == 2
    assert outcomes(session(plan)[1]) == [(Outcome.ADVANCED, "criteria_met")]


def test_no_rule_no_decision(plan):
    PlanExercise.objects.filter(version=plan.current_version).update(progression_after_sessions=None)
    for _ in range(4):
        _, decisions = session(plan)
        assert decisions == []
    assert TrainingPlanVersion.objects.filter(plan=plan).count() == 1


# --- Stopping ------------------------------------------------------------------------------------


@pytest.fixture
def contact_person(world, episode):
    return EpisodeContact.objects.get(episode=episode, role=EpisodeContact.Role.CONTACT_PERSON, ended_at=None).staff


def test_pain_exactly_at_the_stop_level_stops_and_alerts_the_contact_person_once(
    plan, contact_person, django_capture_on_commit_callbacks, caplog
):
    session(plan)
    session(plan)
    with caplog.at_level(logging.INFO, logger="selvbetjening.events"), django_capture_on_commit_callbacks(execute=True):
        log, decisions = session(plan, pain_after=7)
    assert outcomes(decisions, 0) == outcomes(decisions, 1) == [(Outcome.STOPPED, "pain_at_stop_level")]
    alert = TrainingAlert.objects.get()
    assert (alert.kind, alert.pain, alert.contact_person, alert.session_log) == ("pain_stop", 7, contact_person, log)
    assert (alert.citizen_id, alert.plan) == (plan.citizen_id, plan)
    assert alert.exercise == line(plan, 0).exercise
    assert [r.getMessage() for r in caplog.records if "training_alert.raised" in r.getMessage()] == [
        f"event training_alert.raised alert_id={alert.pk} citizen_id={plan.citizen_id} "
        f"contact_person_id={contact_person.pk}"
    ]
    plan.refresh_from_db()
    assert plan.current_version.number == 1

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = progression_evaluate(session_log=log)
    assert sorted(d.pk for d in again) == sorted(d.pk for d in decisions)
    assert callbacks == []
    assert TrainingAlert.objects.count() == 1
    assert ProgressionDecision.objects.filter(session_log=log).count() == 2


def test_pain_before_at_the_stop_level_stops_too(plan, contact_person):
    _, decisions = session(plan, pain_before=8, pain_after=None)
    assert outcomes(decisions) == [(Outcome.STOPPED, "pain_at_stop_level")]
    assert TrainingAlert.objects.get().pain == 8


def test_pain_one_below_the_stop_level_raises_no_alert(plan):
    _, decisions = session(plan, pain_after=6)
    assert outcomes(decisions) == [(Outcome.HELD, "not_enough_sessions")]
    assert TrainingAlert.objects.count() == 0


def test_one_exercises_stop_level_holds_every_exercise_of_the_session(plan):
    PlanExercise.objects.filter(version=plan.current_version, position=1).update(stop_pain_level=9)
    session(plan)
    session(plan)
    _, decisions = session(plan, pain_after=7)
    assert outcomes(decisions, 0) == [(Outcome.STOPPED, "pain_at_stop_level")]
    assert outcomes(decisions, 1) == [(Outcome.HELD, "session_stopped_by_pain")]
    plan.refresh_from_db()
    assert plan.current_version.number == 1
    assert TrainingAlert.objects.count() == 1


def test_a_stop_without_a_contact_person_still_alerts(plan, episode):
    EpisodeContact.objects.filter(episode=episode).update(ended_at=timezone.now())
    session(plan, pain_after=10)
    assert TrainingAlert.objects.get().contact_person is None


def test_the_stop_applies_to_exercises_without_a_progression_rule(plan):
    PlanExercise.objects.filter(version=plan.current_version).update(progression_after_sessions=None)
    _, decisions = session(plan, pain_after=9)
    assert {(d.outcome, d.reason) for d in decisions} == {(Outcome.STOPPED, "pain_at_stop_level")}
    assert TrainingAlert.objects.count() == 1
