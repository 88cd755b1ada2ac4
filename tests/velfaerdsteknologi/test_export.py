from datetime import timedelta

import pytest
from django.utils import timezone

from tests import factories
from tests.velfaerdsteknologi.conftest import count_queries
from tests.velfaerdsteknologi.factories import AlertFactory, AssignmentFactory
from velfaerdsteknologi.models import DeviceCredential

pytestmark = pytest.mark.django_db


def test_the_citizens_export_holds_their_devices_and_alerts_but_no_credentials(world):
    review_on = timezone.localdate() + timedelta(days=90)
    assignment = AssignmentFactory(
        device=world.device,
        citizen=world.citizen,
        installation_address="Kongensgade 1, 5000 Odense C",
        installed_at=timezone.now() - timedelta(days=3),
        consent_basis="consent",
        consent_review_on=review_on,
    )
    fall = AlertFactory(device=world.device, citizen=world.citizen, kind="fall", status="acknowledged")
    AlertFactory(device=world.device, citizen=None, kind="battery", audience="it")
    AssignmentFactory(citizen=world.other_citizen)
    AlertFactory(citizen=world.other_citizen)

    response = world.client("citizen").get("/api/v1/me/export")

    assert response.status_code == 200
    section = response.json()["welfare_technology"]
    [exported] = section["assignments"]
    assert exported["id"] == str(assignment.pk)
    assert exported["serial_number"] == world.device.serial_number
    assert exported["device_model"] == str(world.device.model)
    assert exported["device_category"] == world.device.model.category.name
    assert exported["installation_address"] == "Kongensgade 1, 5000 Odense C"
    assert exported["installed_at"] is not None and exported["returned_at"] is None
    assert (exported["consent_basis"], exported["consent_review_on"]) == ("consent", review_on.isoformat())
    [alert] = section["alerts"]
    assert (alert["id"], alert["kind"], alert["severity"], alert["status"]) == (
        str(fall.pk),
        "fall",
        "alert",
        "acknowledged",
    )
    assert alert["opened_at"] is not None
    body = response.content.decode()
    credential = DeviceCredential.objects.get(device=world.device)
    assert world.device_token not in body and credential.lookup_prefix not in body
    assert credential.secret_hash not in body


def test_the_export_costs_the_same_for_more_devices(world):
    citizen = world.client("citizen")
    AssignmentFactory(device=world.device, citizen=world.citizen)
    AlertFactory(device=world.device, citizen=world.citizen)
    small, _ = count_queries(lambda: citizen.get("/api/v1/me/export"))
    for _ in range(5):
        device = factories.DeviceFactory(municipality=world.municipality)
        AssignmentFactory(device=device, citizen=world.citizen, returned_at=timezone.now())
        AlertFactory(device=device, citizen=world.citizen)
    large, response = count_queries(lambda: citizen.get("/api/v1/me/export"))
    assert small == large and len(response.json()["welfare_technology"]["assignments"]) == 6
