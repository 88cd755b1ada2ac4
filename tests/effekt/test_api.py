"""The indicator API: who may read it, what it refuses, and that it returns and logs no person."""

import pytest

from backend.models import AccessLogEntry, StaffRole
from tests import factories as core
from tests.conftest import ApiClient, access_token_for
from tests.effekt.population import PERIOD, completed_episode, goal, team_lead_token

pytestmark = pytest.mark.django_db


def test_the_catalogue_lists_every_standard_indicator(world):
    response = world.client("analyst").get("/api/v1/indicators", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    body = response.json()
    assert body["minimum_citizens"] == 5
    assert [indicator["key"] for indicator in body["indicators"]] == [
        "goal_attainment",
        "function_change",
        "follow_up_results",
        "episode_length",
        "referral_to_start",
        "adherence",
        "pain_and_effort",
        "questionnaire_change",
        "request_response",
        "device_effect",
    ]
    assert body["indicators"][0]["title"] == "Goal attainment"


def test_a_team_lead_reads_indicators_and_an_it_or_care_role_does_not(world):
    for _ in range(5):
        goal(completed_episode(world.team), gas=0)
    lead = ApiClient(team_lead_token(world.team))
    assert lead.get("/api/v1/indicators/goal_attainment", PERIOD).json()["total"]["citizens"] == 5
    for role in ("it", "staff_in_team", "citizen", "relative_with_consent"):
        assert world.client(role).get("/api/v1/indicators/goal_attainment", PERIOD).status_code == 403


def test_analyst_of_another_municipality_sees_nothing_of_ours(world):
    for _ in range(6):
        goal(completed_episode(world.team), gas=1)
    elsewhere_team = core.TeamFactory()
    analyst = core.StaffFactory(municipality=elsewhere_team.unit.municipality)
    core.MembershipFactory(staff=analyst, team=elsewhere_team, role=StaffRole.ANALYST)
    client = ApiClient(access_token_for(analyst.user, "staff"))

    total = client.get("/api/v1/indicators/goal_attainment", PERIOD).json()["total"]
    assert total["name"] == elsewhere_team.unit.municipality.name
    assert total["citizens"] == 0
    ours = client.get("/api/v1/indicators/goal_attainment", {**PERIOD, "team": str(world.team.pk)})
    assert ours.status_code == 404
    assert (
        client.get("/api/v1/indicators/goal_attainment", {**PERIOD, "unit": str(world.team.unit_id)}).status_code == 404
    )


def test_indicator_reads_write_no_access_log_rows_and_name_no_citizen(world):
    citizens = []
    for _ in range(6):
        episode = completed_episode(world.team)
        goal(episode, gas=0)
        citizens.append(episode.citizen)
    before = AccessLogEntry.objects.count()

    response = world.client("analyst").get("/api/v1/indicators/goal_attainment", {**PERIOD, "breakdown": "team"})

    assert response.status_code == 200
    assert AccessLogEntry.objects.count() == before
    text = response.content.decode()
    for citizen in citizens:
        assert str(citizen.pk) not in text
        assert citizen.family_name not in text


def test_a_unit_with_a_team_breakdown_lists_that_units_teams(world):
    other_unit_team = core.TeamFactory(unit=core.OrganisationUnitFactory(municipality=world.municipality))
    body = (
        world.client("analyst")
        .get("/api/v1/indicators/episode_length", {**PERIOD, "unit": str(world.team.unit_id), "breakdown": "team"})
        .json()
    )
    assert body["total"]["level"] == "unit"
    names = {cell["name"] for cell in body["cells"]}
    assert names == {"Rehabilitering Syd", "Rehabilitering Nord", "Velfærdsteknologi"}
    assert other_unit_team.name not in names
    units = world.client("analyst").get("/api/v1/indicators/episode_length", {**PERIOD, "breakdown": "unit"}).json()
    assert len(units["cells"]) == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-06-01", "to": "2026-01-01"}, "from"),
        ({"from": "2026-01-01", "to": "2026-06-30"}, "from"),
        ({"from": "2025-01-01", "to": "2026-12-31"}, "from"),
        ({"from": "2026-02-01", "to": "2026-04-30"}, "from"),
        ({"from": "2026-01-01"}, "from"),
        ({"breakdown": "citizen"}, "breakdown"),
        ({"age_band": "90-99"}, "age_band"),
        ({"team": "not-a-uuid"}, "team"),
    ],
)
def test_bad_queries_are_422_naming_the_field(world, query, field):
    response = world.client("analyst").get("/api/v1/indicators/goal_attainment", query)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == field


def test_without_a_period_the_last_complete_year_is_given(world):
    from backend.timeutil import municipal_today

    body = world.client("analyst").get("/api/v1/indicators/goal_attainment").json()
    year = municipal_today().year - 1
    assert body["period"] == {"start": f"{year}-01-01", "end": f"{year}-12-31", "key": "year"}


def test_an_unknown_indicator_is_404(world):
    assert world.client("analyst").get("/api/v1/indicators/happiness", PERIOD).status_code == 404
