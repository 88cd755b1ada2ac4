"""The IT team's day as the issue tells it, through the API only.

An IT worker imports 200 devices from a CSV, assigns a fall detector to a citizen (refused until consent
is recorded), installs it and issues its token; the device posts heartbeats and a fall; the care team
sees the fall alert and IT does not; when the heartbeats stop, IT sees the device go offline.
"""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.conftest import ApiClient
from tests.velfaerdsteknologi.conftest import cpr_of
from tests.velfaerdsteknologi.test_import import csv_rows


@pytest.mark.django_db
def test_import_assign_with_consent_install_token_telemetry_alert_and_offline(world, fall_detector_model):
    it = world.client("it")
    care = world.client("staff_in_team")

    serials = [f"VIG-{number:04d}" for number in range(200)]
    text = csv_rows(fall_detector_model, serials)
    assert it.post("/api/v1/devices/import", {"csv": text, "dry_run": True}).json()["errors"] == []
    assert it.post("/api/v1/devices/import", {"csv": text, "dry_run": False}).status_code == 201
    device = it.get("/api/v1/devices", {"search": "VIG-0007"}).json()["items"][0]
    assert device["status"] == "in_stock"

    citizen = it.post("/api/v1/it/citizens/lookup", {"cpr": cpr_of(world.citizen)}).json()
    assert set(citizen) <= {"id", "given_name", "family_name", "address_line", "postcode", "city", "phone"}
    assignment = {"device_id": device["id"], "citizen_id": citizen["id"], "installation_address": "Vestergade 12"}
    refused = it.post("/api/v1/device-assignments", assignment)
    assert refused.status_code == 422 and refused.json()["code"] == "consent_required"
    review_on = (timezone.localdate() + timedelta(days=180)).isoformat()
    created = it.post(
        "/api/v1/device-assignments",
        {
            **assignment,
            "consent_basis": "consent",
            "consent_reference": "Samtykke 2026-11",
            "consent_review_on": review_on,
        },
    )
    assert created.status_code == 201, created.content
    installed = it.post(f"/api/v1/device-assignments/{created.json()['id']}/install", {})
    assert installed.status_code == 200, installed.content
    issued = it.post(f"/api/v1/devices/{device['id']}/credentials", {})
    assert issued.status_code == 201, issued.content
    sensor = ApiClient(issued.json()["token"])

    # The device reported an hour ago and then fell silent (its heartbeat interval is five minutes).
    then = timezone.now() - timedelta(hours=1)
    readings = [
        {"sequence": 1, "kind": "heartbeat", "measured_at": (then - timedelta(minutes=2)).isoformat()},
        {"sequence": 2, "kind": "heartbeat", "measured_at": (then - timedelta(minutes=1)).isoformat()},
        {"sequence": 3, "kind": "fall", "value": True, "measured_at": then.isoformat()},
    ]
    posted = sensor.post("/api/v1/telemetry", {"readings": readings})
    assert posted.status_code == 200 and posted.json()["stored"] == 3
    again = sensor.post("/api/v1/telemetry", {"readings": readings})
    assert again.json()["duplicates"] == 3

    care_alerts = care.get("/api/v1/device-alerts").json()["items"]
    assert [(alert["kind"], alert["citizen_id"]) for alert in care_alerts] == [("fall", str(world.citizen.pk))]
    assert all(alert["kind"] != "fall" for alert in it.get("/api/v1/device-alerts").json()["items"])
    assert world.client("staff_out_of_team").get("/api/v1/device-alerts").json()["items"] == []

    assert not [alert for alert in it.get("/api/v1/device-alerts").json()["items"] if alert["kind"] == "heartbeat"]
    call_command("detect_missing_heartbeats")
    board = it.get("/api/v1/it/board").json()
    assert [item["id"] for item in board["offline"]["items"]] == [device["id"]]
    offline = [alert for alert in it.get("/api/v1/device-alerts").json()["items"] if alert["kind"] == "heartbeat"]
    assert len(offline) == 1 and offline[0]["status"] == "open"
