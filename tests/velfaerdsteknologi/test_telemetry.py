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
    at = timezone.now()
    assert post(device, reading(1, at=at), reading(2, at=at)).json()["stored"] == 2
    again = post(device, reading(2, at=at), reading(3, at=at), reading(3, at=at)).json()
    assert [result["status"] for result in again["results"]] == ["duplicate", "stored", "duplicate"]
    assert Reading.objects.filter(device=world.device).count() == 3


def test_a_sequence_number_used_again_for_another_moment_is_a_new_reading(world):
    """A device whose counter starts over (a reset, new firmware) is not silenced: a reading is the device's
    sequence number with its measured moment, which is also what lets PostgreSQL partition by month."""
    device = world.client("device")
    now = timezone.now()
    assert post(device, reading(1, at=now - timedelta(days=40))).json()["stored"] == 1
    assert post(device, reading(1, at=now)).json()["stored"] == 1
    assert Reading.objects.filter(device=world.device, sequence=1).count() == 2


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


def test_every_kind_is_stored_with_its_value_as_sent(world):
    now = timezone.now()
    readings = [
        reading(1, "heartbeat", at=now),
        reading(2, "battery", 64, at=now),
        reading(3, "battery", 12.5, at=now),
        reading(4, "fall", True, at=now),
        reading(5, "door_open", False, at=now),
        reading(6, "dose_taken", "Panodil 500 mg", at=now),
        reading(7, "location", {"lat": 55.4, "lon": 10.39, "accuracy_m": 8}, at=now),
        reading(8, "custom", -3, at=now),
    ]
    assert post(world.client("device"), *readings).json()["stored"] == 8
    stored = {row.sequence: row for row in Reading.objects.filter(device=world.device)}
    assert [(stored[n].kind, stored[n].value, stored[n].numeric_value) for n in range(1, 9)] == [
        ("heartbeat", None, None),
        ("battery", 64, 64.0),
        ("battery", 12.5, 12.5),
        ("fall", True, None),
        ("door_open", False, None),
        ("dose_taken", "Panodil 500 mg", None),
        ("location", {"lat": 55.4, "lon": 10.39, "accuracy_m": 8}, None),
        ("custom", -3, -3.0),
    ]
    assert all(stored[n].measured_at == now for n in stored)


def test_a_batch_partly_stored_before_stores_only_the_new_readings(world):
    device = world.client("device")
    at = timezone.now()
    assert post(device, reading(2, at=at), reading(4, at=at)).json()["stored"] == 2
    again = post(device, *(reading(sequence, at=at) for sequence in range(1, 6))).json()
    assert (again["stored"], again["duplicates"]) == (3, 2)
    assert [result["status"] for result in again["results"]] == ["stored", "duplicate", "stored", "duplicate", "stored"]
    assert sorted(Reading.objects.values_list("sequence", flat=True)) == [1, 2, 3, 4, 5]
    fresh = post(device, reading(6), reading(7)).json()
    assert fresh["stored"] == 2 and Reading.objects.count() == 7


def test_an_older_battery_reading_does_not_replace_a_newer_level(world):
    device = world.client("device")
    now = timezone.now()
    post(device, reading(1, "battery", 70, at=now - timedelta(minutes=1)), reading(2, "battery", 60, at=now))
    world.device.refresh_from_db()
    assert (world.device.battery_level, world.device.battery_measured_at) == (60, now)
    post(device, reading(3, "battery", 90, at=now - timedelta(hours=1)), reading(4, at=now - timedelta(hours=1)))
    world.device.refresh_from_db()
    assert (world.device.battery_level, world.device.battery_measured_at) == (60, now)
    assert world.device.last_seen_at == now - timedelta(hours=1)


@pytest.mark.parametrize(
    "value", [None, True, "80", float("nan")], ids=["missing", "boolean", "string", "not-a-number"]
)
def test_a_battery_reading_needs_a_number(world, value):
    item = reading(1, "battery")
    if value is not None:
        item["value"] = value
    response = world.client("device").post("/api/v1/telemetry", {"readings": [item]})
    assert response.status_code in (400, 422), response.content
    assert not Reading.objects.exists()


