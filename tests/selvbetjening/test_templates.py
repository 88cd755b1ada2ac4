"""Programme templates as therapists make and reuse them."""

from typing import Any

import pytest

from backend.models import AppSession, StaffRole
from selvbetjening.models import Exercise, ProgrammeTemplate, ProgrammeTemplateItem, TrainingPlan
from selvbetjening.rules.dosage import MAX_EXERCISES
from tests import factories as core
from tests.conftest import ApiClient, access_token_for
from tests.selvbetjening.training_factories import (
    ExerciseFactory,
    ProgrammeTemplateFactory,
    ProgrammeTemplateItemFactory,
)

LIST = "/api/v1/programme-templates"


@pytest.fixture
def exercises(world) -> dict[str, Any]:
    return {
        "shared": ExerciseFactory(title_da="Rejse-sætte-sig", title_en="Sit to stand"),
        "own": ExerciseFactory(municipality=world.municipality, title_da="Gå til postkassen"),
        "retired": ExerciseFactory(municipality=world.municipality, is_active=False),
        "elsewhere": ExerciseFactory(municipality=core.MunicipalityFactory(code="101", name="København")),
    }


def item(exercise: Exercise, **fields: Any) -> dict[str, Any]:
    return {"exercise_id": str(exercise.pk), "sets": 2, "repetitions": 10, **fields}


def body(*items: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "title": "Hverdagsrehabilitering, ben",
        "description": "Tre gange om ugen i otte uger.",
        "recurrence_rule": "FREQ=WEEKLY;BYDAY=MO,WE,FR",
        "start_time": "10:00",
        "items": list(items),
        **fields,
    }


def other_municipality_staff() -> ApiClient:
    municipality = core.MunicipalityFactory(code="751", name="Aarhus")
    team = core.TeamFactory(unit=core.OrganisationUnitFactory(municipality=municipality))
    staff = core.StaffFactory(municipality=municipality)
    core.MembershipFactory(staff=staff, team=team, role=StaffRole.THERAPIST)
    return ApiClient(access_token_for(staff.user, AppSession.Audience.STAFF))


