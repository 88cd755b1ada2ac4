"""The FHIR export of one citizen: valid FHIR R4 resources (checked with fhir.resources' R4B models, whose
Patient, EpisodeOfCare, CarePlan, Goal, Observation and Bundle are those of R4), linked to one another,
and written to the citizen's access log as an export."""

from datetime import date

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from backend import cpr
from backend.models import AccessLogEntry
from selvbetjening.models import EpisodeContact, Goal
from selvbetjening.models.goals import FSIII_CODE_SYSTEM
from tests.effekt.population import WALKING, completed_episode, goal
from tests.selvbetjening import factories
from tests.selvbetjening.training_factories import make_plan

pytestmark = pytest.mark.django_db

# The required value sets of R4 for the codes the export sets (fhir.resources checks a code's form only).
REQUIRED_CODES = {
    ("EpisodeOfCare", "status"): {
        "planned",
        "waitlist",
        "active",
        "onhold",
        "finished",
        "cancelled",
        "entered-in-error",
    },
    ("CarePlan", "status"): {"draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"},
    ("CarePlan", "intent"): {"proposal", "plan", "order", "option"},
    ("Goal", "lifecycleStatus"): {
        "proposed",
        "planned",
        "accepted",
        "active",
        "on-hold",
        "completed",
        "cancelled",
        "entered-in-error",
        "rejected",
    },
    ("Observation", "status"): {
        "registered",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "cancelled",
        "entered-in-error",
        "unknown",
    },
}
ACTIVITY_STATUS = {
    "not-started",
    "scheduled",
    "in-progress",
    "on-hold",
    "completed",
    "cancelled",
    "stopped",
    "unknown",
    "entered-in-error",
}
GOAL_ACHIEVEMENT = {
    "in-progress",
    "improving",
    "worsening",
    "no-change",
    "achieved",
    "sustaining",
    "not-achieved",
    "no-progress",
    "not-attainable",
}


@pytest.fixture
def exported(world):
    finished = completed_episode(world.team, citizen=world.citizen, result="E2")
    walking = goal(finished, gas=1, level=1, condition=WALKING)
    factories.GoalRatingFactory(
        goal=walking,
        rated_on=date(2026, 3, 29),
        rater_role="citizen",
        gas_score=None,
        function_level=None,
        copm_performance=7,
        copm_satisfaction=8,
        note="Det går bedre",
    )
    running = factories.EpisodeFactory(citizen=world.citizen, team=world.team, created_by=world.staff_in_team.user)
    factories.EpisodeContactFactory(episode=running, staff=world.staff_in_team, role=EpisodeContact.Role.CONTACT_PERSON)
    planned_goal = factories.GoalFactory(
        episode=running, expressed_by=Goal.ExpressedBy.STAFF, achievement_status=Goal.AchievementStatus.IMPROVING
    )
    make_plan(episode=running).goals.add(planned_goal)
    return {"finished": finished, "walking": walking, "running": running, "planned_goal": planned_goal}


def bundle(world, citizen_id):
    response = world.client("staff_in_team").get(f"/api/v1/citizens/{citizen_id}/fhir")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    return response.json()


