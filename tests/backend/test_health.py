"""Liveness, readiness, and a 503 with Retry-After instead of a 500 when the database is unreachable."""

import asyncio

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.test import Client

from backend import health
from backend.models import AppSession


def unreachable(*args, **kwargs):
    raise OperationalError('connection to server at "db" (10.0.0.5), port 5432 failed: Connection refused')


@pytest.fixture
def database_down(monkeypatch):
    monkeypatch.setattr(connection, "cursor", unreachable)


def test_healthz_is_200_without_touching_the_database():
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_answers_while_the_database_is_down(database_down):
    assert Client().get("/healthz").status_code == 200


@pytest.mark.django_db
def test_readyz_is_200_with_database_and_channel_layer():
    response = Client().get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"] == {"database": True, "channel_layer": True}


@pytest.mark.django_db
def test_readyz_is_503_when_the_database_is_unreachable(database_down):
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] is False
    assert body["checks"]["channel_layer"] is True


@pytest.mark.django_db
def test_readyz_stays_200_and_says_degraded_when_the_channel_layer_is_unreachable(monkeypatch):
    """Redis down must not take the web processes out of the load balancer: the API answers without it."""

    class DeadLayer:
        async def new_channel(self, prefix: str = "") -> str:
            raise ConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(health, "get_channel_layer", lambda: DeadLayer())
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "checks": {"database": True, "channel_layer": False}}


@pytest.mark.django_db
def test_readyz_gives_up_on_a_channel_layer_that_hangs(monkeypatch):
    class HangingLayer:
        async def new_channel(self, prefix: str = "") -> str:
            return "readyz.hang"

        async def send(self, channel: str, message: dict) -> None:
            return None

        async def receive(self, channel: str) -> dict:
            await asyncio.sleep(3600)
            return {}

    monkeypatch.setattr(health, "CHANNEL_LAYER_TIMEOUT_SECONDS", 0.2)
    monkeypatch.setattr(health, "get_channel_layer", lambda: HangingLayer())
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["channel_layer"] is False


@pytest.mark.django_db
def test_readyz_is_503_when_both_the_database_and_the_channel_layer_are_down(database_down, monkeypatch):
    monkeypatch.setattr(health, "get_channel_layer", lambda: None)
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": False, "channel_layer": False}}


def assert_database_unavailable(response) -> None:
    assert response.status_code == 503, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "database_unavailable"
    assert int(response["Retry-After"]) >= 1


@pytest.mark.django_db
def test_api_request_while_the_database_is_down_is_503_with_retry_after(world, database_down):
    assert_database_unavailable(world.client("citizen").get("/api/v1/me"))


@pytest.mark.django_db
def test_anonymous_login_while_the_database_is_down_is_503(world, database_down):
    response = Client().post(
        "/api/v1/auth/token",
        {"grant_type": "password", "username": "someone", "password": "x" * 12, "totp_code": "123456"},
        content_type="application/json",
    )
    assert_database_unavailable(response)


@pytest.mark.django_db
def test_refresh_while_the_database_is_down_is_503(world, database_down):
    response = Client().post(
        "/api/v1/auth/token",
        {"grant_type": "refresh_token", "refresh_token": "mrt_" + "x" * 43},
        content_type="application/json",
    )
    assert_database_unavailable(response)


@pytest.mark.django_db
def test_device_request_while_the_database_is_down_is_503(world, database_down):
    response = Client().get("/api/v1/device/me", headers={"Authorization": f"Bearer {world.device_token}"})
    assert_database_unavailable(response)


@pytest.mark.django_db
def test_a_dropped_connection_is_503_as_well(world, monkeypatch):
    def dropped(*args, **kwargs):
        raise InterfaceError("connection already closed")

    monkeypatch.setattr(connection, "cursor", dropped)
    assert_database_unavailable(world.client("staff_in_team").get(f"/api/v1/citizens/{world.citizen.id}"))


@pytest.mark.django_db
def test_the_api_works_again_when_the_database_returns(world, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(connection, "cursor", unreachable)
        assert_database_unavailable(world.client("citizen").get("/api/v1/me"))
    assert world.client("citizen").get("/api/v1/me").status_code == 200
    assert AppSession.objects.exists()


@pytest.mark.django_db
def test_a_staff_page_while_the_database_is_down_is_503(database_down):
    response = Client().post("/admin/login/", {"username": "someone", "password": "x" * 12, "otp_code": "123456"})
    assert_database_unavailable(response)


@pytest.mark.django_db
def test_the_api_docs_load_their_scripts_from_the_platform_not_a_cdn(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    from django.contrib.staticfiles import finders

    assert finders.find("ninja/swagger-ui-bundle.js")  # collected with the platform's static files


@pytest.mark.django_db
def test_the_front_page_links_the_apps_the_api_docs_and_the_administration(client):
    page = client.get("/")
    assert page.status_code == 200
    html = page.content.decode()
    for link in ('href="/app/"', 'href="/staff/"', 'href="/api/v1/docs"', 'href="/admin/"'):
        assert link in html
    assert "<script" not in html and "style=" not in html  # nothing the Content-Security-Policy refuses
