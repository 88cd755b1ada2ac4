"""Theories of change: written by analysts and team leads, each outcome measured by a standard indicator."""

from typing import Any

import pytest

from backend.models import StaffRole
from effekt.models import TheoryOfChange
from tests import factories as core
from tests.conftest import ApiClient, access_token_for
from tests.effekt.population import PERIOD, completed_episode, goal, team_lead_token

pytestmark = pytest.mark.django_db

THEORY: dict[str, Any] = {
    "title": "Hverdagsrehabilitering med faldalarm",
    "intervention": "Borgere over 65 med faldrisiko får hverdagsrehabilitering og en faldalarm.",
    "activities": "Træning tre gange om ugen; installation af faldalarm.",
    "outputs": "Træningssessioner, installerede alarmer.",
    "assumptions": "Borgeren bærer alarmen.",
    "outcomes": [
        {
            "term": "short",
            "description": "Flere mål nås",
            "indicator_key": "goal_attainment",
            "measure_key": "share_goals_at_expected",
            "target": "0.75",
        },
        {"term": "long", "description": "Borgere med et afsluttet forløb", "indicator_key": "goal_attainment"},
        {
            "term": "long",
            "description": "Kortere forløb",
            "indicator_key": "episode_length",
            "measure_key": "mean_actual_days",
        },
    ],
}


def test_a_theory_of_change_shows_each_outcomes_figure_for_the_municipality(world):
    for gas in (0, 1, -1, 0, 2, 1):
        goal(completed_episode(world.team), gas=gas)
    analyst = world.client("analyst")

    created = analyst.post("/api/v1/theories-of-change", THEORY)
    assert created.status_code == 201, created.content
    detail = analyst.get(f"/api/v1/theories-of-change/{created.json()['id']}", PERIOD).json()

    short, count, length = detail["outcomes"]
    assert (short["value"], short["citizens"], short["target"], short["suppressed"]) == (0.83, 6, 0.75, False)
    assert count["value"] == 6.0
    assert length["value"] == 28.0
    listed = analyst.get("/api/v1/theories-of-change").json()["items"]
    assert [item["title"] for item in listed] == [THEORY["title"]]


def test_an_outcome_figure_under_5_citizens_is_suppressed(world):
    for _ in range(3):
        goal(completed_episode(world.team), gas=1)
    analyst = world.client("analyst")
    theory_id = analyst.post("/api/v1/theories-of-change", THEORY).json()["id"]
    outcome = analyst.get(f"/api/v1/theories-of-change/{theory_id}", PERIOD).json()["outcomes"][0]
    assert (outcome["suppressed"], outcome["value"], outcome["citizens"]) == (True, None, None)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"indicator_key": "happiness"}, "outcomes.0.indicator_key"),
        ({"measure_key": "mean_days"}, "outcomes.0.measure_key"),
    ],
)
def test_an_outcome_must_name_a_standard_indicator_and_one_of_its_measures(world, change, field):
    body = {**THEORY, "outcomes": [{**THEORY["outcomes"][0], **change}]}
    response = world.client("analyst").post("/api/v1/theories-of-change", body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    assert not TheoryOfChange.objects.exists()


def test_a_team_lead_writes_one_and_another_municipality_does_not_see_it(world):
    lead = ApiClient(team_lead_token(world.team))
    theory_id = lead.post("/api/v1/theories-of-change", THEORY).json()["id"]
    assert world.client("analyst").get(f"/api/v1/theories-of-change/{theory_id}").status_code == 200

    elsewhere_team = core.TeamFactory()
    stranger = core.StaffFactory(municipality=elsewhere_team.unit.municipality)
    core.MembershipFactory(staff=stranger, team=elsewhere_team, role=StaffRole.ANALYST)
    client = ApiClient(access_token_for(stranger.user, "staff"))
    assert client.get(f"/api/v1/theories-of-change/{theory_id}").status_code == 404
    assert client.get("/api/v1/theories-of-change").json()["items"] == []
