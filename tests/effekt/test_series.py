"""Months and series: a month is read like a year or a quarter, and a series of months is suppressed
together with its year and quarters, so no hidden month is the year, or a quarter, less the months shown."""

from datetime import date

import pytest

from effekt.models import AggregateRead
from effekt.periods import month_periods, period_for
from tests.conftest import ApiClient
from tests.effekt.population import completed_episode, goal, team_lead_token

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 7)


def test_a_month_is_a_period_and_a_part_of_a_month_is_not():
    assert period_for(date(2026, 3, 1), date(2026, 3, 31), today=TODAY).key == "M03"
    assert period_for(date(2028, 2, 1), date(2028, 2, 29), today=TODAY).key == "M02"
    assert period_for(date(2026, 4, 1), date(2026, 6, 30), today=TODAY).key == "Q2"
    assert period_for(date(2026, 1, 1), date(2026, 12, 31), today=TODAY).key == "year"
    assert [month.end.day for month in month_periods(2026)][:3] == [31, 28, 31]
    for start, end in ((date(2026, 2, 1), date(2026, 2, 27)), (date(2026, 3, 2), date(2026, 3, 31))):
        with pytest.raises(Exception, match="calendar year, quarter or month"):
            period_for(start, end, today=TODAY)


def _episodes(world, per_month: dict[int, int]) -> None:
    """``count`` citizens with a goal met in an episode ended mid-month, for each month."""
    for month, count in per_month.items():
        for _ in range(count):
            goal(completed_episode(world.team, ended_on=date(2026, month, 15)), gas=0)


def test_a_month_is_read_suppressed_and_logged_like_a_year(world):
    _episodes(world, {3: 6, 5: 2, 6: 7})
    analyst = world.client("analyst")
    before = AggregateRead.objects.count()

    march = analyst.get("/api/v1/indicators/goal_attainment", {"from": "2026-03-01", "to": "2026-03-31"}).json()
    may = analyst.get("/api/v1/indicators/goal_attainment", {"from": "2026-05-01", "to": "2026-05-31"}).json()

    assert march["period"] == {"start": "2026-03-01", "end": "2026-03-31", "key": "M03"}
    assert (march["total"]["suppressed"], march["total"]["citizens"]) == (False, 6)
    assert march["total"]["values"]["share_goals_at_expected"] == 1.0
    assert (may["total"]["suppressed"], may["total"]["citizens"], may["total"]["values"]) == (True, None, None)
    logged = AggregateRead.objects.order_by("id")[before:]
    assert [(row.period_start, row.period_end) for row in logged] == [
        (date(2026, 3, 1), date(2026, 3, 31)),
        (date(2026, 5, 1), date(2026, 5, 31)),
    ]

    wrong = analyst.get("/api/v1/indicators/goal_attainment", {"from": "2026-03-01", "to": "2026-03-30"})
    assert wrong.status_code == 422
    assert "måned" in wrong.content.decode()
    assert AggregateRead.objects.count() == before + 2


def _derivable(known: dict[str, int | None], sums: list[tuple[str, list[str]]]) -> dict[str, int]:
    """What someone holding the published counts learns by subtracting: any sum with one unknown cell
    gives it, and what is learned feeds the next subtraction, until nothing more follows."""
    learned = {key: value for key, value in known.items() if value is not None}
    changed = True
    while changed:
        changed = False
        for parent, children in sums:
            cells = [parent, *children]
            unknown = [cell for cell in cells if cell not in learned]
            if len(unknown) != 1:
                continue
            (cell,) = unknown
            rest = sum(learned[child] for child in children if child != cell)
            learned[cell] = rest if cell == parent else learned[parent] - rest
            changed = True
    return learned


MONTHS = [f"M{month:02d}" for month in range(1, 13)]
QUARTERS = {f"Q{quarter}": MONTHS[3 * quarter - 3 : 3 * quarter] for quarter in range(1, 5)}
SUMS = [("year", MONTHS), ("year", list(QUARTERS)), *QUARTERS.items()]


