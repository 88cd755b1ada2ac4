"""Telemetry ingest: a device's batch of readings stored once per (device, sequence), then evaluated.

The batch is written with one multi-row ``INSERT … ON CONFLICT DO NOTHING RETURNING`` so that a reading
sent again is recognised by the database itself, however many copies of the batch race. Rules are then
evaluated over the readings actually stored, with a constant number of queries per batch.
"""

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from velfaerdsteknologi.models import (
    AlertRule,
    AlertSeverity,
    Assignment,
    Device,
    Reading,
    TelemetryKind,
)
from velfaerdsteknologi.services.alerts import (
    SEVERITY_RANK,
    alert_raise,
    alerts_resolve_missing_data,
    threshold_severity,
)

MAX_BATCH = 500
MAX_FUTURE = timedelta(minutes=5)
K = TelemetryKind
COLUMNS = ("device_id", "sequence", "kind", "value", "numeric_value", "measured_at", "received_at")


@dataclass(frozen=True)
class IncomingReading:
    sequence: int
    kind: str
    value: Any
    measured_at: datetime


@dataclass(frozen=True)
class ReadingResult:
    sequence: int
    status: str  # stored | duplicate | refused
    reason: str = ""


def numeric_value(kind: str, value: Any) -> float | None:
    if kind in (K.BATTERY, K.CUSTOM) and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _insert(device: Device, readings: list[IncomingReading], received_at: datetime) -> set[int]:
    """Insert the readings; returns the sequences the database stored (the others were there already)."""
    if not readings:
        return set()
    quote = connection.ops.quote_name
    table = quote(Reading._meta.db_table)
    columns = ", ".join(quote(column) for column in COLUMNS)
    conflict = f"ON CONFLICT ({quote('device_id')}, {quote('sequence')}) DO NOTHING RETURNING {quote('sequence')}"
    if connection.vendor == "postgresql":
        # One array per column: seven parameters whatever the batch size, which keeps binding cheap.
        sql = (
            f"INSERT INTO {table} ({columns}) SELECT * FROM unnest(%s::uuid[], %s::int8[], %s::varchar[], "  # noqa: S608
            f"%s::text[]::jsonb[], %s::float8[], %s::timestamptz[], %s::timestamptz[]) {conflict}"
        )
        parameters: list[Any] = [
            [device.pk] * len(readings),
            [reading.sequence for reading in readings],
            [reading.kind for reading in readings],
            [json.dumps(reading.value) if reading.value is not None else None for reading in readings],
            [numeric_value(reading.kind, reading.value) for reading in readings],
            [reading.measured_at for reading in readings],
            [received_at] * len(readings),
        ]
    else:
        fields = {field.column: field for field in Reading._meta.concrete_fields if field.column in COLUMNS}
        row_placeholder = "(" + ", ".join(["%s"] * len(COLUMNS)) + ")"
        sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([row_placeholder] * len(readings))} {conflict}"  # noqa: S608
        parameters = []
        device_id = fields["device_id"].get_db_prep_save(device.pk, connection)
        received = fields["received_at"].get_db_prep_save(received_at, connection)
        for reading in readings:
            parameters += [
                device_id,
                reading.sequence,
                reading.kind,
                json.dumps(reading.value) if reading.value is not None else None,
                numeric_value(reading.kind, reading.value),
                fields["measured_at"].get_db_prep_save(reading.measured_at, connection),
                received,
            ]
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        return {row[0] for row in cursor.fetchall()}


def _device_state_update(device: Device, stored: list[IncomingReading]) -> None:
    heartbeats = [reading.measured_at for reading in stored if reading.kind == K.HEARTBEAT]
    if heartbeats:
        latest = max(heartbeats)
        Device.objects.filter(Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=latest), pk=device.pk).update(
            last_seen_at=latest
        )
    batteries = [reading for reading in stored if reading.kind == K.BATTERY]
    if batteries:
        latest_battery = max(batteries, key=lambda reading: reading.measured_at)
        Device.objects.filter(
            Q(battery_measured_at__isnull=True) | Q(battery_measured_at__lt=latest_battery.measured_at), pk=device.pk
        ).update(battery_level=round(latest_battery.value), battery_measured_at=latest_battery.measured_at)


