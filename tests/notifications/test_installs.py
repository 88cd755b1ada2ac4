"""App installs: registered and refreshed by the app, listed and removed by their owner only."""

from uuid import uuid4

import pytest

from notifications.models import PushInstall
from tests.conftest import ApiClient, access_token_for

pytestmark = pytest.mark.django_db

TOKEN = "fcm-token-phone-0001:APA91bHun4MxP5egoKMwt2KZFBaFUH"
BODY = {"fcm_token": TOKEN, "platform": "ios", "app_version": "2.4.0", "locale": "en"}


def test_registering_twice_is_one_install_refreshed(world):
    client = world.client("citizen")
    created = client.put("/api/v1/me/push-installs", BODY)
    assert created.status_code == 201, created.content
    assert created.json()["is_current"] and created.json()["is_active"]
    refreshed = client.put("/api/v1/me/push-installs", {**BODY, "app_version": "2.5.0", "locale": "da"})
    assert refreshed.status_code == 200
    assert refreshed.json()["id"] == created.json()["id"]
    install = PushInstall.objects.get()
    assert (install.app_version, install.locale, install.user) == ("2.5.0", "da", world.citizen.user)
    assert refreshed.json()["last_seen_at"] >= created.json()["last_seen_at"]
    assert "fcm_token" not in refreshed.json()


def test_my_installs_are_listed_with_the_current_one_marked(world):
    client = world.client("citizen")
    client.put("/api/v1/me/push-installs", BODY)
    tablet = ApiClient(access_token_for(world.citizen.user))
    tablet.put("/api/v1/me/push-installs", {**BODY, "fcm_token": TOKEN.replace("phone", "tablet")})
    world.client("other_citizen").put("/api/v1/me/push-installs", {**BODY, "fcm_token": TOKEN.replace("phone", "x")})

    items = client.get("/api/v1/me/push-installs").json()["items"]
    assert len(items) == 2
    assert sorted(item["is_current"] for item in items) == [False, True]


def test_removing_my_install_stops_it_and_another_persons_is_not_found(world):
    install_id = world.client("citizen").put("/api/v1/me/push-installs", BODY).json()["id"]
    assert world.client("other_citizen").delete(f"/api/v1/me/push-installs/{install_id}").status_code == 404
    assert world.client("staff_in_team").delete(f"/api/v1/me/push-installs/{install_id}").status_code == 404
    assert world.client("citizen").delete(f"/api/v1/me/push-installs/{uuid4()}").status_code == 404
    assert PushInstall.objects.filter(pk=install_id).exists()
    assert world.client("citizen").delete(f"/api/v1/me/push-installs/{install_id}").status_code == 204
    assert not PushInstall.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"fcm_token": "short"}, "fcm_token"),
        ({"fcm_token": "x" * 513}, "fcm_token"),
        ({"fcm_token": "token with spaces and <html> in it"}, "fcm_token"),
        ({"platform": "windows"}, "platform"),
        ({"locale": "de"}, "locale"),
        ({"app_version": "1" * 41}, "app_version"),
        ({"user_id": str(uuid4())}, "user_id"),
    ],
)
def test_a_bad_registration_is_a_422_naming_the_field_and_stores_nothing(world, change, field):
    response = world.client("citizen").put("/api/v1/me/push-installs", {**BODY, **change})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    assert not PushInstall.objects.exists()


def test_a_device_token_cannot_register_an_install(world):
    response = ApiClient(world.device_token).put("/api/v1/me/push-installs", BODY)
    assert response.status_code == 401
    assert not PushInstall.objects.exists()
