from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import ApiClient
from tests.factories import DeviceFactory
from tests.velfaerdsteknologi.factories import AlertRuleFactory
from velfaerdsteknologi.credentials import device_credential_issue
from velfaerdsteknologi.models import Alert, Device, Reading
from velfaerdsteknologi.services.devices import device_credential_revoke

pytestmark = pytest.mark.django_db


def reading(sequence: int, kind: str = "heartbeat", value=None, at=None) -> dict:  # type: ignore[no-untyped-def]
    item = {"sequence": sequence, "kind": kind, "measured_at": (at or timezone.now()).isoformat()}
    if value is not None:
        item["value"] = value
    return item


def post(client: ApiClient, *readings: dict, **envelope):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/telemetry", {"readings": list(readings), **envelope})


def test_a_batch_is_stored_and_each_reading_gets_a_result(world):
    device = world.client("device")
    now = timezone.now()
    response = post(
        device,
        reading(3, at=now),
        reading(1, at=now - timedelta(minutes=10)),
        reading(2, "battery", 64, at=now - timedelta(minutes=5)),
        reading(4, "location", {"lat": 55.4, "lon": 10.39}),
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["stored"] == 4 and [result["status"] for result in body["results"]] == ["stored"] * 4
    assert Reading.objects.filter(device=world.device).count() == 4
    world.device.refresh_from_db()
    assert world.device.last_seen_at == now
    assert world.device.battery_level == 64


def test_a_reading_sent_again_is_stored_once(world):
    device = world.client("device")
    assert post(device, reading(1), reading(2)).json()["stored"] == 2
    again = post(device, reading(2), reading(3), reading(3)).json()
    assert [result["status"] for result in again["results"]] == ["duplicate", "stored", "duplicate"]
    assert Reading.objects.filter(device=world.device).count() == 3


def test_sequences_belong_to_their_device(world):
    other = DeviceFactory(municipality=world.municipality)
    _, token = device_credential_issue(device=other)
    assert post(world.client("device"), reading(1)).json()["stored"] == 1
    assert post(ApiClient(token), reading(1)).json()["stored"] == 1
    assert Reading.objects.filter(sequence=1).count() == 2


def test_posting_as_another_device_is_refused_and_writes_nothing(world):
    other = DeviceFactory(municipality=world.municipality)
    response = post(world.client("device"), reading(1), device_id=str(other.pk))
    assert response.status_code == 403 and response.json()["code"] == "not_this_device"
    assert response.json()["errors"][0]["field"] == "device_id"
    assert not Reading.objects.exists()


def test_older_readings_are_accepted_and_future_ones_refused(world):
    device = world.client("device")
    later = timezone.now() + timedelta(hours=1)
    first = post(device, reading(5, at=timezone.now() - timedelta(days=2)), reading(6, at=later)).json()
    assert [(result["status"], result["reason"]) for result in first["results"]] == [
        ("stored", ""),
        ("refused", "measured_in_future"),
    ]
    assert list(Reading.objects.values_list("sequence", flat=True)) == [5]
    earlier_last_seen = Device.objects.get(pk=world.device.pk).last_seen_at
    post(device, reading(4, at=timezone.now() - timedelta(days=3)))
    assert Device.objects.get(pk=world.device.pk).last_seen_at == earlier_last_seen


@pytest.mark.parametrize(
    ("readings", "field"),
    [
        ([{"sequence": 1, "kind": "pulse", "measured_at": "2026-01-01T10:00:00Z"}], "readings.0.kind"),
        ([reading(1), reading(2, "battery", "full")], "readings.1.value"),
        ([reading(1), reading(2, "battery", 140)], "readings.1.value"),
        ([reading(1, "heartbeat", 3)], "readings.0.value"),
        ([reading(1, "location", {"lat": 95, "lon": 10})], "readings.0.value"),
        ([{"sequence": 1, "kind": "heartbeat", "measured_at": "2026-01-01T10:00:00"}], "readings.0.measured_at"),
        ([{"sequence": -1, "kind": "heartbeat", "measured_at": "2026-01-01T10:00:00Z"}], "readings.0.sequence"),
        ([], "readings"),
        ([reading(n) for n in range(501)], "readings"),
    ],
    ids=[
        "unknown-kind",
        "wrong-type",
        "out-of-range",
        "heartbeat-value",
        "bad-location",
        "naive-time",
        "negative-sequence",
        "empty",
        "over-limit",
    ],
)
def test_bad_input_is_refused_whole_naming_the_field(world, readings, field):
    response = world.client("device").post("/api/v1/telemetry", {"readings": readings})
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["field"] == field
    assert not Reading.objects.exists()
    world.device.refresh_from_db()
    assert world.device.last_seen_at is None


def test_revoked_and_malformed_tokens_are_refused(world):
    credential = world.device.credentials.get()
    device_credential_revoke(credential=credential)
    assert post(world.client("device"), reading(1)).status_code == 401
    assert post(ApiClient("mdt_nonsense"), reading(1)).status_code == 401
    assert post(ApiClient("not even a token"), reading(1)).status_code == 401
    assert post(world.client("it"), reading(1)).status_code == 401
    assert not Reading.objects.exists()


def test_ingest_costs_a_constant_number_of_queries(world):
    AlertRuleFactory(device_model=world.device.model, kind="fall")
    device = world.client("device")
    post(device, reading(0))

    def batch(start: int, size: int) -> list[dict]:
        return [reading(start + n, "battery" if n % 2 else "heartbeat", 80 if n % 2 else None) for n in range(size)]

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        post(device, *batch(10, 4))
    with CaptureQueriesContext(connection) as large:
        post(device, *batch(1000, 400))
    assert len(small) == len(large)
    assert not Alert.objects.exists()
