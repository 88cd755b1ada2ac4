"""The evaluator's cells: each row counts in its team's, unit's and the municipality's cells of the year, the
quarter and the month of its day (and of its group), whatever the order and mix of rows."""

import uuid
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from effekt.indicators.evaluator import (
    MUNICIPALITY,
    TEAM,
    UNIT,
    YEAR,
    Node,
    Organisation,
    _citizens_by_cell,
    month_of,
    quarter_of,
)

ROOT = Node(MUNICIPALITY, uuid.UUID(int=1), "Kommunen")
UNITS = (Node(UNIT, uuid.UUID(int=2), "Syd", ROOT), Node(UNIT, uuid.UUID(int=3), "Nord", ROOT))
TEAMS = tuple(Node(TEAM, uuid.UUID(int=10 + index), f"Team {index}", UNITS[index % 2]) for index in range(4))
ORGANISATION = Organisation(ROOT, UNITS, TEAMS)
# A team the organisation no longer has: its rows count for the municipality only.
GONE = uuid.UUID(int=99)


def _by_hand(rows: list[dict], grouped: bool) -> tuple[dict, dict]:
    citizens: dict = {}
    members: dict = {}
    for row in rows:
        team = next((team for team in TEAMS if team.id == row["team_id"]), None)
        nodes = [ROOT] if team is None else [ROOT, team.parent, team]
        for node in nodes:
            for period in (YEAR, quarter_of(row["on"]), month_of(row["on"])):
                for group in (None, str(row["group"])) if grouped else (None,):
                    citizens.setdefault((node, group, period), set()).add(row["citizen_id"])
                    members.setdefault((node, group, period), []).append(row)
    return citizens, members


@settings(max_examples=40, deadline=None)
@given(
    drawn=st.lists(
        st.tuples(
            st.sampled_from([*(team.id for team in TEAMS), GONE]),
            st.integers(0, 364),
            st.sampled_from(["E1", "E2", None]),
            st.integers(0, 15),
        ),
        max_size=80,
    ),
    grouped=st.booleans(),
)
def test_each_row_counts_in_the_cells_of_its_team_unit_municipality_and_periods(drawn, grouped):
    rows = [
        {"team_id": team, "on": date(2025, 1, 1) + timedelta(days=day), "group": group, "citizen_id": citizen}
        for team, day, group, citizen in drawn
    ]
    teams = {team.id: team for team in TEAMS if team.id is not None}

    citizens, members = _citizens_by_cell(rows, ORGANISATION, teams, grouped)

    expected_citizens, expected_members = _by_hand(rows, grouped)
    assert citizens == expected_citizens
    assert {key: [id(row) for row in cell] for key, cell in members.items()} == {
        key: [id(row) for row in cell] for key, cell in expected_members.items()
    }