def first_error(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.content
    return response.json()["errors"][0]["field"]


@pytest.mark.django_db
def test_a_therapist_makes_a_template_colleagues_reuse(world, exercises):
    staff = world.client("staff_in_team")
    response = staff.post(
        LIST,
        body(
            item(exercises["shared"], progression_after_sessions=3, progression_repetitions_step=2),
            item(exercises["own"], sets=None, repetitions=None, duration_seconds=600, instructions="Med rollator."),
        ),
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["recurrence_rule"] == "FREQ=WEEKLY;BYDAY=MO,WE,FR" and created["start_time"] == "10:00:00"
    assert [line["exercise"]["id"] for line in created["items"]] == [
        str(exercises["shared"].pk),
        str(exercises["own"].pk),
    ]
    assert [line["position"] for line in created["items"]] == [0, 1]
    first, second = created["items"]
    assert first["progression_after_sessions"] == 3 and first["stop_pain_level"] == 7
    assert second["duration_seconds"] == 600 and second["instructions"] == "Med rollator."
    assert created["created_by_name"] == world.staff_in_team.user.display_name
    listed = world.client("staff_out_of_team").get(LIST).json()["items"]
    assert [template["id"] for template in listed] == [created["id"]]


@pytest.mark.django_db
def test_exercise_titles_in_a_template_follow_the_language(world, exercises):
    staff = world.client("staff_in_team")
    created = staff.post(LIST, body(item(exercises["shared"]))).json()
    english = staff.get(f"{LIST}/{created['id']}", headers={"Accept-Language": "en"}).json()
    assert english["items"][0]["exercise"]["title"] == "Sit to stand"


@pytest.mark.django_db
def test_another_municipalitys_template_is_404_and_cannot_be_changed(world, exercises):
    template = ProgrammeTemplateFactory(municipality=world.municipality, created_by=world.staff_in_team.user)
    outsider = other_municipality_staff()
    assert outsider.get(f"{LIST}/{template.pk}").status_code == 404
    assert outsider.get(LIST).json()["items"] == []
    response = outsider.patch(f"{LIST}/{template.pk}", {"version": 1, "title": "Overtaget"})
    assert response.status_code == 404
    template.refresh_from_db()
    assert template.title != "Overtaget" and template.version == 1


@pytest.mark.django_db
@pytest.mark.parametrize("which", ["elsewhere", "missing"])
def test_an_exercise_the_therapist_cannot_see_is_422_naming_the_item(world, exercises, which):
    unseen = exercises["elsewhere"] if which == "elsewhere" else Exercise(pk="00000000-0000-4000-8000-000000000000")
    response = world.client("staff_in_team").post(
        LIST, body(item(exercises["shared"]), item(exercises["own"]), item(unseen))
    )
    assert first_error(response) == "items.2.exercise_id"
    assert not ProgrammeTemplate.objects.exists()


@pytest.mark.django_db
def test_a_retired_exercise_cannot_be_put_in_a_new_template(world, exercises):
    response = world.client("staff_in_team").post(LIST, body(item(exercises["retired"])))
    assert first_error(response) == "items.0.exercise_id"
    assert not ProgrammeTemplate.objects.exists()


@pytest.mark.django_db
def test_the_same_exercise_twice_is_422(world, exercises):
    response = world.client("staff_in_team").post(LIST, body(item(exercises["own"]), item(exercises["own"], sets=3)))
    assert first_error(response) == "items.1.exercise_id"
    assert not ProgrammeTemplate.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"sets": -1}, "items.0.sets"),
        ({"load_kg": "-2.5"}, "items.0.load_kg"),
        ({"sets": None, "repetitions": None}, "items.0.sets"),
        ({"sets": 0, "repetitions": 0}, "items.0.sets"),
        ({"progression_effort_min": 7, "progression_effort_max": 4}, "items.0.progression_effort_max"),
        ({"progression_effort_max": 11}, "items.0.progression_effort_max"),
        ({"progression_max_pain": 11}, "items.0.progression_max_pain"),
        ({"stop_pain_level": -1}, "items.0.stop_pain_level"),
        ({"progression_max_pain": 7, "stop_pain_level": 6}, "items.0.stop_pain_level"),
        ({"progression_after_sessions": 3}, "items.0.progression_after_sessions"),
        ({"load_kg": "2.25"}, "items.0.load_kg"),
    ],
    ids=[
        "negative-sets",
        "negative-load",
        "no-dosage",
        "zero-dosage",
        "effort-band-reversed",
        "effort-above-10",
        "pain-above-10",
        "stop-level-negative",
        "advance-at-stop-level",
        "progression-without-step",
        "load-too-precise",
    ],
)
def test_bad_dosage_and_rules_are_422_naming_the_field_and_nothing_is_saved(world, exercises, fields, field):
    response = world.client("staff_in_team").post(LIST, body(item(exercises["own"], **fields)))
    assert first_error(response) == field
    assert not ProgrammeTemplate.objects.exists() and not ProgrammeTemplateItem.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "rule", ["FREQ=WEEKLY;BYDAY=XX", "hver mandag", "DTSTART:20260101T100000\nRRULE:FREQ=DAILY", "BYDAY=MO"]
)
def test_a_malformed_recurrence_rule_is_422(world, exercises, rule):
    response = world.client("staff_in_team").post(LIST, body(item(exercises["own"]), recurrence_rule=rule))
    assert first_error(response) == "recurrence_rule"
    assert not ProgrammeTemplate.objects.exists()


@pytest.mark.django_db
def test_a_template_without_a_usual_schedule_is_fine(world, exercises):
    response = world.client("staff_in_team").post(
        LIST, body(item(exercises["own"]), recurrence_rule="", start_time=None)
    )
    assert response.status_code == 201
    assert response.json()["recurrence_rule"] == "" and response.json()["start_time"] is None


@pytest.mark.django_db
def test_a_start_time_with_an_offset_is_422(world, exercises):
    response = world.client("staff_in_team").post(LIST, body(item(exercises["own"]), start_time="10:00+02:00"))
    assert first_error(response) == "start_time"


@pytest.mark.django_db
def test_editing_replaces_the_items_and_a_stale_version_is_409(world, exercises):
    staff = world.client("staff_in_team")
    created = staff.post(LIST, body(item(exercises["shared"]), item(exercises["own"]))).json()
    path = f"{LIST}/{created['id']}"
    edited = staff.patch(
        path, {"version": 1, "title": "Ben og balance", "items": [item(exercises["own"], sets=3, repetitions=12)]}
    )
    assert edited.status_code == 200, edited.content
    assert edited.json()["version"] == 2 and edited.json()["title"] == "Ben og balance"
    assert [(line["exercise"]["id"], line["sets"]) for line in edited.json()["items"]] == [
        (str(exercises["own"].pk), 3)
    ]
    stale = world.client("staff_out_of_team").patch(path, {"version": 1, "title": "Noget andet"})
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
    template = ProgrammeTemplate.objects.get(pk=created["id"])
    assert template.title == "Ben og balance" and template.items.count() == 1


