from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests import factories
from tests.velfaerdsteknologi.conftest import count_queries
from tests.velfaerdsteknologi.factories import AlertFactory, AssignmentFactory
from velfaerdsteknologi.models import Alert, AlertRule, Device
from velfaerdsteknologi.services.alerts import alert_rule_set, threshold_severity
from velfaerdsteknologi.tasks import detect_missing_heartbeats

pytestmark = pytest.mark.django_db


def reading(sequence: int, kind: str = "heartbeat", value=None, at=None) -> dict:  # type: ignore[no-untyped-def]
    item = {"sequence": sequence, "kind": kind, "measured_at": (at or timezone.now()).isoformat()}
    if value is not None:
        item["value"] = value
    return item


@pytest.fixture
def installed(world, fall_detector_model):
    """The world's device is a GPS fall detector installed at the world's citizen's home."""
    Device.objects.filter(pk=world.device.pk).update(model=fall_detector_model, status="in_use")
    world.device.refresh_from_db()
    AssignmentFactory(device=world.device, citizen=world.citizen, installed_at=timezone.now() - timedelta(hours=2))
    return world.device


def test_four_thresholds_grade_a_measurement(fall_detector_model):
    rule = alert_rule_set(
        device_model=fall_detector_model,
        kind="custom",
        settings={"alert_low": 35.0, "warning_low": 36.0, "warning_high": 38.0, "alert_high": 39.5},
    )
    graded = [threshold_severity(rule, value) for value in (34, 35.5, 37, 38.2, 40)]
    assert graded == ["alert", "warning", None, "warning", "alert"]


def test_thresholds_must_rise(world, it_client):
    path = f"/api/v1/device-models/{world.device.model_id}/alert-rules/custom"
    response = it_client.put(path, {"alert_low": 40, "warning_low": 30})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "warning_low"
    assert it_client.put(f"/api/v1/device-models/{world.device.model_id}/alert-rules/location", {}).status_code == 422
    assert not AlertRule.objects.filter(kind="custom").exists()


def test_a_fall_reaches_the_care_team_once_and_not_it(world, installed):
    device = world.client("device")
    device.post("/api/v1/telemetry", {"readings": [reading(1, "fall", True), reading(2, "fall", True)]})
    device.post("/api/v1/telemetry", {"readings": [reading(3, "fall")]})
    alert = Alert.objects.get()
    assert (alert.audience, alert.kind, alert.citizen, alert.trigger_count) == ("care", "fall", world.citizen, 3)
    care = world.client("staff_in_team").get("/api/v1/device-alerts").json()["items"]
    assert [item["id"] for item in care] == [str(alert.pk)] and care[0]["citizen_name"] == world.citizen.full_name
    assert world.client("staff_out_of_team").get("/api/v1/device-alerts").json()["items"] == []
    assert world.client("it").get("/api/v1/device-alerts").json()["items"] == []


def test_low_battery_goes_to_it_and_escalates_in_place(world, installed):
    device = world.client("device")
    device.post("/api/v1/telemetry", {"readings": [reading(1, "battery", 18)]})
    device.post("/api/v1/telemetry", {"readings": [reading(2, "battery", 9)]})
    alert = Alert.objects.get()
    assert (alert.audience, alert.severity, alert.value, alert.citizen) == ("it", "alert", 9.0, None)
    items = world.client("it").get("/api/v1/device-alerts").json()["items"]
    assert items[0]["kind"] == "battery" and "citizen_name" not in items[0] or items[0]["citizen_name"] is None
    assert world.client("staff_in_team").get("/api/v1/device-alerts").json()["items"] == []


def test_acknowledge_then_resolve_records_who_and_when(world, installed):
    alert = AlertFactory(device=installed, citizen=world.citizen)
    staff = world.client("staff_in_team")
    acknowledged = staff.post(f"/api/v1/device-alerts/{alert.pk}/acknowledge")
    assert acknowledged.status_code == 200 and acknowledged.json()["status"] == "acknowledged"
    assert staff.post(f"/api/v1/device-alerts/{alert.pk}/acknowledge").status_code == 409
    resolved = staff.post(f"/api/v1/device-alerts/{alert.pk}/resolve")
    assert resolved.json()["status"] == "resolved"
    alert.refresh_from_db()
    assert alert.acknowledged_by == world.staff_in_team.user and alert.resolved_by == world.staff_in_team.user
    # After resolution a new fall opens a new alert.
    world.client("device").post("/api/v1/telemetry", {"readings": [reading(7, "fall")]})
    assert Alert.objects.filter(status="open").count() == 1


def test_missing_heartbeats_raise_one_offline_alert_and_a_heartbeat_ends_it(world, installed):
    long_ago = timezone.now() - timedelta(hours=1)
    Device.objects.filter(pk=installed.pk).update(last_seen_at=long_ago)
    detect_missing_heartbeats.call()
    call_command("detect_missing_heartbeats")
    alert = Alert.objects.get()
    assert (alert.kind, alert.audience, alert.status, alert.trigger_count) == ("heartbeat", "it", "open", 1)
    board = world.client("it").get("/api/v1/it/board").json()
    assert [item["id"] for item in board["offline"]["items"]] == [str(installed.pk)]
    world.client("device").post("/api/v1/telemetry", {"readings": [reading(1)]})
    alert.refresh_from_db()
    assert alert.status == "resolved" and alert.resolved_by is None
    assert world.client("it").get("/api/v1/it/board").json()["offline"]["count"] == 0


def test_a_recent_heartbeat_is_not_missing(world, installed):
    Device.objects.filter(pk=installed.pk).update(last_seen_at=timezone.now() - timedelta(minutes=5))
    detect_missing_heartbeats.call()
    assert not Alert.objects.exists()


def test_alert_list_costs_the_same_for_more_alerts(world, installed):
    staff = world.client("staff_in_team")
    AlertFactory(device=installed, citizen=world.citizen)

    def listing():  # type: ignore[no-untyped-def]
        return staff.get("/api/v1/device-alerts")

    small, _ = count_queries(listing)
    for _ in range(12):
        AlertFactory(device=factories.DeviceFactory(municipality=world.municipality), citizen=world.citizen)
    large, response = count_queries(listing)
    assert small == large and len(response.json()["items"]) == 13
