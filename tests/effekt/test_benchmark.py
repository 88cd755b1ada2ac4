"""The cross-municipality benchmark: a municipality opts in; the same indicator is compared across those
that did, at municipality level, suppressed as in each one's own table; no team or unit of any
municipality is shown, and a municipality that has not opted in never appears."""

import pytest

from backend.models import StaffRole
from effekt.models import AggregateRead, BenchmarkParticipation
from tests import factories as core
from tests.conftest import ApiClient, access_token_for
from tests.effekt.population import PERIOD, completed_episode, goal, team_lead_token

pytestmark = pytest.mark.django_db


def municipality_with(name, *, goals_at):
    """A municipality with one unit and two teams, one goal per citizen at each GAS score given, split over
    the teams, and its analyst's API client."""
    municipality = core.MunicipalityFactory(name=name)
    unit = core.OrganisationUnitFactory(municipality=municipality, name=f"{name} Sundhed")
    teams = [core.TeamFactory(unit=unit, name=f"{name} Team {index}") for index in (1, 2)]
    for index, gas in enumerate(goals_at):
        goal(completed_episode(teams[index % 2]), gas=gas)
    analyst = core.StaffFactory(municipality=municipality)
    core.MembershipFactory(staff=analyst, team=teams[0], role=StaffRole.ANALYST)
    return municipality, teams, ApiClient(access_token_for(analyst.user, "staff"))


def join(client):
    response = client.put("/api/v1/indicators/benchmark/participation")
    assert response.status_code == 200, response.content
    return response.json()


def test_opted_in_municipalities_are_compared_at_municipality_level_only(world):
    for _ in range(6):
        goal(completed_episode(world.team), gas=0)
    aarhus, aarhus_teams, aarhus_client = municipality_with("Aarhus", goals_at=[1] * 8 + [-1] * 2)
    vejle, _, vejle_client = municipality_with("Vejle", goals_at=[0] * 3)  # 3 citizens: suppressed
    ours = world.client("analyst")
    assert join(ours)["participating"] is True
    join(aarhus_client)
    assert join(vejle_client)["municipalities"] == 3

    body = ours.get("/api/v1/indicators/goal_attainment/benchmark", PERIOD).json()
    assert [(item["name"], item["own"]) for item in body["municipalities"]] == [
        ("Odense", True),
        ("Aarhus", False),
        ("Vejle", False),
    ]
    odense, aarhus_cell, vejle_cell = (item["total"] for item in body["municipalities"])
    assert (odense["citizens"], odense["values"]["share_goals_at_expected"]) == (6, 1.0)
    assert (aarhus_cell["citizens"], aarhus_cell["values"]["share_goals_at_expected"]) == (10, 0.8)
    assert vejle_cell["suppressed"] is True and vejle_cell["citizens"] is None and vejle_cell["values"] is None
    # Municipality level only: no team or unit of any municipality, not even in the cells' groups.
    text = str(body)
    for team in aarhus_teams:
        assert team.name not in text and str(team.pk) not in text
    assert "Aarhus Sundhed" not in text and world.team.name not in text
    assert all(item["total"]["level"] == "municipality" for item in body["municipalities"])
    # Each municipality's figure is its own table's: what Aarhus's analyst sees for Aarhus.
    own_view = aarhus_client.get("/api/v1/indicators/goal_attainment", PERIOD).json()["total"]
    assert own_view["citizens"] == aarhus_cell["citizens"] and own_view["values"] == aarhus_cell["values"]


def test_a_municipality_that_has_not_opted_in_never_appears_and_sees_nothing(world):
    for _ in range(6):
        goal(completed_episode(world.team), gas=0)
    silkeborg, silkeborg_teams, silkeborg_client = municipality_with("Silkeborg", goals_at=[1] * 9)
    ours = world.client("analyst")
    join(ours)

    body = ours.get("/api/v1/indicators/goal_attainment/benchmark", PERIOD).json()
    assert [item["name"] for item in body["municipalities"]] == ["Odense"]
    assert "Silkeborg" not in str(body) and str(silkeborg.pk) not in str(body)

    refused = silkeborg_client.get("/api/v1/indicators/goal_attainment/benchmark", PERIOD)
    assert refused.status_code == 409
    assert refused.json()["code"] == "benchmark_not_joined"
    assert refused.json()["title"].startswith("Kommunen er ikke med")
    assert not AggregateRead.objects.filter(surface="benchmark", municipality=silkeborg).exists()

    # Leaving takes a municipality out at once.
    join(silkeborg_client)
    assert "Silkeborg" in str(ours.get("/api/v1/indicators/goal_attainment/benchmark", PERIOD).json())
    assert silkeborg_client.delete("/api/v1/indicators/benchmark/participation").status_code == 204
    assert "Silkeborg" not in str(ours.get("/api/v1/indicators/goal_attainment/benchmark", PERIOD).json())
    assert silkeborg_client.get("/api/v1/indicators/benchmark/participation").json()["participating"] is False
    assert not BenchmarkParticipation.objects.filter(municipality=silkeborg).exists()


def test_team_leads_read_the_benchmark_but_only_analysts_opt_in(world):
    lead = ApiClient(team_lead_token(world.team))
    assert lead.put("/api/v1/indicators/benchmark/participation").status_code == 403
    assert not BenchmarkParticipation.objects.exists()
    join(world.client("analyst"))
    assert lead.get("/api/v1/indicators/goal_attainment/benchmark", PERIOD).status_code == 200
    read = AggregateRead.objects.get(surface="benchmark")
    assert (read.actor_role, read.indicator_key) == ("team_lead", "goal_attainment")


def test_the_benchmark_takes_no_team_or_unit_filter(world):
    join(world.client("analyst"))
    response = world.client("analyst").get(
        "/api/v1/indicators/goal_attainment/benchmark", {**PERIOD, "team": str(world.team.pk)}
    )
    # The benchmark's query has no team or unit: the filter is not part of it and changes nothing.
    assert response.status_code == 200
    assert response.json()["filters"] == {}
    assert world.client("analyst").get("/api/v1/indicators/nope/benchmark", PERIOD).status_code == 404


def test_opting_in_through_the_admin(world, admin_client):
    response = admin_client.post(
        "/admin/effekt/benchmarkparticipation/add/", {"municipality": str(world.municipality.pk)}
    )
    assert response.status_code == 302
    participation = BenchmarkParticipation.objects.get()
    assert participation.municipality == world.municipality
    assert participation.joined_by.is_superuser
