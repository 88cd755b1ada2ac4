"""Effekt month by month: the staff pages choose a year, a quarter or a month, and show each headline
indicator's year against the year before as a line per year with its table, a quiet month shown as hidden
(never as 0) and said why; aggregates only, each year's months logged as one aggregate read of the page."""

from datetime import date

import pytest

from backend.models import AccessLogEntry
from effekt.models import AggregateRead
from selvbetjening.models import Episode
from staffweb import charts
from tests.effekt.population import completed_episode, goal
from tests.effekt.test_pages import LAST_YEAR, THIS_YEAR, care_worker, team_lead
from tests.staffweb.helpers import web_client

pytestmark = pytest.mark.django_db

HIDDEN = "Skjult (under 5 borgere eller kan regnes ud)"


def _finished(team, year, month, count, *, gas):
    for _ in range(count):
        episode = completed_episode(
            team, start=date(year, month, 1), planned_end=date(year, month, 20), ended_on=date(year, month, 20)
        )
        goal(episode, gas=gas, level=2, baseline_level=3, rated_on=date(year, month, 19))


def months_population(world):
    """Syd this year: March 6 citizens at their goal (GAS +1), May 2 (a quiet month), June 7 below it (GAS −1);
    last year: March 5 at their goal (GAS 0), June 6 below it."""
    _finished(world.team, THIS_YEAR, 3, 6, gas=1)
    _finished(world.team, THIS_YEAR, 5, 2, gas=0)
    _finished(world.team, THIS_YEAR, 6, 7, gas=-1)
    _finished(world.team, LAST_YEAR, 3, 5, gas=0)
    _finished(world.team, LAST_YEAR, 6, 6, gas=-1)


def _section(body: str, key: str) -> str:
    return body.split(f'id="{key}-months-heading"')[1].split("</section>")[0]


def test_the_team_leader_sees_the_year_month_by_month_against_last_with_a_quiet_month_hidden(world):
    months_population(world)
    lead = team_lead(world)
    response = web_client(lead.user).get("/staff/effekt/")
    assert response.status_code == 200
    months = response.context["headline"][0]["months"]
    assert (months.title, months.last_year, months.this_year) == ("Målopfyldelse", LAST_YEAR, THIS_YEAR)
    assert [row.name for row in months.rows][:3] == ["Januar", "Februar", "Marts"]
    march, may, june = months.rows[2], months.rows[4], months.rows[5]
    assert (march.last.citizens, march.last.value, march.this.citizens, march.this.value) == (
        "5",
        "100 %",
        "6",
        "100 %",
    )
    assert (june.last.citizens, june.last.value) == ("6", "0 %")  # a real 0 %, beside the hidden month
    assert may.this.suppressed and may.this.citizens == "" and may.this.value == ""
    assert (months.total.last.citizens, months.total.this.citizens) == ("11", "15")

    section = _section(response.content.decode(), "goal_attainment")
    may_row = section.split('<th scope="row">Maj</th>')[1].split("</tr>")[0]
    assert HIDDEN in may_row
    # Last year's May had no one (0, no share); this year's 2 are hidden, neither 2 nor 0.
    last_may, this_may = may_row.split("</td>", 2)[:2], may_row.split("</td>", 2)[2]
    assert [cell.strip() for cell in last_may] == ["<td>0", "<td>–"]
    assert this_may.strip() == f'<td colspan="2" class="effekt-suppressed">{HIDDEN}</td>'
    assert "Skjult er ikke det samme som 0" in section
    # The chart: this year's line is broken at May and "skjult" stands over it; the years differ by line and marker.
    chart = section.split("</svg>")[0]
    assert "<title" in chart and "<desc" in chart and "skjult" in chart
    last, this = months.chart.series
    assert (last.pattern, last.marker, this.pattern, this.marker) == ("dashed", "square", "solid", "circle")
    assert "maj" in [gap.label for gap in this.gaps]
    assert "maj" not in [point.label for point in this.points]
    legend = section.split("<figcaption>")[1].split("</figcaption>")[0]
    assert "stiplet linje, firkanter" in legend and "fuld linje, cirkler" in legend
    # No citizen's name reaches the page.
    for episode in Episode.objects.filter(team=world.team).select_related("citizen"):
        assert episode.citizen.full_name not in response.content.decode()


