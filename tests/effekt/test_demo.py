"""The demo's analyst sees indicators with figures in them, and a suppressed cell; the demo's team leader
sees this year against last with figures in both."""

import pytest
from django.core.management import call_command

from backend.models import AppSession, User
from backend.timeutil import municipal_today
from effekt.indicators.definitions import INDICATORS
from effekt.models import TheoryOfChange
from selvbetjening.models import Episode
from tests.conftest import ApiClient, access_token_for
from tests.staffweb.helpers import web_client


@pytest.mark.django_db
def test_the_demo_analyst_sees_meaningful_indicators_and_a_suppressed_cell():
    call_command("seed_demo")
    call_command("seed_effekt_demo")
    count = Episode.objects.filter(status="completed").count()
    assert count == 28 + 22
    analyst = ApiClient(access_token_for(User.objects.get(username="analytiker"), AppSession.Audience.STAFF))

    shown = suppressed = 0
    for key in (indicator.key for indicator in INDICATORS):
        body = analyst.get(f"/api/v1/indicators/{key}", {"breakdown": "team"}).json()
        assert body["total"]["suppressed"] is False, key
        assert body["total"]["citizens"] >= 10, key
        for cell in [body["total"], *body["cells"]]:
            for item in [cell, *cell["groups"]]:
                if item["citizens"]:
                    shown += 1
                suppressed += item["suppressed"]
    assert shown > 3 * suppressed > 0

    results = analyst.get("/api/v1/indicators/follow_up_results", {"breakdown": "team"}).json()
    nord = next(cell for cell in results["cells"] if cell["name"] == "Hjemmepleje Nord")
    assert nord["citizens"] == 12
    by_code = {group["key"]: group for group in nord["groups"]}
    assert (by_code["E1"]["suppressed"], by_code["E1"]["citizens"]) == (False, 6)
    assert by_code["E4"]["suppressed"] and by_code["E2"]["suppressed"]
    assert results["total"]["values"] == {}

    call_command("seed_effekt_demo")
    assert Episode.objects.filter(status="completed").count() == count


@pytest.mark.django_db
def test_the_demo_team_leader_sees_this_year_against_last_with_figures():
    call_command("seed_demo")
    call_command("seed_effekt_demo")
    this_year = municipal_today().year
    assert Episode.objects.filter(status="completed", ended_on__year=this_year).count() == 22
    assert not Episode.objects.filter(ended_on__gt=municipal_today()).exists()

    response = web_client(User.objects.get(username="teamleder")).get("/staff/effekt/")
    assert response.status_code == 200
    attainment, function = (item["comparison"] for item in response.context["headline"])
    team = attainment.rows[0]
    assert team.name == "Hverdagsrehabilitering Syd"
    assert (team.last.citizens, team.this.citizens) == ("16", "13")
    assert not any(figures.suppressed or figures.missing for row in attainment.rows for figures in row.columns)
    assert [row.name for row in function.rows] == ["Gå", "Lave mad"]
    assert not any(figures.suppressed or figures.missing for row in function.rows for figures in row.columns)
    assert "Ingen" not in response.content.decode()

    # This year's small cells are suppressed as last year's are: Syd's two E3 results, and what would give them.
    analyst = ApiClient(access_token_for(User.objects.get(username="analytiker"), AppSession.Audience.STAFF))
    period = {"from": f"{this_year}-01-01", "to": f"{this_year}-12-31", "breakdown": "team"}
    results = analyst.get("/api/v1/indicators/follow_up_results", period).json()
    syd = next(cell for cell in results["cells"] if cell["name"] == "Hverdagsrehabilitering Syd")
    by_code = {group["key"]: group for group in syd["groups"]}
    assert syd["citizens"] == 13
    assert by_code["E3"]["suppressed"] and by_code["E3"]["citizens"] is None
    assert sum(group["suppressed"] for group in syd["groups"]) >= 2

    call_command("seed_effekt_demo")
    assert Episode.objects.filter(status="completed").count() == 50


@pytest.mark.django_db
def test_the_demo_team_leader_sees_the_theory_of_change_beside_the_figures():
    call_command("seed_demo")
    call_command("seed_effekt_demo")
    call_command("seed_effekt_demo")
    assert TheoryOfChange.objects.count() == 1

    page = web_client(User.objects.get(username="teamleder")).get("/staff/effekt/").content.decode()
    assert "Hverdagsrehabilitering i Syd" in page
    assert "Borgerne når deres mål" in page