def test_no_hidden_month_follows_from_the_year_the_quarters_and_the_months_shown(world):
    # Small months next to larger ones, a quarter holding one small month only, and a small month alone
    # in a quarter of larger ones: the year less the other months, a quarter less its months, and the
    # year less the quarters are all tried.
    truth = {1: 6, 2: 5, 3: 2, 5: 7, 7: 3, 8: 6, 11: 1}
    _episodes(world, truth)
    analyst = world.client("analyst")

    series = analyst.get("/api/v1/indicators/goal_attainment/series", {"year": 2026}).json()
    quarters = {
        quarter: analyst.get(
            "/api/v1/indicators/goal_attainment", {"from": str(period[0]), "to": str(period[1])}
        ).json()["total"]
        for quarter, period in (
            ("Q1", (date(2026, 1, 1), date(2026, 3, 31))),
            ("Q2", (date(2026, 4, 1), date(2026, 6, 30))),
            ("Q3", (date(2026, 7, 1), date(2026, 9, 30))),
            ("Q4", (date(2026, 10, 1), date(2026, 12, 31))),
        )
    }

    assert [point["period"]["key"] for point in series["points"]] == MONTHS
    assert (series["total"]["suppressed"], series["total"]["citizens"]) == (False, sum(truth.values()))
    published = {"year": series["total"]["citizens"]}
    published |= {point["period"]["key"]: point["cell"]["citizens"] for point in series["points"]}
    published |= {quarter: cell["citizens"] for quarter, cell in quarters.items()}
    hidden = {key for key, value in published.items() if value is None}
    assert {"M03", "M07", "M11"} <= hidden  # the small months themselves
    for key, value in published.items():
        assert value is None or value == 0 or value >= 5, key

    learned = _derivable(published, SUMS)
    assert not hidden & set(learned), "a hidden cell follows from the others"
    # The hidden months of a quarter shown hold 5 citizens or more together: subtraction learns no fewer.
    actual = {key: truth.get(int(key[1:]), 0) for key in MONTHS}
    for quarter, months in QUARTERS.items():
        if published[quarter] is not None:
            together = sum(actual[month] for month in months if published[month] is None)
            assert together == 0 or together >= 5, quarter


def test_a_team_leads_series_of_years_reads_each_years_own_cell_and_is_logged_once(world):
    for _ in range(5):
        goal(completed_episode(world.team, start=date(2025, 3, 2), ended_on=date(2025, 3, 30)), gas=0)
    _episodes(world, {4: 6})
    lead = ApiClient(team_lead_token(world.team))
    before = AggregateRead.objects.count()

    body = lead.get(
        "/api/v1/indicators/goal_attainment/series",
        {"interval": "year", "year": 2026, "years": 3, "team": str(world.team.pk)},
    ).json()

    assert (body["interval"], body["level"], body["name"], body["total"]) == ("year", "team", world.team.name, None)
    assert [(point["period"]["key"], point["period"]["start"]) for point in body["points"]] == [
        ("year", "2024-01-01"),
        ("year", "2025-01-01"),
        ("year", "2026-01-01"),
    ]
    assert [point["cell"]["citizens"] for point in body["points"]] == [0, 5, 6]
    assert body["filters"] == {"team": str(world.team.pk)}
    (logged,) = AggregateRead.objects.order_by("id")[before:]
    assert (logged.period_start, logged.period_end, logged.surface) == (date(2024, 1, 1), date(2026, 12, 31), "api")


def test_a_series_refuses_what_it_cannot_answer(world):
    analyst = world.client("analyst")
    before = AggregateRead.objects.count()
    for query in ({"interval": "week"}, {"interval": "year", "years": 11}, {"year": 1999}, {"years": 0}):
        response = analyst.get("/api/v1/indicators/goal_attainment/series", query)
        assert response.status_code == 422, query
    assert analyst.get("/api/v1/indicators/no_such_thing/series", {"year": 2026}).status_code == 404
    assert world.client("staff_in_team").get("/api/v1/indicators/goal_attainment/series").status_code == 403
    assert AggregateRead.objects.count() == before
