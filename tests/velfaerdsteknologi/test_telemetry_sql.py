"""Each hand-written statement of telemetry ingest (``velfaerdsteknologi/services/telemetry.py``) against the
ORM's answer to the same question, on whichever database the tests run (SQLite and PostgreSQL in CI)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.factories import DeviceFactory
from tests.velfaerdsteknologi.factories import AlertRuleFactory, AssignmentFactory
from velfaerdsteknologi.models import OPEN_ALERT_STATUSES, Alert, AlertRule, Assignment, Device, Reading
from velfaerdsteknologi.services import telemetry
from velfaerdsteknologi.services.alerts import alert_raise
from velfaerdsteknologi.services.telemetry import IncomingReading

pytestmark = pytest.mark.django_db


def batch(*items: tuple[int, str, object, int]) -> list[IncomingReading]:
    """(sequence, kind, value, minutes ago) per reading."""
    now = timezone.now().replace(microsecond=0)
    return [
        IncomingReading(sequence, kind, value, now - timedelta(minutes=ago)) for sequence, kind, value, ago in items
    ]


ROWS = ("sequence", "kind", "value", "numeric_value", "measured_at", "received_at")


def stored_rows(device: Device) -> list[tuple[object, ...]]:
    return list(Reading.objects.filter(device=device).order_by("sequence", "measured_at").values_list(*ROWS))


@pytest.mark.parametrize("path", ["insert", "insert_on_conflict"])
def test_storing_a_batch_by_hand_matches_the_orms_rows_and_sorts_new_from_duplicate(path):
    """Inside the test's transaction the COPY runs in a savepoint (``COPY_IN_SAVEPOINT``); the COPY that
    begins a transaction of its own is tested through the API in ``test_telemetry.py``."""
    by_hand, by_orm = DeviceFactory(), DeviceFactory()
    received = timezone.now()
    first = batch((1, "heartbeat", None, 3), (2, "battery", 41, 2), (3, "location", {"lat": 55.4, "lon": 10.4}, 1))
    again = [
        *first[1:],
        *batch((4, "door_open", False, 0), (5, "custom", 2.5, 0), (6, "dose_taken", "Panodil – æøå", 0)),
    ]
    # Binary COPY writes moments and JSON itself: microseconds, a moment before 2000 and repeated values.
    again += [
        IncomingReading(7, "battery", 41, received - timedelta(microseconds=123_457)),
        IncomingReading(8, "custom", 1e-7, timezone.make_aware(timezone.datetime(1999, 12, 31, 23, 59, 59, 999_999))),
        IncomingReading(9, "fall", True, received - timedelta(days=400, microseconds=1)),
    ]
    store = telemetry._insert if path == "insert" else telemetry._insert_on_conflict

    assert store(by_hand, first, received) == {1, 2, 3}
    assert store(by_hand, again, received) == {4, 5, 6, 7, 8, 9}, "the readings stored before are duplicates"

    def orm_rows(readings: list[IncomingReading]) -> list[Reading]:
        return [
            Reading(
                device=by_orm,
                sequence=item.sequence,
                kind=item.kind,
                value=item.value,
                numeric_value=telemetry.numeric_value(item.kind, item.value),
                measured_at=item.measured_at,
                received_at=received,
            )
            for item in readings
        ]

    Reading.objects.bulk_create(orm_rows(first), ignore_conflicts=True)
    Reading.objects.bulk_create(orm_rows(again), ignore_conflicts=True)
    assert stored_rows(by_hand) == stored_rows(by_orm)
    assert len(stored_rows(by_hand)) == 9


WITH_RULES = pytest.param(
    True,
    id="with-the-rules",
    marks=pytest.mark.skipif("connection.vendor != 'postgresql'", reason="a data-modifying WITH is PostgreSQL's"),
)


@pytest.mark.parametrize("with_rules", [False, WITH_RULES])
@pytest.mark.parametrize(
    "before",
    [
        {},
        {"last_seen_at": -30, "battery_level": 90, "battery_measured_at": -30},
        {"last_seen_at": 30, "battery_level": 90, "battery_measured_at": 30},
        {"last_seen_at": 30, "battery_level": 90, "battery_measured_at": -30},
    ],
    ids=["never-seen", "older-state", "newer-state", "newer-heartbeat-older-battery"],
)
def test_the_device_state_update_matches_the_orms(before, with_rules):
    """Written alone, or on PostgreSQL by the same statement that reads the rules (``_rules_in_context``)."""
    now = timezone.now().replace(microsecond=0)
    state = {
        name: (now + timedelta(minutes=value) if name.endswith("_at") else value) for name, value in before.items()
    }
    by_hand, by_orm = DeviceFactory(**state), DeviceFactory(**state)
    readings = batch((1, "heartbeat", None, 5), (2, "heartbeat", None, 1), (3, "battery", 33, 4), (4, "battery", 12, 2))

    if with_rules:
        AlertRuleFactory(device_model=by_hand.model, kind="battery", rule_type=AlertRule.Type.THRESHOLD)
        change = telemetry._state_change(by_hand, readings)
        context = telemetry._rules_in_context(by_hand, {"heartbeat", "battery"}, change)
        assert [rule.kind for rule in context.rules] == ["battery"]
    else:
        telemetry._device_state_update(by_hand, readings)

    newest_heartbeat = max(item.measured_at for item in readings if item.kind == "heartbeat")
    newest_battery = max((item for item in readings if item.kind == "battery"), key=lambda item: item.measured_at)
    Device.objects.filter(pk=by_orm.pk).exclude(last_seen_at__gte=newest_heartbeat).update(
        last_seen_at=newest_heartbeat
    )
    Device.objects.filter(pk=by_orm.pk).exclude(battery_measured_at__gte=newest_battery.measured_at).update(
        battery_level=round(newest_battery.value), battery_measured_at=newest_battery.measured_at
    )
    fields = ("last_seen_at", "battery_level", "battery_measured_at")
    assert Device.objects.values(*fields).get(pk=by_hand.pk) == Device.objects.values(*fields).get(pk=by_orm.pk)


def test_readings_without_heartbeat_or_battery_change_no_device_state():
    readings = batch((1, "fall", True, 1), (2, "location", {"lat": 1, "lon": 2}, 1))
    assert telemetry._state_change(DeviceFactory(), readings) is None


@pytest.mark.parametrize("assigned", [True, False], ids=["assigned", "in-stock"])
@pytest.mark.parametrize("offline", [True, False], ids=["offline-alert-open", "no-offline-alert"])
@pytest.mark.parametrize("rules_active", [True, False], ids=["rules-active", "rules-switched-off"])
def test_the_rules_with_their_context_match_the_orms(assigned, offline, rules_active):
    """The context (the assigned citizen, an open offline alert) comes with the rules, and without them when
    no rule is active."""
    device = DeviceFactory()
    other = DeviceFactory(model=device.model)
    rules = {
        kind: AlertRuleFactory(device_model=device.model, kind=kind, rule_type=rule_type)
        for kind, rule_type in (
            ("fall", AlertRule.Type.EVENT),
            ("battery", AlertRule.Type.THRESHOLD),
            ("heartbeat", AlertRule.Type.MISSING_DATA),
            ("door_open", AlertRule.Type.EVENT),
        )
    }
    AlertRule.objects.filter(pk=rules["door_open"].pk).update(is_active=False)
    AlertRuleFactory(kind="fall")  # another model's
    if assigned:
        AssignmentFactory(device=device)
        AssignmentFactory(device=other)
    AssignmentFactory(device=device, returned_at=timezone.now())  # an earlier, ended assignment
    if offline:
        alert_raise(device=device, rule=rules["heartbeat"], severity="alert", at=timezone.now(), citizen=None)
    alert_raise(device=other, rule=rules["heartbeat"], severity="alert", at=timezone.now(), citizen=None)
    if not rules_active:
        AlertRule.objects.filter(device_model=device.model).update(is_active=False)
    kinds = {"fall", "battery", "heartbeat", "door_open", "location"}

    found = telemetry._rules_in_context(device, kinds)

    expected = list(AlertRule.objects.filter(device_model=device.model, is_active=True, kind__in=kinds))
    active = Assignment.objects.filter(device=device, returned_at__isnull=True)
    citizen = active.values_list("citizen", flat=True).first()
    open_offline = Alert.objects.filter(device=device, kind="heartbeat", status__in=OPEN_ALERT_STATUSES).exists()
    assert len(expected) == (3 if rules_active else 0)
    assert sorted(rule.pk for rule in found.rules) == sorted(rule.pk for rule in expected)
    assert {rule.kind: rule.rule_type for rule in found.rules} == {rule.kind: rule.rule_type for rule in expected}
    by_pk = {rule.pk: rule for rule in expected}
    for rule in found.rules:
        assert {field.attname: getattr(rule, field.attname) for field in AlertRule._meta.concrete_fields} == {
            field.attname: getattr(by_pk[rule.pk], field.attname) for field in AlertRule._meta.concrete_fields
        }
    assert found.citizen_id == citizen
    assert found.missing_data_open == open_offline == offline


@pytest.mark.parametrize("assigned", [True, False], ids=["a-citizens-alert", "an-it-alert"])
def test_adding_to_open_alerts_in_one_statement_matches_alert_raise(assigned, django_capture_on_commit_callbacks):
    """What ``_alerts_add`` leaves is what ``alert_raise`` leaves for the same breaches, alert by alert; a
    breach without an open alert is left to ``alert_raise`` (on SQLite, every breach is)."""
    by_hand, by_orm = DeviceFactory(), DeviceFactory()
    fall = AlertRuleFactory(device_model=by_hand.model, kind="fall", rule_type=AlertRule.Type.EVENT)
    battery = AlertRuleFactory(device_model=by_hand.model, kind="battery", rule_type=AlertRule.Type.THRESHOLD)
    dose = AlertRuleFactory(device_model=by_hand.model, kind="dose_missed", rule_type=AlertRule.Type.EVENT)
    by_orm.model = by_hand.model
    by_orm.save()
    citizen = AssignmentFactory(device=by_hand).citizen if assigned else None
    start = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    for device in (by_hand, by_orm):
        alert_raise(device=device, rule=fall, severity="alert", at=start, citizen=citizen)
        alert_raise(device=device, rule=battery, severity="warning", at=start, citizen=citizen, value=18.0)
    readings = batch((1, "fall", True, 50), (2, "battery", 4, 40), (3, "dose_missed", True, 30), (4, "fall", True, 70))
    triggers = [
        (fall, "alert", readings[3], 2),  # the earliest fall stands for two, older than the alert's last moment
        (battery, "alert", readings[1], 1),  # worse than the open warning: the severity and its value change
        (dose, "alert", readings[2], 1),  # no open alert: left to alert_raise
    ]

    with django_capture_on_commit_callbacks() as announced:
        left = telemetry._alerts_add(by_hand, triggers, citizen)
    for rule, severity, reading, count in left:
        alert_raise(device=by_hand, rule=rule, severity=severity, at=reading.measured_at, citizen=citizen,
                    value=telemetry.numeric_value(reading.kind, reading.value), occurrences=count)  # fmt: skip
    with django_capture_on_commit_callbacks() as announced_by_orm:
        for rule, severity, reading, count in triggers:
            alert_raise(device=by_orm, rule=rule, severity=severity, at=reading.measured_at, citizen=citizen,
                        value=telemetry.numeric_value(reading.kind, reading.value), occurrences=count)  # fmt: skip

    if connection.vendor == "postgresql":
        assert [trigger[0] for trigger in left] == [dose]
        assert len(announced) == 1, "the battery alert's new severity is announced"
    else:
        assert left == triggers
    fields = ("kind", "citizen", "audience", "severity", "status", "value", "trigger_count", "opened_at",
              "last_triggered_at")  # fmt: skip
    assert list(Alert.objects.filter(device=by_hand).order_by("kind").values_list(*fields)) == list(
        Alert.objects.filter(device=by_orm).order_by("kind").values_list(*fields)
    )
    assert Alert.objects.get(device=by_hand, kind="fall").trigger_count == 3
    assert len(announced_by_orm) == 2  # the battery alert's new severity, and the dose alert opened
