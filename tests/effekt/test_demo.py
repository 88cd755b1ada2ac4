"""The demo's analyst sees indicators with figures in them, and a suppressed cell; the demo's team leader
sees this year against last with figures in both, month by month with a quiet month hidden; the goals are
set for conditions on the demo's FSIII code list."""

import pytest
from django.core.management import call_command
from django.db import connection

from backend import sql
from backend.models import AppSession, User
from backend.timeutil import municipal_today
from effekt.indicators.definitions import INDICATORS
from effekt.management.commands.seed_effekt_demo import LAST_YEAR, THIS_YEAR, _finished
from effekt.models import TheoryOfChange
from selvbetjening.models import Condition, Episode, Goal, GoalRating, SessionLog
from tests.conftest import ApiClient, access_token_for
from tests.staffweb.helpers import web_client


def _so_far(team: str) -> int:
    """How many of ``team``'s demo episodes of this year have ended by today."""
    today = municipal_today()
    per_month, rare = next((months, rare) for name, months, rare in THIS_YEAR if name == team)
    return len(_finished(today.year, per_month, rare, today, first=0))


LAST_YEAR_SYD, LAST_YEAR_NORD = (sum(months) for _, months, _ in LAST_YEAR)


@pytest.mark.django_db
def test_the_demo_analyst_sees_meaningful_indicators_and_a_suppressed_cell():
    call_command("seed_demo")
    call_command("seed_effekt_demo")
    count = Episode.objects.filter(status="completed").count()
    this_year = _so_far("Hverdagsrehabilitering Syd") + _so_far("Hjemmepleje Nord")
    assert (LAST_YEAR_SYD, LAST_YEAR_NORD) == (70, 63)
    assert count == 70 + 63 + this_year
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
    assert nord["citizens"] == 63
    by_code = {group["key"]: group for group in nord["groups"]}
    # One E4 result: hidden, and one of the others with it, so it cannot be worked out from the total.
    assert by_code["E4"]["suppressed"] and by_code["E4"]["citizens"] is None
    assert sum(group["suppressed"] for group in nord["groups"]) == 2
    shown = [group for group in nord["groups"] if not group["suppressed"]]
    assert sorted(group["citizens"] for group in shown) == [0, 31]  # E3 (Syd's) and E1 or E2
    assert results["total"]["values"] == {}

    call_command("seed_effekt_demo")
    assert Episode.objects.filter(status="completed").count() == count


@pytest.mark.django_db
def test_the_demo_team_leader_sees_this_year_against_last_with_figures():
    call_command("seed_demo")
    call_command("seed_effekt_demo")
    this_year = municipal_today().year
    syd_so_far = _so_far("Hverdagsrehabilitering Syd")
    assert Episode.objects.filter(status="completed", ended_on__year=this_year).count() == syd_so_far + _so_far(
        "Hjemmepleje Nord"
    )
    assert not Episode.objects.filter(ended_on__gt=municipal_today()).exists()

    response = web_client(User.objects.get(username="teamleder")).get("/staff/effekt/")
    assert response.status_code == 200
    attainment, function = (item["comparison"] for item in response.context["headline"])
    team = attainment.rows[0]
    assert team.name == "Hverdagsrehabilitering Syd"
    assert team.last.citizens == "70"
    assert team.this.citizens == str(syd_so_far) or (syd_so_far < 5 and team.this.suppressed)
    assert not any(figures.suppressed or figures.missing for row in attainment.rows for figures in [row.last])
    assert [row.name for row in function.rows] == ["Gå", "Lave mad"]
    assert not any(figures.suppressed or figures.missing for row in function.rows for figures in [row.last])
    assert "Ingen" not in response.content.decode()
    # Month by month, last year: Syd's quiet April (3) is hidden, with what would give it away; the rest shown.
    months = response.context["headline"][0]["months"]
    last_year = {row.name: row.last for row in months.rows}
    assert last_year["April"].suppressed
    assert (last_year["Marts"].citizens, last_year["Juli"].citizens) == ("7", "8")
    hidden = [name for name, figures in last_year.items() if figures.suppressed]
    assert len(hidden) <= 3, ", ".join(hidden)
    assert months.total.last.citizens == "70"

    # This year's small cells are suppressed as last year's are: Syd's two E3 results, and what would give them.
    analyst = ApiClient(access_token_for(User.objects.get(username="analytiker"), AppSession.Audience.STAFF))
    period = {"from": f"{this_year}-01-01", "to": f"{this_year}-12-31", "breakdown": "team"}
    results = analyst.get("/api/v1/indicators/follow_up_results", period).json()
    syd = next(cell for cell in results["cells"] if cell["name"] == "Hverdagsrehabilitering Syd")
    by_code = {group["key"]: group for group in syd["groups"]}
    assert syd["citizens"] == syd_so_far
    assert by_code["E3"]["suppressed"] and by_code["E3"]["citizens"] is None
    assert sum(group["suppressed"] for group in syd["groups"]) >= 2

    call_command("seed_effekt_demo")
    assert Episode.objects.filter(status="completed").count() == 70 + 63 + syd_so_far + _so_far("Hjemmepleje Nord")


@pytest.mark.django_db
def test_the_demo_goals_are_set_for_conditions_on_the_demo_code_list():
    call_command("seed_demo")
    listed = {condition.code: condition.display for condition in Condition.objects.filter(active=True)}
    goals = Goal.objects.filter(episode__title__startswith="Demo: afsluttet")
    used = set(goals.values_list("condition_code", "condition_display").distinct())
    assert {display for _, display in used} == {"Gå", "Lave mad"}
    assert all(listed.get(code) == display for code, display in used)
    # So the filter of Effekt offers each condition once, by its name on the list.
    response = web_client(User.objects.get(username="analytiker")).get("/staff/effekt/")
    choices = [label for code, label in response.context["form"].fields["condition"].choices if code]
    assert len(choices) == len(set(choices))
    assert {"Gå", "Lave mad"} <= set(choices)


@pytest.mark.django_db
def test_the_demo_team_leader_sees_the_theory_of_change_beside_the_figures():
    call_command("seed_demo")
    call_command("seed_effekt_demo")
    call_command("seed_effekt_demo")
    assert TheoryOfChange.objects.count() == 1

    page = web_client(User.objects.get(username="teamleder")).get("/staff/effekt/").content.decode()
    assert "Hverdagsrehabilitering i Syd" in page
    assert "Borgerne når deres mål" in page


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner statistics")
@pytest.mark.django_db
def test_history_written_in_bulk_is_planned_for_the_rows_it_wrote_not_for_empty_tables():
    """The history goes in within one transaction, where autovacuum cannot see it: the statistics of the
    tables as they were (empty) planned the indicators' statement as a scan of every rating per goal, minutes
    for the demo's few thousand rows. The writer brings the statistics up to date in its transaction."""
    tables = [sql.table(model) for model in (Episode, Goal, GoalRating, SessionLog)]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(tables))
    call_command("seed_demo")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples FROM pg_class WHERE oid = ANY(%s::regclass[])",
            [[table.strip('"') for table in tables]],
        )
        planned = dict(cursor.fetchall())
    written = {model._meta.db_table: model.objects.count() for model in (Episode, Goal, GoalRating, SessionLog)}
    assert all(count > 100 for count in written.values()), written
    assert planned == pytest.approx({table: float(count) for table, count in written.items()}, rel=0.05)
