"""The API with the citizen app's cookie login: citizens and relatives in place of a bearer token,
CSRF on unsafe methods, and nothing for staff cookie logins."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from backend.models import AccessLogEntry, AppSession
from selvbetjening.models import CitizenRequest
from tests.borgerapp.helpers import app_client, csrf_headers
from tests.conftest import ApiClient, access_token_for
from tests.staffweb.helpers import web_client

REQUEST = {"category": "help", "text": "Min rollator knirker."}


@pytest.mark.django_db
def test_the_cookie_login_reads_the_citizens_own_data_and_logs_it(world):
    client = app_client(world.citizen.user)
    before = AccessLogEntry.objects.filter(citizen=world.citizen).count()
    assert client.get("/api/v1/me/goals").status_code == 200
    response = client.get("/api/v1/me/export")
    assert response.status_code == 200
    entry = AccessLogEntry.objects.filter(citizen=world.citizen).order_by("-at").first()
    assert AccessLogEntry.objects.filter(citizen=world.citizen).count() > before
    assert entry is not None and entry.actor_role == "citizen" and entry.actor_id == world.citizen.user_id
    assert client.get("/api/v1/me").json()["audience"] == "citizen"
    assert client.get("/api/v1/notifications").status_code == 200


@pytest.mark.django_db
def test_a_write_without_the_csrf_header_is_refused_and_changes_nothing(world):
    client = app_client(world.citizen.user)
    response = client.post("/api/v1/me/requests", REQUEST, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    assert not CitizenRequest.objects.filter(citizen=world.citizen).exists()
    wrong = client.post(
        "/api/v1/me/requests", REQUEST, content_type="application/json", headers={"X-CSRFToken": "x" * 32}
    )
    assert wrong.status_code == 403 and not CitizenRequest.objects.filter(citizen=world.citizen).exists()


@pytest.mark.django_db
def test_a_write_with_the_csrf_header_is_made(world):
    client = app_client(world.citizen.user)
    headers = csrf_headers(client)
    response = client.post("/api/v1/me/requests", REQUEST, content_type="application/json", headers=headers)
    assert response.status_code == 201
    assert CitizenRequest.objects.get(citizen=world.citizen).text == REQUEST["text"]


@pytest.mark.django_db
def test_the_bearer_token_still_works_and_needs_no_csrf(world):
    api = ApiClient(access_token_for(world.citizen.user), enforce_csrf_checks=True)
    assert api.get("/api/v1/me/goals").status_code == 200
    assert api.post("/api/v1/me/requests", REQUEST, content_type="application/json").status_code == 201


@pytest.mark.django_db
def test_a_staff_cookie_login_gets_no_api_operation(world):
    client = web_client(world.staff_in_team.user)
    assert client.get("/staff/").status_code == 200
    for path in ("/api/v1/me/goals", "/api/v1/me", "/api/v1/notifications", f"/api/v1/citizens/{world.citizen.pk}"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.json()["code"] == "not_authenticated"


@pytest.mark.django_db
def test_no_cookie_and_a_revoked_login_are_not_authenticated(world):
    assert Client().get("/api/v1/me/goals").status_code == 401
    client = app_client(world.citizen.user)
    AppSession.objects.filter(pk=client.app_session.pk).update(revoked_at="2026-01-01T00:00:00Z")  # type: ignore[attr-defined]
    assert client.get("/api/v1/me/goals").status_code == 401


@pytest.mark.django_db
def test_a_relative_sees_only_the_relative_routes_and_what_was_granted(world):
    granted = app_client(world.relative_with_consent.user)
    listed = granted.get("/api/v1/relative/citizens").json()["items"]
    assert [item["citizen_id"] for item in listed] == [str(world.citizen.pk)]
    assert granted.get(f"/api/v1/relative/citizens/{world.citizen.pk}/progress").status_code == 200
    assert granted.get(f"/api/v1/relative/citizens/{world.other_citizen.pk}/progress").status_code == 404
    assert granted.get("/api/v1/me/goals").status_code == 403
    refused = app_client(world.relative_without_consent.user)
    assert refused.get("/api/v1/relative/citizens").json()["items"] == []
    assert refused.get(f"/api/v1/relative/citizens/{world.citizen.pk}/progress").status_code == 404


@pytest.mark.django_db
def test_the_openapi_schema_names_the_cookie_login_beside_the_bearer_token(client):
    schema = client.get("/api/v1/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    cookie = [scheme for scheme in schemes.values() if scheme.get("in") == "cookie"]
    assert cookie and all(scheme["name"] == "mestring_app" for scheme in cookie)
    security = json.dumps(schema["paths"]["/api/v1/me/goals"]["get"]["security"])
    assert "CitizenSessionCookie" in security and "CitizenBearer" in security


@pytest.mark.django_db
def test_an_app_login_unused_past_its_idle_timeout_is_ended(world, settings):
    client = app_client(world.citizen.user)
    session = client.app_session  # type: ignore[attr-defined]
    idle = timezone.now() - timedelta(minutes=settings.CITIZEN_WEB_IDLE_MINUTES + 1)
    AppSession.objects.filter(pk=session.pk).update(last_used_at=idle)
    assert client.get("/api/v1/me/goals").status_code == 401
    session.refresh_from_db()
    assert session.revoked_at is not None and session.revoke_reason == AppSession.RevokeReason.EXPIRED
