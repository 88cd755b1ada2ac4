"""Dosage and progression rules: the same exercise gets the same answer in a plan and in a template."""

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from backend.actors import Actor
from backend.errors import InvalidInput
from backend.models import AppSession
from selvbetjening.models import PlanExercise, ProgrammeTemplate, TrainingPlan
from selvbetjening.rules.dosage import (
    ADVANCED,
    BOUNDS,
    EFFORT_OUTSIDE_BAND,
    NOT_ENOUGH_SESSIONS,
    NOT_REPORTED,
    PAIN_ABOVE_THRESHOLD,
    advanced_dosage,
    dosage_check,
    entry_complete,
    progression_verdict,
)
from selvbetjening.services.plans import training_plan_create, training_plan_revise
from tests.selvbetjening.training_factories import (
    ExerciseFactory,
    ProgrammeTemplateFactory,
    ProgrammeTemplateItemFactory,
    make_plan,
)

PLANS = "/api/v1/training-plans"
TEMPLATES = "/api/v1/programme-templates"

# (what the exercise sends besides its id, then the answer: status, code, field inside the entry)
CASES: list[tuple[str, dict[str, Any], tuple[int, str | None, str | None]]] = [
    ("sets-and-repetitions", {"sets": 2, "repetitions": 10}, (201, None, None)),
    ("with-a-load", {"sets": 3, "repetitions": 8, "load_kg": "2.5"}, (201, None, None)),
    ("duration-only", {"duration_seconds": 600}, (201, None, None)),
    ("five-hours", {"duration_seconds": 5 * 3600}, (201, None, None)),
    ("sixty-sets", {"sets": 60}, (201, None, None)),
    ("load-only", {"load_kg": "2.5"}, (422, "invalid", "sets")),
    ("nothing", {}, (422, "invalid", "sets")),
    ("zero-sets", {"sets": 0, "repetitions": 10}, (422, "validation_failed", "sets")),
    ("too-many-sets", {"sets": 101}, (422, "validation_failed", "sets")),
    ("negative-load", {"sets": 2, "load_kg": "-1"}, (422, "validation_failed", "load_kg")),
    ("load-too-precise", {"sets": 2, "load_kg": "2.25"}, (422, "validation_failed", "load_kg")),
    (
        "effort-band-reversed",
        {"sets": 2, "progression_effort_min": 7, "progression_effort_max": 4},
        (422, "invalid", "progression_effort_max"),
    ),
    (
        "advance-at-stop-level",
        {"sets": 2, "progression_max_pain": 5, "stop_pain_level": 5},
        (422, "invalid", "stop_pain_level"),
    ),
    (
        "advance-above-stop-level",
        {"sets": 2, "progression_max_pain": 7, "stop_pain_level": 6},
        (422, "invalid", "stop_pain_level"),
    ),
    (
        "stop-at-no-pain",
        {"sets": 2, "progression_max_pain": 0, "stop_pain_level": 0},
        (422, "validation_failed", "stop_pain_level"),
    ),
    ("pain-above-10", {"sets": 2, "progression_max_pain": 11}, (422, "validation_failed", "progression_max_pain")),
    (
        "progression-without-step",
        {"sets": 2, "progression_after_sessions": 3},
        (422, "invalid", "progression_after_sessions"),
    ),
    (
        "step-for-a-dosage-it-lacks",
        {"duration_seconds": 600, "progression_after_sessions": 3, "progression_repetitions_step": 2},
        (422, "invalid", "progression_after_sessions"),
    ),
    (
        "step-for-its-load",
        {"sets": 2, "load_kg": "1.0", "progression_after_sessions": 3, "progression_load_kg_step": "0.5"},
        (201, None, None),
    ),
]


def _answer(response, prefix: str) -> tuple[int, str | None, str | None]:  # type: ignore[no-untyped-def]
    if response.status_code != 422:
        return response.status_code, None, None
    problem = response.json()
    field = problem["errors"][0]["field"]
    assert field.startswith(prefix), field
    return 422, problem["code"], field.removeprefix(prefix)


