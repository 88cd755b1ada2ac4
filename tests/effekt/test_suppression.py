"""Small cells: never fewer than 5 citizens shown, not by a cell and not by the difference of two."""

import csv
import io
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from effekt.suppression import Sum, suppressed_cells
from tests import factories as core
from tests.effekt.population import DRESSING, PERIOD, WALKING, completed_episode, goal, three_teams


def people(count: int, start: int = 0) -> frozenset:
    return frozenset(range(start, start + count))


def test_a_cell_under_5_is_hidden_and_so_is_a_second_one_beside_it():
    citizens = {"total": people(14), "a": people(2), "b": people(5, 2), "c": people(7, 7)}
    hidden = suppressed_cells(citizens, [Sum("total", ("a", "b", "c"))])
    assert hidden == {"a", "b"}  # b is the smallest other cell: 14 − 7 − b would otherwise give a


def test_hidden_cells_together_under_5_take_a_third():
    citizens = {"total": people(20), "a": people(1), "b": people(2, 1), "c": people(8, 3), "d": people(9, 11)}
    hidden = suppressed_cells(citizens, [Sum("total", ("a", "b", "c", "d"))])
    assert hidden == {"a", "b", "c"}  # a + b = 3 would be the difference of the total and c and d


def test_with_no_cell_left_to_hide_the_total_goes():
    citizens = {"total": people(6), "a": people(3), "b": people(3, 3)}
    assert suppressed_cells(citizens, [Sum("total", ("a", "b"))]) == {"a", "b"}
    citizens = {"total": people(7), "a": people(3), "b": people(0)}
    assert suppressed_cells(citizens, [Sum("total", ("a", "b"))]) == {"a", "total"}


def test_empty_cells_are_shown_and_never_taken_as_the_second():
    citizens = {"total": people(9), "a": people(2), "b": frozenset(), "c": people(7, 2)}
    assert suppressed_cells(citizens, [Sum("total", ("a", "b", "c"))]) == {"a", "c"}


def test_a_hidden_parent_is_not_left_as_the_sum_of_shown_children():
    # Units u1 (3 citizens) and u2 (20) under the municipality; u2's teams t1 and t2 hold 10 each.
    citizens = {
        "municipality": people(23),
        "u1": people(3),
        "u2": people(20, 3),
        "t1": people(10, 3),
        "t2": people(10, 13),
        "t0": people(3),
    }
    sums = [Sum("municipality", ("u1", "u2")), Sum("u2", ("t1", "t2")), Sum("u1", ("t0",))]
    hidden = suppressed_cells(citizens, sums)
    assert {"u1", "u2", "t0"} <= hidden
    assert hidden & {"t1", "t2"}  # else u2 = t1 + t2 and u1 = 23 − u2


def test_a_cell_marked_as_revealing_is_hidden_with_its_complement():
    citizens = {"total": people(20), "a": people(10), "b": people(10, 10)}
    assert suppressed_cells(citizens, [Sum("total", ("a", "b"))], revealing=["a"]) == {"a", "b"}


def _hidden_by_plain_passes(citizens: dict, sums: list[Sum], revealing: set) -> set:
    """The rule as first written: every sum looked at on every pass, until a pass hides nothing."""
    hidden = {cell for cell, group in citizens.items() if 0 < len(group) < 5}
    hidden.update(cell for cell in revealing if citizens.get(cell))
    changed = True
    while changed:
        changed = False
        for total in sums:
            children = [child for child in total.children if citizens.get(child)]
            hidden_children = [child for child in children if child in hidden]
            visible = sorted((c for c in children if c not in hidden), key=lambda c: (len(citizens[c]), str(c)))
            parent_hidden = total.parent in hidden
            unknowns = len(hidden_children) + parent_hidden
            if not children or unknowns == 0:
                continue
            behind = frozenset().union(*(citizens[child] for child in hidden_children))
            if not (unknowns == 1 or (not parent_hidden and 0 < len(behind) < 5)):
                continue
            if visible:
                hidden.add(visible[0])
                changed = True
            elif not parent_hidden:
                hidden.add(total.parent)
                changed = True
    return hidden