def test_choosing_a_month_compares_it_with_the_same_month_last_year_and_marks_it_in_the_series(world):
    months_population(world)
    lead = team_lead(world)
    before = AggregateRead.objects.count()
    response = web_client(lead.user).get(
        "/staff/effekt/indikatorer/goal_attainment/",
        {"year": THIS_YEAR, "period": "M03", "area": f"team:{world.team.pk}"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    comparison = response.context["comparison"]
    team = comparison.rows[0]
    assert (team.name, team.last.citizens, team.this.citizens) == ("Rehabilitering Syd", "5", "6")
    assert f'<th scope="colgroup" colspan="5">marts {THIS_YEAR}</th>' in body
    assert f"Marts {THIS_YEAR} sammenlignet med marts {LAST_YEAR}" in body
    assert '<option value="M03" selected>Marts</option>' in body
    assert '<th scope="row">Marts (valgt)</th>' in _section(body, "indicator")
    # The month and the same month a year earlier, then the two years month by month: all logged as page reads.
    reads = list(
        AggregateRead.objects.order_by("id")[before:].values_list("surface", "period_start", "period_end", "filters")
    )
    team_filter = {"team": str(world.team.pk)}
    assert reads == [
        ("page", date(THIS_YEAR, 3, 1), date(THIS_YEAR, 3, 31), team_filter),
        ("page", date(LAST_YEAR, 3, 1), date(LAST_YEAR, 3, 31), team_filter),
        ("page", date(LAST_YEAR, 1, 1), date(LAST_YEAR, 12, 31), team_filter),
        ("page", date(THIS_YEAR, 1, 1), date(THIS_YEAR, 12, 31), team_filter),
    ]


def test_a_quarter_marks_its_three_months(world):
    months_population(world)
    response = web_client(team_lead(world).user).get("/staff/effekt/", {"year": THIS_YEAR, "period": "Q2"})
    assert response.status_code == 200
    months = response.context["headline"][0]["months"]
    assert [row.name for row in months.rows if row.is_chosen] == ["April", "Maj", "Juni"]
    assert f"2. kvartal {THIS_YEAR} sammenlignet med 2. kvartal {LAST_YEAR}" in response.content.decode()


@pytest.mark.parametrize("period", ["M13", "Q5", "month", "M3"])
def test_a_period_outside_the_choices_is_refused_and_nothing_is_read(world, period):
    response = web_client(team_lead(world).user).get("/staff/effekt/", {"year": THIS_YEAR, "period": period})
    assert response.status_code == 422
    assert "Der er fejl i formularen" in response.content.decode()
    assert not AggregateRead.objects.exists()


def test_the_analyst_sees_months_of_aggregates_and_nothing_of_a_citizen(world):
    months_population(world)
    client = web_client(world.analyst.user)
    pages = [
        client.get("/staff/effekt/", {"year": THIS_YEAR, "period": "M05"}),
        client.get("/staff/effekt/indikatorer/function_change/", {"year": THIS_YEAR, "period": "M03"}),
        client.get("/staff/effekt/indikatorer/follow_up_results/", {"year": THIS_YEAR}),
    ]
    assert [page.status_code for page in pages] == [200, 200, 200]
    # An analyst's first view is the municipality: its months, hidden where quiet, like the team's.
    months = pages[0].context["headline"][0]["months"]
    assert months.rows[2].this.citizens == "6" and months.rows[4].this.suppressed
    # Without a measure (E1–E4 counts citizens), the number of citizens is drawn and is the only column.
    results = pages[2].context["months"]
    assert results.measure is None and results.chart_title.endswith("Antal borgere")
    assert not AccessLogEntry.objects.exists()  # no citizen's data was read
    citizens = {episode.citizen for episode in Episode.objects.filter(team=world.team).select_related("citizen")}
    for page in pages:
        body = page.content.decode()
        assert "/staff/borgere/" not in body
        for citizen in citizens:
            assert citizen.full_name not in body and str(citizen.pk) not in body
    assert set(AggregateRead.objects.values_list("actor_role", flat=True)) == {"analyst"}


def test_staff_without_a_leader_or_analyst_role_get_404_and_nothing_is_read(world):
    worker = care_worker(world)
    for user in (worker.user, world.staff_in_team.user, world.it_staff.user):
        client = web_client(user)
        for path in ("/staff/effekt/", "/staff/effekt/indikatorer/goal_attainment/"):
            response = client.get(path, {"year": THIS_YEAR, "period": "M03"})
            assert response.status_code == 404, (user.username, path)
    assert not AggregateRead.objects.exists()


def test_a_line_is_broken_where_a_month_is_hidden_or_empty_and_never_drawn_at_0():
    chart = charts.compared_lines(
        ["jan", "feb", "mar", "apr", "maj", "jun"],
        [
            charts.LineSpec("last", "2025", "dashed", "square", [0.5, 0.6, True, 0.7, 0.8, None]),
            charts.LineSpec("this", "2026", "solid", "circle", [None, 1.0, 0.0, True, True, 0.25]),
        ],
        percent=True,
    )
    last, this = chart.series
    assert [point.value for point in last.points] == [50, 60, 70, 80]
    assert len(last.polylines) == 2 and [gap.label for gap in last.gaps] == ["mar"]
    assert [point.value for point in this.points] == [100, 0, 25]  # a real 0 is a point
    assert len(this.polylines) == 1 and [gap.label for gap in this.gaps] == ["apr", "maj"]
    # The two lines' marks stand in rows of their own, and on the month they belong to.
    assert last.gaps[0].y != this.gaps[0].y
    assert last.gaps[0].x == chart.x_ticks[2].position
    assert [tick.label for tick in chart.y_ticks] == ["0 %", "25 %", "50 %", "75 %", "100 %"]