@pytest.mark.django_db
def test_a_refused_edit_keeps_the_items(world, exercises):
    staff = world.client("staff_in_team")
    created = staff.post(LIST, body(item(exercises["shared"]), item(exercises["own"]))).json()
    response = staff.patch(
        f"{LIST}/{created['id']}",
        {"version": 1, "title": "Ny", "items": [item(exercises["own"]), item(exercises["elsewhere"])]},
    )
    assert first_error(response) == "items.1.exercise_id"
    template = ProgrammeTemplate.objects.get(pk=created["id"])
    assert template.title == "Hverdagsrehabilitering, ben" and template.version == 1
    assert template.items.count() == 2


@pytest.mark.django_db
def test_an_exercise_retired_after_it_was_put_in_a_template_may_stay(world, exercises):
    own = exercises["own"]
    staff = world.client("staff_in_team")
    created = staff.post(LIST, body(item(own))).json()
    Exercise.objects.filter(pk=own.pk).update(is_active=False)
    response = staff.patch(f"{LIST}/{created['id']}", {"version": 1, "items": [item(own, sets=4)]})
    assert response.status_code == 200, response.content
    assert response.json()["items"][0]["exercise"]["is_active"] is False


@pytest.mark.django_db
def test_a_retired_template_leaves_the_list_but_can_be_read_and_brought_back(world, exercises):
    staff = world.client("staff_in_team")
    created = staff.post(LIST, body(item(exercises["own"]))).json()
    path = f"{LIST}/{created['id']}"
    assert staff.patch(path, {"version": 1, "is_active": False}).json()["is_active"] is False
    assert staff.get(LIST).json()["items"] == []
    assert [t["id"] for t in staff.get(LIST, {"include_retired": True}).json()["items"]] == [created["id"]]
    assert staff.get(path).status_code == 200
    assert staff.patch(path, {"version": 2, "is_active": True}).json()["is_active"] is True


@pytest.mark.django_db
def test_search_finds_templates_by_title(world, exercises):
    for title in ("Hofteopereret", "Balance efter fald", "Skulder"):
        ProgrammeTemplateFactory(municipality=world.municipality, title=title, created_by=world.staff_in_team.user)
    found = world.client("staff_in_team").get(LIST, {"q": "fald"}).json()["items"]
    assert [template["title"] for template in found] == ["Balance efter fald"]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["citizen", "relative_with_consent", "it", "analyst"])
def test_only_care_staff_use_templates(world, exercises, role):
    client = world.client(role)
    assert client.get(LIST).status_code == 403
    assert client.post(LIST, body(item(exercises["own"]))).status_code == 403
    assert not ProgrammeTemplate.objects.exists()


TEMPLATE_LIST_QUERIES = 5  # the token, the memberships, the page, the items with exercises, their pictures


@pytest.mark.django_db
@pytest.mark.parametrize("count", [3, 20])
def test_the_list_costs_the_same_queries_for_3_or_20_templates(world, count, django_assert_num_queries):
    for _ in range(count):
        template = ProgrammeTemplateFactory(municipality=world.municipality, created_by=world.staff_in_team.user)
        for _ in range(3):
            ProgrammeTemplateItemFactory(template=template, exercise=ExerciseFactory(municipality=world.municipality))
    staff = world.client("staff_in_team")
    with django_assert_num_queries(TEMPLATE_LIST_QUERIES):
        response = staff.get(LIST)
    assert len(response.json()["items"]) == count
    assert all(len(template["items"]) == 3 for template in response.json()["items"])


@pytest.mark.django_db
def test_a_template_as_long_as_allowed_becomes_a_plan_with_every_exercise_and_one_more_is_refused(world, episode):
    staff = world.client("staff_in_team")
    many = [item(ExerciseFactory()) for _ in range(MAX_EXERCISES + 1)]
    assert first_error(staff.post(LIST, body(*many))) == "items"
    made = staff.post(LIST, body(*many[:MAX_EXERCISES]))
    assert made.status_code == 201, made.content
    plan = staff.post(
        "/api/v1/training-plans",
        {"episode_id": str(episode.pk), "title": "Fra skabelon", "template_id": made.json()["id"]},
    )
    assert plan.status_code == 201, plan.content
    assert len(plan.json()["current_version"]["exercises"]) == MAX_EXERCISES
    assert TrainingPlan.objects.get(pk=plan.json()["id"]).current_version.exercises.count() == MAX_EXERCISES
    too_many = {
        "episode_id": str(episode.pk),
        "title": "For mange",
        "recurrence_rule": "FREQ=DAILY",
        "start_time": "10:00",
        "exercises": many,
    }
    assert first_error(staff.post("/api/v1/training-plans", too_many)) == "exercises"
