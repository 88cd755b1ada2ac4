"""Notification preferences: per-kind push and mute, quiet hours with a time zone, validation naming the
field, and the effect on what is stored and pushed."""

from datetime import time

import pytest

from notifications.models import Notification, NotificationPreference, PushDelivery, QuietHours
from notifications.services import notify
from tests.notifications.conftest import install_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/notification-preferences"
TOKEN = "fcm-token-preferences-0001:APA91bHun4MxP5egoKMwt2KZFBaFUH"


def kinds_of(body: dict) -> dict[str, dict]:
    return {item["kind"]: item for item in body["kinds"]}


def stored(user) -> tuple[list, list]:
    return (
        list(NotificationPreference.objects.filter(user=user).values_list("kind", "is_muted", "push_enabled")),
        list(QuietHours.objects.filter(user=user).values_list("start_time", "end_time", "time_zone")),
    )


def test_without_choices_every_kind_is_pushed_and_nothing_is_muted(world):
    response = world.client("citizen").get(URL)
    assert response.status_code == 200
    body = response.json()
    kinds = kinds_of(body)
    assert kinds["reminder.training"] == {
        "kind": "reminder.training",
        "is_reminder": True,
        "muted": False,
        "push": True,
    }
    assert kinds["request.answered"]["is_reminder"] is False
    assert all(item["push"] and not item["muted"] for item in body["kinds"])
    assert body["quiet_hours"] is None


def test_choices_and_quiet_hours_are_stored_and_read_back(world):
    client = world.client("citizen")
    body = {
        "kinds": [
            {"kind": "reminder.training", "muted": True, "push": True},
            {"kind": "request.answered", "muted": False, "push": False},
        ],
        "quiet_hours": {"start": "22:00", "end": "07:00", "time_zone": "Europe/Copenhagen"},
    }
    response = client.put(URL, body)
    assert response.status_code == 200, response.content
    assert response.json() == client.get(URL).json()
    kinds = kinds_of(response.json())
    assert (kinds["reminder.training"]["muted"], kinds["request.answered"]["push"]) == (True, False)
    assert response.json()["quiet_hours"] == {"start": "22:00:00", "end": "07:00:00", "time_zone": "Europe/Copenhagen"}


def test_a_put_replaces_the_whole_set_and_none_removes_quiet_hours(world):
    client = world.client("citizen")
    client.put(
        URL,
        {"kinds": [{"kind": "reminder.training", "muted": True}], "quiet_hours": {"start": "22:00", "end": "06:00"}},
    )
    response = client.put(URL, {"kinds": [{"kind": "goal.rated", "push": False}], "quiet_hours": None})
    kinds = kinds_of(response.json())
    assert kinds["reminder.training"]["muted"] is False
    assert kinds["goal.rated"]["push"] is False
    assert response.json()["quiet_hours"] is None
    assert stored(world.citizen.user) == ([("goal.rated", False, False)], [])


def test_quiet_hours_default_to_the_citizens_own_time_zone(world):
    world.citizen.time_zone = "Europe/London"
    world.citizen.save(update_fields=["time_zone"])
    response = world.client("citizen").put(URL, {"quiet_hours": {"start": "21:30", "end": "06:45"}})
    assert response.json()["quiet_hours"]["time_zone"] == "Europe/London"


def test_quiet_hours_of_staff_default_to_the_municipalitys_zone(world):
    response = world.client("it").put(URL, {"quiet_hours": {"start": "20:00", "end": "06:00"}})
    assert response.json()["quiet_hours"]["time_zone"] == "Europe/Copenhagen"


def test_preferences_are_each_persons_own(world):
    world.client("citizen").put(URL, {"kinds": [{"kind": "reminder.training", "muted": True}]})
    other = world.client("other_citizen").get(URL).json()
    assert kinds_of(other)["reminder.training"]["muted"] is False
    assert stored(world.other_citizen.user) == ([], [])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kinds": [{"kind": "reminder.nonsense"}]}, "kinds.0.kind"),
        ({"kinds": [{"kind": "goal.rated"}, {"kind": "goal.rated", "push": False}]}, "kinds.1.kind"),
        ({"kinds": [{"kind": "request.answered", "muted": True}]}, "kinds.0.muted"),
        ({"kinds": [{"kind": "goal.rated", "push": "sometimes"}]}, "kinds.0.push"),
        ({"kinds": [{"kind": "goal.rated", "colour": "red"}]}, "kinds.0.colour"),
        ({"quiet_hours": {"start": "22:00", "end": "07:00", "time_zone": "Mars/Olympus"}}, "quiet_hours.time_zone"),
        ({"quiet_hours": {"start": "22:00", "end": "07:00", "time_zone": "../../etc/passwd"}}, "quiet_hours.time_zone"),
        ({"quiet_hours": {"start": "07:00", "end": "07:00"}}, "quiet_hours.end"),
        ({"quiet_hours": {"start": "25:00", "end": "07:00"}}, "quiet_hours.start"),
        ({"quiet_hours": {"end": "07:00"}}, "quiet_hours.start"),
    ],
)
def test_a_bad_preference_is_a_422_naming_the_field_and_changes_nothing(world, body, field):
    client = world.client("citizen")
    client.put(
        URL, {"kinds": [{"kind": "goal.rated", "push": False}], "quiet_hours": {"start": "23:00", "end": "06:00"}}
    )
    before = stored(world.citizen.user)
    response = client.put(URL, body)
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["field"] == field
    assert stored(world.citizen.user) == before


def test_anonymous_callers_have_no_preferences(anonymous):
    assert anonymous.get(URL).status_code == 401
    assert anonymous.put(URL, {"kinds": []}).status_code == 401


def test_push_turned_off_for_a_kind_stores_the_notification_but_pushes_only_other_kinds(world):
    install_for(world.citizen.user, TOKEN)
    world.client("citizen").put(URL, {"kinds": [{"kind": "request.answered", "push": False}]})
    [quiet] = notify(recipients=[world.citizen.user], kind="request.answered", refs={})
    [pushed] = notify(recipients=[world.citizen.user], kind="goal.rated", refs={})
    assert Notification.objects.filter(recipient=world.citizen.user).count() == 2
    assert list(PushDelivery.objects.values_list("notification_id", flat=True)) == [pushed.pk]
    assert quiet.pk != pushed.pk


def test_quiet_hours_are_stored_in_whole_minutes(world):
    world.client("citizen").put(URL, {"quiet_hours": {"start": "22:00:59", "end": "07:00:30"}})
    assert stored(world.citizen.user)[1] == [(time(22), time(7), "Europe/Copenhagen")]
