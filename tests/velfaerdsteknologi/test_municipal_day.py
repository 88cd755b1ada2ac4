"""Dates in the welfare-technology app are the municipality's days, not UTC days.

At 23:30 UTC on 30 June it is already 1 July, 01:30, in Copenhagen: whatever falls due on 30 June is overdue.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from tests.velfaerdsteknologi.factories import AssignmentFactory, MaintenanceTaskFactory
from velfaerdsteknologi.models import Device, MaintenanceTask
from velfaerdsteknologi.presenters import maintenance_out

pytestmark = pytest.mark.django_db

LATE_EVENING_UTC = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
COPENHAGEN_TODAY = date(2026, 7, 1)


@pytest.fixture
def copenhagen_past_midnight(monkeypatch: pytest.MonkeyPatch) -> datetime:
    monkeypatch.setattr(timezone, "now", lambda: LATE_EVENING_UTC)
    return LATE_EVENING_UTC


def test_maintenance_due_yesterday_in_copenhagen_is_overdue(copenhagen_past_midnight, world, it_client):
    task = MaintenanceTaskFactory(device=world.device, kind="service", due_on=date(2026, 6, 30))
    board = it_client.get("/api/v1/it/board").json()
    assert [item["id"] for item in board["maintenance_overdue"]["items"]] == [str(task.pk)]
    assert board["maintenance_overdue"]["items"][0]["is_overdue"] is True
    assert board["maintenance_due"]["count"] == 0
    overdue = it_client.get("/api/v1/it/maintenance", {"overdue_only": "true"}).json()["items"]
    assert [(item["id"], item["is_overdue"]) for item in overdue] == [(str(task.pk), True)]


def test_consent_reviews_come_due_by_the_copenhagen_date(copenhagen_past_midnight, world, it_client):
    Device.objects.filter(pk=world.device.pk).update(status="in_use")
    assignment = AssignmentFactory(
        device=world.device,
        citizen=world.citizen,
        consent_basis="consent",
        consent_review_on=COPENHAGEN_TODAY + timedelta(days=30),
    )
    reviews = it_client.get("/api/v1/it/board").json()["consent_reviews_due"]["items"]
    assert [item["assignment_id"] for item in reviews] == [str(assignment.pk)]


def test_a_review_date_of_today_in_copenhagen_is_not_in_the_future(copenhagen_past_midnight, world, it_client):
    assignment = AssignmentFactory(device=world.device, citizen=world.citizen)
    path = f"/api/v1/device-assignments/{assignment.pk}/consent"
    refused = it_client.post(path, {"basis": "consent", "review_on": COPENHAGEN_TODAY.isoformat()})
    assert refused.status_code == 422
    assignment.refresh_from_db()
    assert assignment.consent_basis == "" and assignment.consent_review_on is None
    tomorrow = (COPENHAGEN_TODAY + timedelta(days=1)).isoformat()
    assert it_client.post(path, {"basis": "consent", "review_on": tomorrow}).status_code == 200


def test_maintenance_is_scheduled_from_the_copenhagen_date(
    copenhagen_past_midnight, world, it_client, fall_detector_model
):
    registered = it_client.post(
        "/api/v1/devices", {"model_id": str(fall_detector_model.pk), "serial_number": "TN-MIDNIGHT"}
    )
    assert registered.status_code == 201
    assert registered.json()["next_service_due"] == (COPENHAGEN_TODAY + timedelta(days=365)).isoformat()
    test_call = MaintenanceTask.objects.get(device_id=registered.json()["id"], kind="test_call")
    assert test_call.due_on == COPENHAGEN_TODAY + timedelta(days=30)
    completed = it_client.post(f"/api/v1/it/maintenance/{test_call.pk}/complete", {"result": "passed"})
    assert completed.status_code == 200
    following = MaintenanceTask.objects.get(device_id=registered.json()["id"], kind="test_call", completed_at=None)
    assert following.due_on == COPENHAGEN_TODAY + timedelta(days=30)


def test_a_maintenance_item_is_overdue_by_the_copenhagen_date(copenhagen_past_midnight, world):
    task = MaintenanceTaskFactory(device=world.device, kind="service", due_on=date(2026, 6, 30))
    assert maintenance_out(task)["is_overdue"] is True
