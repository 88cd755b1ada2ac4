"""Small cells: never fewer than 5 citizens shown, not by a cell and not by the difference of two."""

import csv
import io
from datetime import date

import pytest

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
