from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.errors import InvalidInput
from backend.models import AccessLogEntry
from tests import factories
from tests.velfaerdsteknologi.conftest import count_queries
from tests.velfaerdsteknologi.factories import AlertFactory, AssignmentFactory
from velfaerdsteknologi.models import Alert, AlertRule, Assignment, Device, DeviceModel
from velfaerdsteknologi.services.alerts import (
    REASON_DEVICE_RETURNED,
    alert_raise,
    alert_rule_set,
    device_model_create,
    threshold_severity,
)
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


def test_a_returned_device_brings_no_alert_to_its_next_citizen(world, installed):
    device, it = world.client("device"), world.client("it")
    device.post("/api/v1/telemetry", {"readings": [reading(1, "fall", True)]})
    first = Alert.objects.get()
    assignment = Assignment.objects.get()
    assert it.post(f"/api/v1/device-assignments/{assignment.pk}/return", {}).status_code == 200
    first.refresh_from_db()
    assert (first.status, first.resolved_by, first.resolution_reason) == ("resolved", None, REASON_DEVICE_RETURNED)
    for status in ("cleaning", "in_stock"):
        moved = it.post(f"/api/v1/devices/{installed.pk}/transitions", {"to_status": status, "reason": "klar"})
        assert moved.status_code == 200
    review_on = timezone.localdate() + timedelta(days=100)
    assigned = it.post(
        "/api/v1/device-assignments",
        {
            "device_id": str(installed.pk),
            "citizen_id": str(world.other_citizen.pk),
            "consent_basis": "consent",
            "consent_review_on": review_on.isoformat(),
        },
    )
    assert assigned.status_code == 201
    assert it.post(f"/api/v1/device-assignments/{assigned.json()['id']}/install", {}).status_code == 200
    device.post("/api/v1/telemetry", {"readings": [reading(2, "fall", True)]})
    first.refresh_from_db()
    second = Alert.objects.exclude(pk=first.pk).get()
    assert (first.citizen, first.trigger_count) == (world.citizen, 1)
    assert (second.citizen, second.status, second.trigger_count) == (world.other_citizen, "open", 1)
    new_team_sees = world.client("staff_out_of_team").get("/api/v1/device-alerts").json()["items"]
    old_team = world.client("staff_in_team")
    assert [item["id"] for item in new_team_sees] == [str(second.pk)]
    assert old_team.get("/api/v1/device-alerts").json()["items"] == []
    old_history = old_team.get("/api/v1/device-alerts?status=resolved").json()["items"]
    assert [item["id"] for item in old_history] == [str(first.pk)]


def test_a_health_alert_belongs_to_the_citizen_it_was_raised_for(world, installed):
    rule = AlertRule.objects.get(device_model=installed.model, kind="fall")
    earlier = AlertFactory(device=installed, rule=rule, citizen=world.citizen)
    now = timezone.now()
    alert, created = alert_raise(device=installed, rule=rule, severity="alert", at=now, citizen=world.other_citizen)
    earlier.refresh_from_db()
    assert created and alert.citizen == world.other_citizen and earlier.trigger_count == 1
    again, created_again = alert_raise(
        device=installed, rule=rule, severity="alert", at=now, citizen=world.other_citizen
    )
    assert not created_again and again.pk == alert.pk and again.trigger_count == 2


@pytest.mark.parametrize("same_citizen", [True, False])
def test_one_unresolved_alert_per_device_rule_and_citizen_is_a_database_rule(world, installed, same_citizen):
    rule = AlertRule.objects.get(device_model=installed.model, kind="battery")
    citizen = world.citizen if same_citizen else None
    AlertFactory(device=installed, rule=rule, kind="battery", audience="it", citizen=citizen)
    with pytest.raises(IntegrityError), transaction.atomic():
        AlertFactory(device=installed, rule=rule, kind="battery", audience="it", citizen=citizen)


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_handling_a_citizens_alert_is_access_logged(world, installed, action):
    alert = AlertFactory(device=installed, citizen=world.citizen)
    response = world.client("staff_in_team").post(f"/api/v1/device-alerts/{alert.pk}/{action}")
    assert response.status_code == 200 and response.json()["citizen_name"] == world.citizen.full_name
    entry = AccessLogEntry.objects.get(resource_type="device_alert", action="update")
    assert (entry.citizen, entry.actor_id, entry.purpose, entry.resource_id) == (
        world.citizen,
        world.staff_in_team.user.pk,
        "care",
        str(alert.pk),
    )


def test_handling_a_device_alert_logs_no_citizen(world, installed):
    alert = AlertFactory(device=installed, kind="battery", audience="it", citizen=None)
    it = world.client("it")
    assert it.post(f"/api/v1/device-alerts/{alert.pk}/acknowledge").status_code == 200
    assert it.post(f"/api/v1/device-alerts/{alert.pk}/resolve").status_code == 200
    assert not AccessLogEntry.objects.filter(resource_type="device_alert").exists()


def test_a_refused_acknowledgement_logs_nothing(world, installed):
    alert = AlertFactory(device=installed, citizen=world.citizen, status="resolved", resolved_at=timezone.now())
    assert world.client("staff_in_team").post(f"/api/v1/device-alerts/{alert.pk}/acknowledge").status_code == 409
    assert not AccessLogEntry.objects.filter(resource_type="device_alert").exists()


def test_a_model_already_in_the_catalogue_is_refused_by_the_service(fall_detector_model):
    with pytest.raises(InvalidInput) as refused:
        device_model_create(
            manufacturer=fall_detector_model.manufacturer,
            model_number=fall_detector_model.model_number,
            category=fall_detector_model.category,
        )
    assert refused.value.code == "duplicate"
    assert DeviceModel.objects.filter(model_number=fall_detector_model.model_number).count() == 1