def test_the_bundle_and_every_resource_in_it_are_valid_fhir(world, exported):
    body = bundle(world, world.citizen.pk)
    Bundle.model_validate(body)
    for entry in body["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        for (kind, element), codes in REQUIRED_CODES.items():
            if resource["resourceType"] == kind:
                assert resource[element] in codes, (kind, element, resource[element])
        for activity in resource.get("activity", []):
            assert activity["detail"]["status"] in ACTIVITY_STATUS
            assert activity["detail"]["kind"] == "ServiceRequest"
        if resource["resourceType"] == "Goal":
            assert resource["achievementStatus"]["coding"][0]["code"] in GOAL_ACHIEVEMENT
    kinds = [entry["resource"]["resourceType"] for entry in body["entry"]]
    assert kinds.count("Patient") == 1
    assert kinds.count("EpisodeOfCare") == kinds.count("CarePlan") == 2
    assert kinds.count("Goal") == 2
    # The walking goal: a baseline, a follow-up and a COPM rating.
    assert kinds.count("Observation") == 3


def test_resources_carry_the_codes_and_references_of_the_domain(world, exported):
    body = bundle(world, world.citizen.pk)
    urls = {entry["fullUrl"] for entry in body["entry"]}
    resources = {
        (entry["resource"]["resourceType"], entry["resource"]["id"]): entry["resource"] for entry in body["entry"]
    }

    patient = resources[("Patient", str(world.citizen.pk))]
    assert patient["identifier"] == [
        {"system": "urn:oid:1.2.208.176.1.2", "value": cpr.decrypt(world.citizen.cpr_ciphertext).digits}
    ]
    finished = resources[("EpisodeOfCare", str(exported["finished"].pk))]
    assert finished["status"] == "finished"
    assert finished["period"] == {"start": "2026-03-02", "end": "2026-03-30"}
    running = resources[("EpisodeOfCare", str(exported["running"].pk))]
    assert running["status"] == "active"
    assert running["careManager"]["display"] == world.staff_in_team.user.display_name

    walking = resources[("Goal", str(exported["walking"].pk))]
    assert walking["target"][0]["measure"]["coding"][0] == {
        "system": FSIII_CODE_SYSTEM,
        "code": str(WALKING[0]),
        "display": "Gå",
    }
    assert walking["expressedBy"] == {"reference": f"urn:uuid:{world.citizen.pk}"}
    planned = resources[("Goal", str(exported["planned_goal"].pk))]
    assert planned["achievementStatus"]["coding"][0]["code"] == "improving"
    assert "reference" not in planned["expressedBy"]

    observations = [resource for key, resource in resources.items() if key[0] == "Observation"]
    follow_up = next(o for o in observations if o["effectiveDateTime"] == "2026-03-28")
    assert follow_up["focus"] == [{"reference": f"urn:uuid:{exported['walking'].pk}"}]
    assert [component.get("valueInteger") for component in follow_up["component"]] == [1, 1]
    copm = next(o for o in observations if o["effectiveDateTime"] == "2026-03-29")
    assert [component["valueInteger"] for component in copm["component"]] == [7, 8]

    plans = [resource for key, resource in resources.items() if key[0] == "CarePlan"]
    running_plan = next(
        plan for plan in plans if plan["supportingInfo"][0]["reference"] == f"urn:uuid:{exported['running'].pk}"
    )
    assert running_plan["activity"][0]["detail"]["goal"] == [{"reference": f"urn:uuid:{exported['planned_goal'].pk}"}]
    # Every reference points into the bundle.
    for resource in resources.values():
        for reference in _references(resource):
            assert reference in urls


def _references(value):
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "reference" and isinstance(item, str):
                yield item
            else:
                yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def test_the_export_is_logged_as_an_export_for_the_citizen(world, exported):
    bundle(world, world.citizen.pk)
    row = AccessLogEntry.objects.filter(citizen=world.citizen).first()
    assert row is not None
    assert (row.resource_type, row.action, row.actor_id) == ("fhir_export", "export", world.staff_in_team.user.pk)


def test_staff_without_care_get_404_and_nothing_is_logged(world, exported):
    response = world.client("staff_out_of_team").get(f"/api/v1/citizens/{world.citizen.pk}/fhir")
    assert response.status_code == 404
    assert not AccessLogEntry.objects.filter(citizen=world.citizen, resource_type="fhir_export").exists()


def test_the_export_costs_the_same_queries_with_more_episodes(world, exported, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = world.client("staff_in_team")
    with CaptureQueriesContext(connection) as small:
        client.get(f"/api/v1/citizens/{world.citizen.pk}/fhir")
    for _ in range(4):
        goal(completed_episode(world.team, citizen=world.citizen), gas=0, level=2)
    with django_assert_max_num_queries(len(small)):
        assert client.get(f"/api/v1/citizens/{world.citizen.pk}/fhir").status_code == 200


def test_indicator_values_go_out_as_a_valid_measure_report(world):
    from fhir.resources.R4B.measurereport import MeasureReport

    from tests.effekt.population import PERIOD, three_teams

    three_teams(world)
    query = {**PERIOD, "breakdown": "team"}
    analyst = world.client("analyst")

    response = analyst.get("/api/v1/indicators/goal_attainment/measure-report", query)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    report = response.json()
    MeasureReport.model_validate(report)
    assert (report["status"], report["type"], report["period"]) == (
        "complete",
        "summary",
        {"start": "2026-01-01", "end": "2026-12-31"},
    )
    values = analyst.get("/api/v1/indicators/goal_attainment", query).json()
    share = next(group for group in report["group"] if group["code"]["text"] == "share_goals_at_expected")
    assert share["population"][0]["count"] == 15
    assert share["measureScore"]["value"] == values["total"]["values"]["share_goals_at_expected"]
    strata = {stratum["value"]["text"]: stratum for stratum in share["stratifier"][0]["stratum"]}
    assert strata["Rehabilitering Vest"]["population"][0]["count"] == 7
    assert strata["Rehabilitering Vest"]["measureScore"]["value"] == 1.0
    for hidden in ("Rehabilitering Nord", "Rehabilitering Syd"):
        assert "count" not in strata[hidden]["population"][0]
        assert "measureScore" not in strata[hidden]


def test_a_distribution_goes_out_as_one_group_stratified_by_result(world):
    from fhir.resources.R4B.measurereport import MeasureReport

    from tests.effekt.population import PERIOD

    for code, count in (("E1", 6), ("E2", 5), ("E3", 1)):
        for _ in range(count):
            completed_episode(world.team, result=code)
    report = world.client("analyst").get("/api/v1/indicators/follow_up_results/measure-report", PERIOD).json()
    MeasureReport.model_validate(report)
    (group,) = report["group"]
    assert group["population"][0]["count"] == 12
    strata = {stratum["value"]["text"]: stratum for stratum in group["stratifier"][0]["stratum"]}
    assert strata["Målet er nået"]["population"][0]["count"] == 6
    assert strata["Målet er nået"]["measureScore"]["value"] == 0.5
    assert "count" not in strata["Målet er ikke nået"]["population"][0]