def _current_citizen(device: Device):
    assignment = Assignment.objects.filter(device=device, returned_at__isnull=True).select_related("citizen").first()
    return assignment.citizen if assignment is not None else None


def rules_evaluate(device: Device, stored: list[IncomingReading], rules: list[AlertRule]) -> int:
    """Raise (or add to) one alert per breached rule; returns the number of alerts touched."""
    by_kind: dict[str, list[IncomingReading]] = defaultdict(list)
    for reading in stored:
        by_kind[reading.kind].append(reading)
    triggers: list[tuple[AlertRule, str, IncomingReading, int]] = []
    for rule in rules:
        readings = by_kind.get(rule.kind)
        if not readings or not rule.is_active:
            continue
        if rule.rule_type == AlertRule.Type.EVENT:
            if rule.kind == K.DOOR_OPEN:
                readings = [reading for reading in readings if reading.value is not False]
            if readings:
                first = min(readings, key=lambda reading: reading.measured_at)
                triggers.append((rule, AlertSeverity.ALERT, first, len(readings)))
        elif rule.rule_type == AlertRule.Type.THRESHOLD:
            worst: tuple[str, IncomingReading] | None = None
            count = 0
            for reading in readings:
                value = numeric_value(reading.kind, reading.value)
                severity = threshold_severity(rule, value) if value is not None else None
                if severity is None:
                    continue
                count += 1
                if worst is None or SEVERITY_RANK[AlertSeverity(severity)] > SEVERITY_RANK[AlertSeverity(worst[0])]:
                    worst = (severity, reading)
            if worst is not None:
                triggers.append((rule, worst[0], worst[1], count))
    if not triggers:
        return 0
    citizen = _current_citizen(device)
    for rule, severity, reading, count in triggers:
        alert_raise(
            device=device,
            rule=rule,
            severity=severity,
            at=reading.measured_at,
            citizen=citizen,
            value=numeric_value(reading.kind, reading.value),
            occurrences=count,
        )
    return len(triggers)


@transaction.atomic
def telemetry_ingest(*, device: Device, readings: list[IncomingReading]) -> list[ReadingResult]:
    """Store a batch of readings and evaluate the model's rules over the new ones.

    Readings measured more than MAX_FUTURE ahead of the server clock are refused; a sequence seen before
    (in an earlier batch or earlier in this one) is a duplicate; everything else is stored, in any order.
    """
    now = timezone.now()
    horizon = now + MAX_FUTURE
    results: dict[int, ReadingResult] = {}
    candidates: list[IncomingReading] = []
    for reading in readings:
        if reading.sequence in results:
            continue
        if reading.measured_at > horizon:
            results[reading.sequence] = ReadingResult(reading.sequence, "refused", "measured_in_future")
        else:
            results[reading.sequence] = ReadingResult(reading.sequence, "stored")
            candidates.append(reading)
    stored_sequences = _insert(device, candidates, now)
    stored = [reading for reading in candidates if reading.sequence in stored_sequences]
    for reading in candidates:
        if reading.sequence not in stored_sequences:
            results[reading.sequence] = ReadingResult(reading.sequence, "duplicate")
    if stored:
        _device_state_update(device, stored)
        rules = list(AlertRule.objects.filter(device_model_id=device.model_id, is_active=True))
        rules_evaluate(device, stored, rules)
        if any(reading.kind == K.HEARTBEAT for reading in stored):
            alerts_resolve_missing_data(device=device)
    seen: set[int] = set()
    ordered: list[ReadingResult] = []
    for reading in readings:
        result = results[reading.sequence]
        if reading.sequence in seen:
            ordered.append(ReadingResult(reading.sequence, "duplicate"))
        else:
            seen.add(reading.sequence)
            ordered.append(result)
    return ordered
