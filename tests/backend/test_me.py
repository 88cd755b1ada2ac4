import pytest

from backend.models import AccessLogEntry


@pytest.mark.django_db
def test_citizen_sees_own_profile_and_roles(world):
    response = world.client("citizen").get("/api/v1/me")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["citizen"]["id"] == str(world.citizen.id)
    assert [role["code"] for role in body["roles"]] == ["citizen"]
    assert body["roles"][0]["name"] == "Borger"
    assert "cpr" not in body["citizen"]
    assert response["X-Request-ID"]


@pytest.mark.django_db
def test_roles_in_english_when_asked(world):
    response = world.client("staff_in_team").get("/api/v1/me", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    body = response.json()
    assert body["citizen"] is None
    assert body["roles"] == [{"code": "therapist", "name": "Therapist"}]
    assert body["memberships"][0]["team_name"] == "Rehabilitering Syd"


@pytest.mark.django_db
def test_citizen_sees_staff_reading_their_profile_in_access_log(world):
    staff = world.client("staff_in_team")
    assert staff.get(f"/api/v1/citizens/{world.citizen.id}").status_code == 200

    response = world.client("citizen").get("/api/v1/me/access-log")
    assert response.status_code == 200
    items = response.json()["items"]
    assert len(items) == 1
    entry = items[0]
    assert entry["actor_name"] == world.staff_in_team.user.display_name
    assert entry["actor_role"] == "therapist"
    assert entry["actor_role_name"] == "Terapeut"
    assert entry["purpose_name"] == "Pleje og behandling"
    assert entry["action"] == "read"


@pytest.mark.django_db
def test_staff_out_of_team_gets_404_and_leaves_no_log(world):
    response = world.client("staff_out_of_team").get(f"/api/v1/citizens/{world.citizen.id}")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"
    assert not AccessLogEntry.objects.filter(citizen=world.citizen).exists()


@pytest.mark.django_db
def test_export_contains_profile_cpr_and_access_log(world):
    world.client("staff_in_team").get(f"/api/v1/citizens/{world.citizen.id}")
    response = world.client("citizen").get("/api/v1/me/export")
    assert response.status_code == 200
    body = response.json()
    assert body["citizen"]["id"] == str(world.citizen.id)
    assert len(body["citizen"]["cpr"]) == 10
    assert any(row["actor_role"] == "therapist" for row in body["access_log"])
    assert AccessLogEntry.objects.filter(citizen=world.citizen, action="export").count() == 1