TEAMS = {"unit 1": ("team 1", "team 2", "team 3"), "unit 2": ("team 4", "team 5")}
MONTHS = tuple(f"M{month:02d}" for month in range(1, 13))
QUARTERS = {f"Q{quarter}": MONTHS[3 * quarter - 3 : 3 * quarter] for quarter in range(1, 5)}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    months=st.lists(st.frozensets(st.integers(0, 40), max_size=7), min_size=5 * 12, max_size=5 * 12),
    revealing=st.sets(st.tuples(st.sampled_from(["team 1", "unit 2", "all"]), st.sampled_from(MONTHS))),
)
def test_passing_over_settled_sums_hides_exactly_what_looking_at_every_sum_again_hides(months, revealing):
    # A year's table of a municipality with two units of five teams: each team's month drawn at random
    # (many of 1-4 citizens), every other cell the union of what it sums up, tied as the evaluator ties them.
    teams = [team for unit_teams in TEAMS.values() for team in unit_teams]
    citizens: dict = {
        (team, month): months[12 * index + number]
        for index, team in enumerate(teams)
        for number, month in enumerate(MONTHS)
    }
    for team in teams:
        for quarter, its_months in QUARTERS.items():
            citizens[(team, quarter)] = frozenset().union(*(citizens[(team, month)] for month in its_months))
        citizens[(team, "year")] = frozenset().union(*(citizens[(team, month)] for month in MONTHS))
    periods = ["year", *QUARTERS, *MONTHS]
    for unit, unit_teams in TEAMS.items():
        for period in periods:
            citizens[(unit, period)] = frozenset().union(*(citizens[(team, period)] for team in unit_teams))
    for period in periods:
        citizens[("all", period)] = frozenset().union(*(citizens[(unit, period)] for unit in TEAMS))
    sums: list[Sum] = []
    for node in ["all", *TEAMS, *teams]:
        sums.extend(Sum((node, quarter), tuple((node, month) for month in its)) for quarter, its in QUARTERS.items())
        sums.append(Sum((node, "year"), tuple((node, quarter) for quarter in QUARTERS)))
        sums.append(Sum((node, "year"), tuple((node, month) for month in MONTHS)))
        children = list(TEAMS) if node == "all" else TEAMS.get(node, ())
        sums.extend(Sum((node, period), tuple((child, period) for child in children)) for period in periods if children)

    assert suppressed_cells(citizens, sums, revealing=revealing) == _hidden_by_plain_passes(citizens, sums, revealing)


@pytest.mark.django_db
def test_a_team_filter_shows_what_the_whole_table_shows_so_teams_cannot_be_subtracted(world):
    three_teams(world)
    analyst = world.client("analyst")

    table = analyst.get("/api/v1/indicators/goal_attainment", {**PERIOD, "breakdown": "team"}).json()
    by_name = {cell["name"]: cell for cell in table["cells"]}
    assert table["total"]["citizens"] == 15
    assert by_name["Rehabilitering Nord"]["suppressed"] is True
    assert by_name["Rehabilitering Nord"]["citizens"] is None
    # 15 − 7 − team would give Nord's 2 citizens and their goals: the smaller team is hidden as well.
    assert by_name["Rehabilitering Syd"]["suppressed"] is True
    assert by_name["Rehabilitering Vest"]["suppressed"] is False
    assert by_name["Velfærdsteknologi"] == {**by_name["Velfærdsteknologi"], "suppressed": False, "citizens": 0}

    alone = analyst.get("/api/v1/indicators/goal_attainment", {**PERIOD, "team": str(world.team.pk)}).json()
    assert alone["total"]["suppressed"] is True
    assert alone["total"]["values"] is None
    csv_text = analyst.get("/api/v1/indicators/goal_attainment/csv", {**PERIOD, "breakdown": "team"}).content
    rows = {row["name"]: row for row in csv.DictReader(io.StringIO(csv_text.decode()))}
    assert rows["Rehabilitering Syd"]["suppressed"] == "1"
    assert rows["Rehabilitering Syd"]["citizens"] == rows["Rehabilitering Syd"]["mean_t_score"] == ""
    assert (rows["Rehabilitering Vest"]["citizens"], rows["Rehabilitering Vest"]["mean_t_score"]) == ("7", "60.0")


