"""List endpoints cost the same number of queries whatever the number of rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend.models import StaffRole
from tests import factories
from tests.conftest import ApiClient, access_token_for


def queries_for(client: ApiClient, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, response.content
    return len(captured)


@pytest.mark.django_db
def test_citizen_list_is_constant_in_caseload_size():
    team = factories.TeamFactory()
    staff = factories.StaffFactory()
    factories.MembershipFactory(staff=staff, team=team, role=StaffRole.THERAPIST)
    client = ApiClient(access_token_for(staff.user, "staff"))
    factories.CareRelationFactory.create_batch(2, team=team)
    small = queries_for(client, "/api/v1/citizens")
    factories.CareRelationFactory.create_batch(30, team=team)
    large = queries_for(client, "/api/v1/citizens")
    assert small == large


@pytest.mark.django_db
def test_access_log_and_sessions_are_constant_in_size(world):
    citizen = world.client("citizen")
    staff = world.client("staff_in_team")
    staff.get(f"/api/v1/citizens/{world.citizen.id}")
    small_log = queries_for(citizen, "/api/v1/me/access-log")
    small_sessions = queries_for(citizen, "/api/v1/me/sessions")
    for _ in range(20):
        staff.get(f"/api/v1/citizens/{world.citizen.id}")
        access_token_for(world.citizen.user)
    assert queries_for(citizen, "/api/v1/me/access-log") == small_log
    assert queries_for(citizen, "/api/v1/me/sessions") == small_sessions


@pytest.mark.django_db
def test_me_costs_two_queries_for_a_citizen(world):
    # The token with its session, user and profiles; then the access-log row.
    assert queries_for(world.client("citizen"), "/api/v1/me") == 2


@pytest.mark.django_db
def test_pages_are_capped_and_follow_the_cursor(world):
    for _ in range(3):
        factories.CareRelationFactory(team=world.team)
    client = world.client("staff_in_team")
    first = client.get("/api/v1/citizens", {"limit": 2}).json()
    assert len(first["items"]) == 2
    second = client.get("/api/v1/citizens", {"limit": 2, "cursor": first["next_cursor"]}).json()
    assert len(second["items"]) == 2
    assert second["next_cursor"] is None
    seen = [item["id"] for item in first["items"] + second["items"]]
    assert len(set(seen)) == 4