@pytest.mark.django_db
@pytest.mark.parametrize(("fields", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_a_plan_and_a_template_answer_alike(world, episode, fields, expected):
    exercise = ExerciseFactory(municipality=None)
    staff = world.client("staff_in_team")
    entry = {"exercise_id": str(exercise.pk), **fields}
    plan = staff.post(
        PLANS,
        {
            "episode_id": str(episode.pk),
            "title": "Styrke",
            "recurrence_rule": "FREQ=WEEKLY;BYDAY=MO,WE,FR",
            "start_time": "10:00",
            "exercises": [entry],
        },
    )
    template = staff.post(TEMPLATES, {"title": "Styrke", "items": [entry]})
    assert _answer(plan, "exercises.0.") == expected, plan.content
    assert _answer(template, "items.0.") == expected, template.content
    refused = expected[0] == 422
    assert TrainingPlan.objects.exists() is not refused and ProgrammeTemplate.objects.exists() is not refused


def staff_actor(world) -> Actor:
    return Actor(user=world.staff_in_team.user, audience=AppSession.Audience.STAFF)


@pytest.mark.django_db
def test_a_plan_from_a_template_gets_the_templates_exercises_checked_by_the_same_rules(world, episode):
    """A template item stored before the rules were shared (no sets, repetitions, hold or duration) is
    refused when a plan is made from it, naming the plan's exercise."""
    template = ProgrammeTemplateFactory(municipality=world.municipality, recurrence_rule="FREQ=DAILY")
    ProgrammeTemplateItemFactory(template=template, sets=None, repetitions=None, load_kg=Decimal("3.0"))
    arguments = {
        "episode": episode,
        "by": staff_actor(world),
        "title": "Fra skabelon",
        "goal_ids": [],
        "template_id": template.pk,
        "recurrence_rule": None,
        "start_time": None,
        "start_date": None,
        "end_date": None,
        "grace_minutes": 480,
        "exercises": None,
    }
    with pytest.raises(InvalidInput) as refused:
        training_plan_create(**arguments)
    assert refused.value.field == "exercises.0.sets"
    assert not TrainingPlan.objects.exists()


@pytest.mark.django_db
def test_a_revision_keeps_exercises_it_does_not_send_as_they_were(world, episode):
    """A plan exercise stored with a load only, before plans refused it, does not stop a revision of the
    schedule; sending it again is checked like any other."""
    plan = make_plan(episode=episode, exercises=1)
    PlanExercise.objects.filter(version=plan.current_version).update(sets=None, repetitions=None, load_kg="4.0")
    revised = training_plan_revise(
        plan=plan, by=staff_actor(world), version=plan.version, recurrence_rule="FREQ=WEEKLY;BYDAY=TU"
    )
    [kept] = revised.current_version.exercises.all()
    assert (kept.sets, kept.repetitions, kept.load_kg) == (None, None, Decimal("4.0"))
    with pytest.raises(InvalidInput) as refused:
        training_plan_revise(
            plan=revised,
            by=staff_actor(world),
            version=revised.version,
            exercises=[{"exercise_id": kept.exercise_id, "load_kg": Decimal("4.5")}],
        )
    assert refused.value.field == "exercises.0.sets"


# --- The rule functions themselves --------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"sets": 0}, "x.sets"),
        ({"sets": 2, "load_kg": "2.25"}, "x.load_kg"),
        ({"sets": 2, "load_kg": 2.5, "progression_load_kg_step": "0.05"}, "x.progression_load_kg_step"),
        ({"sets": 2, "load_kg": "many"}, "x.load_kg"),
        ({"sets": 2, "stop_pain_level": 11}, "x.stop_pain_level"),
        ({"load_kg": 1}, "x.sets"),
    ],
)
def test_a_service_caller_that_skips_the_schema_meets_the_same_bounds(fields, field):
    with pytest.raises(InvalidInput) as refused:
        dosage_check(entry_complete(fields), prefix="x")
    assert refused.value.field == field


VALID = {
    "sets": 2,
    "progression_after_sessions": 3,
    "progression_sets_step": 1,
    "progression_effort_min": 0,
    "progression_effort_max": 10,
    "progression_max_pain": 3,
    "stop_pain_level": 7,
}


@pytest.mark.parametrize("name", list(BOUNDS))
def test_each_bound_allows_its_ends_and_refuses_beyond_them_naming_the_field(name):
    bound = BOUNDS[name]
    if name != "progression_max_pain":  # at 10 no stop level can be above it
        dosage_check(entry_complete({**VALID, name: bound.high}), prefix="x")
    if name not in ("progression_sets_step", "stop_pain_level"):  # the step that allows advancing; the stop
        dosage_check(entry_complete({**VALID, name: bound.low}), prefix="x")
    for beyond in (bound.low - 1, bound.high + 1):
        with pytest.raises(InvalidInput) as refused:
            dosage_check(entry_complete({**VALID, name: beyond}), prefix="x")
        assert refused.value.field == f"x.{name}"


def test_left_out_rule_fields_take_the_models_defaults():
    complete = entry_complete({"sets": 2, "stop_pain_level": None})
    assert complete["stop_pain_level"] == 7 and complete["progression_after_sessions"] is None
    assert complete["repetitions"] is None and complete["progression_max_pain"] == 3


def session(pain_after=None, effort=None, pain_before=None):  # type: ignore[no-untyped-def]
    return SimpleNamespace(pain_before=pain_before, pain_after=pain_after, effort=effort)


RULE = SimpleNamespace(
    progression_after_sessions=2, progression_max_pain=3, progression_effort_min=3, progression_effort_max=6
)


@pytest.mark.parametrize(
    ("recent", "verdict"),
    [
        ([session(3, 3), session(0, 6)], ADVANCED),
        ([session(3, 3)], NOT_ENOUGH_SESSIONS),
        ([session(4, 4), session(0, 4)], PAIN_ABOVE_THRESHOLD),
        ([session(None, 4, pain_before=4), session(0, 4)], PAIN_ABOVE_THRESHOLD),
        ([session(2, 7), session(0, 4)], EFFORT_OUTSIDE_BAND),
        ([session(2, 2), session(0, 4)], EFFORT_OUTSIDE_BAND),
        ([session(2, None), session(0, 4)], NOT_REPORTED),
        ([session(None, 4), session(0, 4)], NOT_REPORTED),
    ],
)
def test_the_dosage_advances_only_when_every_recent_session_allows_it(recent, verdict):
    assert progression_verdict(RULE, recent) == verdict


def test_an_advanced_dosage_grows_by_its_steps_up_to_the_bound_and_leaves_what_it_lacks():
    item = SimpleNamespace(
        sets=99,
        repetitions=None,
        hold_seconds=30,
        duration_seconds=None,
        load_kg=Decimal("499.5"),
        progression_sets_step=2,
        progression_repetitions_step=5,
        progression_hold_seconds_step=5,
        progression_duration_seconds_step=0,
        progression_load_kg_step=Decimal("1.0"),
    )
    assert advanced_dosage(item) == {"sets": 100, "hold_seconds": 35, "load_kg": Decimal(500)}
