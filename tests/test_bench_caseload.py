"""The caseload benchmark's baseline (``bench/caseload/independent.py``), written from the rules rather than
from the production statement, answers the endpoint's page for every page shape the benchmark seeds."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.db import connection

from bench.caseload import independent, seed
from tests.conftest import ApiClient

pytestmark = pytest.mark.django_db
ZONE = ZoneInfo("Europe/Copenhagen")


@pytest.fixture
def seeded(tmp_path):
    summary = seed.seed(out=tmp_path, citizen_count=24, days=20, shapes=tuple(seed.SHAPES))
    token = (tmp_path / "staff_tokens.txt").read_text().split()[0]
    return summary, ApiClient(token)


def execute(statement, parameters):
    with connection.cursor() as cursor:
        cursor.execute(statement, parameters)
        return cursor.fetchall()


def baseline(team_id: str, computed_at: str, *, limit: int, offset: int, sort: str = "status") -> list:
    now = datetime.fromisoformat(computed_at.replace("Z", "+00:00"))
    moments = independent.Moments(now=now, today=now.astimezone(ZONE).date())
    rows = independent.read(
        execute,
        team_id,
        moments,
        sqlite=connection.vendor == "sqlite",
        devices=apps.is_installed("velfaerdsteknologi"),
    )
    # The floor reads the very rows the baseline fetched.
    floor = independent.floor(
        execute,
        team_id,
        moments,
        sqlite=connection.vendor == "sqlite",
        devices=apps.is_installed("velfaerdsteknologi"),
    )
    assert floor == rows.count > 0
    return independent.page(rows, moments, limit=limit, offset=offset, sort=sort)


def test_the_independent_baseline_answers_the_endpoints_pages_in_every_shape(seeded):
    summary, client = seeded
    for shape, team_id in summary["teams"].items():
        for limit, sort in ((50, "status"), (7, "status"), (7, "name")):
            path, offset, seen = f"/api/v1/teams/{team_id}/caseload", 0, 0
            query: dict[str, object] = {"limit": limit, "sort": sort}
            while True:
                response = client.get(path, query)
                assert response.status_code == 200, response.content
                answer = response.json()
                expected = baseline(team_id, answer["computed_at"], limit=limit, offset=offset, sort=sort)
                assert independent.differences(answer["items"], expected) == [], (shape, sort, limit, offset)
                seen += len(answer["items"])
                if not answer["next_cursor"]:
                    break
                query["cursor"], offset = answer["next_cursor"], offset + limit
            assert seen == 24, (shape, sort, limit)


def test_the_shapes_are_what_they_are_named_and_a_wrong_light_is_caught(seeded):
    summary, client = seeded
    lights = {}
    for shape, team_id in summary["teams"].items():
        items = client.get(f"/api/v1/teams/{team_id}/caseload", {"limit": 50}).json()["items"]
        lights[shape] = [item["status"] for item in items]
        if shape == "sparse":
            assert {item["pain_trend"] for item in items} == {"unknown"}
            assert max(item["slots_due"] for item in items) < 3
    assert set(lights["mixed"]) == {"red", "yellow", "green"}
    assert set(lights["red"]) == {"red"}
    assert lights["green"].count("green") > len(lights["green"]) / 2
    assert "red" not in lights["sparse"]

    # A baseline that read one light differently would be caught.
    answer = client.get(f"/api/v1/teams/{summary['teams']['mixed']}/caseload", {"limit": 50}).json()
    expected = baseline(summary["teams"]["mixed"], answer["computed_at"], limit=50, offset=0)
    assert independent.differences(answer["items"], expected) == []
    answer["items"][1]["status"] = "green" if answer["items"][1]["status"] != "green" else "red"
    assert independent.differences(answer["items"], expected)