def test_the_answer_has_the_documented_shape(world):
    from velfaerdsteknologi.schemas import TelemetryOut

    response = post(world.client("device"), reading(1), reading(1), reading(2, at=timezone.now() + timedelta(hours=1)))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    body = TelemetryOut.model_validate(response.json()).model_dump()
    assert body == {
        "stored": 1,
        "duplicates": 1,
        "refused": 1,
        "results": [
            {"sequence": 1, "status": "stored", "reason": ""},
            {"sequence": 1, "status": "duplicate", "reason": ""},
            {"sequence": 2, "status": "refused", "reason": "measured_in_future"},
        ],
    }


@pytest.mark.parametrize("rules_active", [True, False], ids=["rules-active", "rules-switched-off"])
def test_a_heartbeat_ends_an_offline_alert_whether_or_not_rules_are_active(world, rules_active):
    from velfaerdsteknologi.models import AlertRule
    from velfaerdsteknologi.services.alerts import alert_raise

    rule = AlertRuleFactory(
        device_model=world.device.model, kind="heartbeat", rule_type=AlertRule.Type.MISSING_DATA, audience="it"
    )
    alert, _ = alert_raise(device=world.device, rule=rule, severity="alert", at=timezone.now(), citizen=None)
    AlertRule.objects.filter(device_model=world.device.model).update(is_active=rules_active)
    assert post(world.client("device"), reading(1)).status_code == 200
    alert.refresh_from_db()
    assert alert.status == "resolved" and alert.resolved_by is None


def test_a_fall_alert_names_the_assigned_citizen(world):
    from tests.velfaerdsteknologi.factories import AssignmentFactory

    AssignmentFactory(device=world.device, citizen=world.citizen)
    AlertRuleFactory(device_model=world.device.model, kind="fall")
    post(world.client("device"), reading(1, "fall", True), reading(2, "fall", True))
    alert = Alert.objects.get()
    assert (alert.citizen, alert.citizen.family_name, alert.audience) == (
        world.citizen,
        world.citizen.family_name,
        "care",
    )
    assert alert.trigger_count == 2


def test_a_device_posting_far_above_real_use_gets_429_and_stores_nothing_more(world, settings):
    settings.TELEMETRY_POSTS_PER_MINUTE = 5
    client = world.client("device")
    statuses = [post(client, reading(sequence)).status_code for sequence in range(1, 8)]
    assert statuses[:5] == [200] * 5
    assert statuses[5:] == [429, 429]
    refused = post(client, reading(99))
    assert refused["Content-Type"] == "application/problem+json" and int(refused["Retry-After"]) >= 1
    assert Reading.objects.filter(device=world.device).count() == 5


def test_writes_are_counted_per_login_and_one_login_over_its_quota_holds_up_nobody_else(world, settings):
    settings.API_WRITES_PER_MINUTE = 3
    citizen = world.client("citizen")
    body = {"category": "help", "text": "Hej"}
    statuses = [citizen.post("/api/v1/me/requests", body).status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 429]
    assert citizen.get("/api/v1/me/requests").status_code == 200  # reading is not a write
    assert world.client("staff_in_team").put(f"/api/v1/me/duty/{world.team.pk}", {}).status_code == 200


def test_the_answer_is_the_json_of_each_result():
    import json

    from velfaerdsteknologi.presenters import telemetry_out
    from velfaerdsteknologi.services.telemetry import ReadingResult

    results = [
        ReadingResult(2**63 - 1, "stored"),
        ReadingResult(0, "duplicate"),
        ReadingResult(7, "refused", "measured_in_future"),
        ReadingResult(8, "stored"),
    ]
    assert json.loads(telemetry_out(results)) == {
        "stored": 2,
        "duplicates": 1,
        "refused": 1,
        "results": [
            {"sequence": 2**63 - 1, "status": "stored", "reason": ""},
            {"sequence": 0, "status": "duplicate", "reason": ""},
            {"sequence": 7, "status": "refused", "reason": "measured_in_future"},
            {"sequence": 8, "status": "stored", "reason": ""},
        ],
    }