@pytest.mark.django_db
def test_a_filter_that_leaves_out_under_5_citizens_is_hidden(world):
    # 8 citizens, 7 with a walking goal: walking alone would give away the one without by subtraction.
    for _ in range(7):
        goal(completed_episode(world.team), gas=0, condition=WALKING)
    goal(completed_episode(world.team), gas=-2, condition=DRESSING)
    analyst = world.client("analyst")

    everyone = analyst.get("/api/v1/indicators/goal_attainment", PERIOD).json()["total"]
    walking = analyst.get("/api/v1/indicators/goal_attainment", {**PERIOD, "condition": str(WALKING[0])}).json()[
        "total"
    ]

    assert everyone["suppressed"] is False and everyone["citizens"] == 8
    assert walking["suppressed"] is True

    # With 5 left out, the filtered figure is shown.
    for _ in range(4):
        goal(completed_episode(world.team), gas=-2, condition=DRESSING)
    walking = analyst.get("/api/v1/indicators/goal_attainment", {**PERIOD, "condition": str(WALKING[0])}).json()[
        "total"
    ]
    assert walking["suppressed"] is False
    assert walking["citizens"] == 7
    assert walking["values"]["share_goals_at_expected"] == 1.0


@pytest.mark.django_db
def test_an_age_band_counts_the_age_when_the_episode_started(world):
    # CPR numbers 010150-… are born 1 January 1950: 76 on 2 March 2026; 010140-… are 86.
    for serial in range(5):
        citizen = core.CitizenFactory(municipality=world.municipality, cpr_number=f"010150{4000 + serial * 2}")
        goal(completed_episode(world.team, citizen=citizen), gas=1)
    for serial in range(5):
        citizen = core.CitizenFactory(municipality=world.municipality, cpr_number=f"010140{4000 + serial * 2}")
        goal(completed_episode(world.team, citizen=citizen), gas=-1)
    analyst = world.client("analyst")

    band = analyst.get("/api/v1/indicators/goal_attainment", {**PERIOD, "age_band": "65-79"}).json()["total"]
    assert (band["citizens"], band["values"]["share_goals_at_expected"]) == (5, 1.0)
    oldest = analyst.get("/api/v1/indicators/goal_attainment", {**PERIOD, "age_band": "80+"}).json()["total"]
    assert (oldest["citizens"], oldest["values"]["share_goals_at_expected"]) == (5, 0.0)
    young = analyst.get("/api/v1/indicators/goal_attainment", {**PERIOD, "age_band": "0-64"}).json()["total"]
    assert young["citizens"] == 0


@pytest.mark.django_db
def test_a_quarter_shows_what_the_years_table_shows_so_quarters_cannot_be_subtracted(world):
    for _ in range(6):
        goal(completed_episode(world.team, ended_on=date(2026, 3, 20)), gas=0)
    for _ in range(2):
        goal(completed_episode(world.team, ended_on=date(2026, 5, 20)), gas=-2)
    analyst = world.client("analyst")

    def total(start: str, end: str) -> dict:
        return analyst.get("/api/v1/indicators/goal_attainment", {"from": start, "to": end}).json()["total"]

    year = total("2026-01-01", "2026-12-31")
    assert (year["suppressed"], year["citizens"]) == (False, 8)
    assert total("2026-04-01", "2026-06-30")["suppressed"] is True
    # The year minus the first quarter would give the second: the first is hidden as well.
    assert total("2026-01-01", "2026-03-31")["suppressed"] is True
    third = total("2026-07-01", "2026-09-30")
    assert (third["suppressed"], third["citizens"]) == (False, 0)