@pytest.mark.django_db(transaction=True)
def test_a_post_is_its_own_transaction_and_a_batch_sent_again_stores_nothing_twice(world):
    """As a request runs (outside any transaction): a new batch is stored with no savepoint; the same batch
    again, with new readings among the old, is rolled back and sorted, and every rule counts each new
    breach once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from velfaerdsteknologi.models import AlertRule

    AlertRuleFactory(device_model=world.device.model, kind="fall")
    AlertRuleFactory(device_model=world.device.model, kind="battery", rule_type=AlertRule.Type.THRESHOLD, alert_low=10)
    device = world.client("device")
    at = timezone.now() - timedelta(minutes=1)
    later = at + timedelta(seconds=1)
    first = [reading(1, at=at), reading(2, "fall", True, at=at), reading(3, "battery", 5, at=at)]
    with CaptureQueriesContext(connection) as queries:
        assert post(device, reading(0, at=at)).json()["stored"] == 1
    assert not [query for query in queries if "SAVEPOINT" in query["sql"].upper()]
    assert post(device, *first).json()["stored"] == 3
    again = post(device, *first, reading(4, "fall", True, at=at), reading(5, "battery", 4, at=later)).json()
    assert [result["status"] for result in again["results"]] == ["duplicate"] * 3 + ["stored"] * 2
    assert Reading.objects.filter(device=world.device).count() == 6
    assert sorted(Alert.objects.filter(device=world.device).values_list("kind", "trigger_count")) == [
        ("battery", 2),
        ("fall", 2),
    ]
    assert post(device, *first).json()["duplicates"] == 3
    world.device.refresh_from_db()
    assert (world.device.last_seen_at, world.device.battery_level) == (at, 4)


def one_reading(kind: str, value: str | None = None, extra: str = "") -> str:
    """A body of one reading as JSON text: the value as written (None: no value), then any ``extra`` text."""
    value_field = "" if value is None else f', "value": {value}'
    fields = f'"sequence": 1, "kind": "{kind}", "measured_at": "2026-01-01T10:00:00Z"{value_field}'
    return f'{{"readings": [{{{fields}}}]{extra}}}'


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (one_reading("battery", "NaN"), 400, None),
        (one_reading("custom", "Infinity"), 400, None),
        (one_reading("custom", "-Infinity"), 400, None),
        (one_reading("custom", "1e400"), 400, None),
        (one_reading("custom", "9" * 41), 400, None),
        (one_reading("custom", "-" + "9" * 40), 400, None),
        (one_reading("location", '{"lat": 1, "lon": 2, "accuracy_m": ' + "1" * 45 + "}"), 400, None),
        (one_reading("custom", "9" * 40), 200, None),
        (one_reading("custom", "-" + "9" * 39), 200, None),
        (one_reading("custom", "1e300"), 200, None),
        (one_reading("heartbeat").replace('"sequence": 1', '"sequence": "7"'), 200, None),
        (one_reading("custom", '"5"'), 422, "readings.0.value"),
        (one_reading("heartbeat", extra=', "extra": 1'), 422, "extra"),
        (one_reading("heartbeat", "null").replace('"value"', '"note"'), 422, "readings.0.note"),
        (one_reading("heartbeat").replace('"2026-01-01T10:00:00Z"', "5e400"), 400, None),
        ("", 422, "body"),
        ("[]", 422, "body"),
        ("not JSON", 400, None),
        (one_reading("heartbeat")[:-1], 400, None),
    ],
    ids=[
        "nan",
        "infinity",
        "minus-infinity",
        "float-beyond-range",
        "integer-of-41-digits",
        "integer-of-41-characters",
        "accuracy-of-45-digits",
        "integer-of-40-digits",
        "integer-of-40-characters",
        "large-float",
        "sequence-as-text",
        "custom-as-text",
        "unknown-field",
        "unknown-reading-field",
        "moment-beyond-range",
        "empty",
        "not-an-object",
        "not-json",
        "cut-short",
    ],
)
def test_every_body_gets_the_answer_of_the_apis_parser(world, body, status, field):
    """A body valid as sent is read in one pass of pydantic's JSON parser; every other is read as every body
    of the API is. Both give one answer: what the API's parser refuses (NaN, infinities, numbers out of range)
    is 400 and stores nothing, whichever field it is in."""
    response = world.client("device").post("/api/v1/telemetry", body)
    assert response.status_code == status, response.content
    if field is not None:
        assert response.json()["errors"][0]["field"] == field
    assert Reading.objects.exists() == (status == 200)
