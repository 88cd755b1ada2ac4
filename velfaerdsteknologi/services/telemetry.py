"""Telemetry ingest: a device's batch of readings stored once per (device, sequence, measured moment), then
evaluated.

The batch is written with one multi-row ``INSERT … ON CONFLICT DO NOTHING RETURNING`` so that a reading
sent again is recognised by the database itself, however many copies of the batch race. Rules are then
evaluated over the readings actually stored, with a constant number of queries per batch.
"""

import json
import math
import struct
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, NamedTuple, Protocol

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from backend import sql
from backend.models import Citizen
from velfaerdsteknologi import events
from velfaerdsteknologi.models import (
    OPEN_ALERT_STATUSES,
    Alert,
    AlertAudience,
    AlertRule,
    AlertSeverity,
    Assignment,
    Device,
    DeviceModel,
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
FIELDS = ("device", "sequence", "kind", "value", "numeric_value", "measured_at", "received_at")
NUMERIC_KINDS = frozenset((K.BATTERY.value, K.CUSTOM.value))
HEARTBEAT = K.HEARTBEAT.value
BATTERY = K.BATTERY.value
STORED, DUPLICATE, REFUSED = "stored", "duplicate", "refused"


class ReadingLike(Protocol):
    """What ingest needs of a reading: the API passes its validated ``ReadingIn`` objects as they are."""

    @property
    def sequence(self) -> int: ...

    @property
    def kind(self) -> str: ...

    @property
    def value(self) -> Any: ...

    @property
    def measured_at(self) -> datetime: ...


@dataclass(frozen=True)
class IncomingReading:
    sequence: int
    kind: str
    value: Any
    measured_at: datetime


class ReadingResult(NamedTuple):
    sequence: int
    status: str  # stored | duplicate | refused
    reason: str = ""


def numeric_value(kind: str, value: Any) -> float | None:
    if kind in NUMERIC_KINDS and type(value) in (int, float) and math.isfinite(value):
        return float(value)
    return None


class AlreadyStored(Exception):
    """A COPY without a savepoint met a reading stored before; its transaction is to be rolled back."""


# How ``_insert`` writes a batch on PostgreSQL (elsewhere it always sorts new from duplicate).
COPY_ALONE, COPY_IN_SAVEPOINT, SORT = "copy alone", "copy in a savepoint", "sort"


def _insert(
    device: Device, readings: Sequence[ReadingLike], received_at: datetime, *, mode: str = COPY_IN_SAVEPOINT
) -> set[int]:
    """Insert the readings; returns the sequences the database stored (the others were there already).

    On PostgreSQL a batch is written with a binary ``COPY`` unless ``mode`` is ``SORT``. If any reading is
    stored already, the unique constraint fails the whole COPY: inside a savepoint (``COPY_IN_SAVEPOINT``)
    the savepoint is rolled back and the batch written again with ``INSERT … ON CONFLICT DO NOTHING``, which
    sorts new from duplicate; as the first statement of its own transaction (``COPY_ALONE``, which spares
    the savepoint's two round trips and its subtransaction) it raises ``AlreadyStored``, and the caller
    rolls the transaction back and starts again with ``SORT``.
    """
    if not readings:
        return set()
    if connection.vendor == "postgresql" and mode != SORT:
        from psycopg.errors import UniqueViolation

        try:
            if mode == COPY_ALONE:
                _copy(device, readings, received_at)
            else:
                with transaction.atomic():
                    _copy(device, readings, received_at)
        except IntegrityError as error:
            if not isinstance(error.__cause__, UniqueViolation):
                raise
            if mode == COPY_ALONE:
                raise AlreadyStored from error
        else:
            return {reading.sequence for reading in readings}
    return _insert_on_conflict(device, readings, received_at)


def _columns() -> str:
    return ", ".join(sql.column(Reading, name) for name in FIELDS)


# PostgreSQL's binary COPY (https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4): a
# signature, then per row the number of fields and each field as its length and its binary form (length -1
# for NULL), then -1. Written here rather than row by row through psycopg's dumpers, which cost more per
# reading than everything else the ingest does with it.
COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
COPY_TRAILER = struct.pack(">h", -1)
COPY_NULL = struct.pack(">i", -1)
POSTGRES_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_int8 = struct.Struct(">iq").pack
_float8 = struct.Struct(">id").pack
# Values whose fields (kind, value, numeric value) are written once per batch and reused: hashable, and
# equal only when they are written the same (0.0 equals -0.0, so floats are left out at zero).
_REUSABLE = frozenset((type(None), bool, int, float, str))


def _copy_moment(moment: datetime) -> bytes:
    """A timestamptz: microseconds since 2000-01-01 UTC."""
    since = moment - POSTGRES_EPOCH
    return _int8(8, (since.days * 86_400 + since.seconds) * 1_000_000 + since.microseconds)


def _copy_text(text: str) -> bytes:
    encoded = text.encode()
    return struct.pack(">i", len(encoded)) + encoded


def _copy_json(value: Any) -> bytes:
    """A jsonb: version 1, then the JSON text (as psycopg's ``Jsonb`` dumps it)."""
    return _copy_text("\x01" + json.dumps(value))


def _copy_fields(kind: str, value: Any) -> bytes:
    """A reading's kind, value and numeric value, one after the other."""
    number = numeric_value(kind, value)
    return (
        _copy_text(kind)
        + (COPY_NULL if value is None else _copy_json(value))
        + (_float8(8, number) if number is not None else COPY_NULL)
    )


def copy_rows(device_id: uuid.UUID, readings: Sequence[ReadingLike], received_at: datetime) -> bytes:
    """The readings as one binary COPY document of the ``FIELDS`` columns."""
    head = struct.pack(">hi", len(FIELDS), 16) + device_id.bytes
    received = _copy_moment(received_at)
    epoch = POSTGRES_EPOCH
    written: dict[tuple[str, type, Any], bytes] = {}
    parts = [COPY_SIGNATURE]
    append = parts.append
    for reading in readings:
        kind, value = reading.kind, reading.value
        if type(value) in _REUSABLE and not (value == 0 and type(value) is float):
            key = (kind, type(value), value)
            fields = written.get(key)
            if fields is None:
                fields = written[key] = _copy_fields(kind, value)
        else:
            fields = _copy_fields(kind, value)
        since = reading.measured_at - epoch
        append(head)
        append(_int8(8, reading.sequence))
        append(fields)
        append(_int8(8, (since.days * 86_400 + since.seconds) * 1_000_000 + since.microseconds))
        append(received)
    append(COPY_TRAILER)
    return b"".join(parts)


def _copy(device: Device, readings: Sequence[ReadingLike], received_at: datetime) -> None:
    raw = connection.connection
    assert raw is not None
    with (
        connection.wrap_database_errors,  # as Django's own cursors: a database that is gone is a 503
        raw.cursor() as cursor,
        cursor.copy(f"COPY {sql.table(Reading)} ({_columns()}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.write(copy_rows(device.pk, readings, received_at))


def _insert_on_conflict(device: Device, readings: Sequence[ReadingLike], received_at: datetime) -> set[int]:
    table, columns = sql.table(Reading), _columns()
    unique = ", ".join(sql.column(Reading, name) for name in ("device", "sequence", "measured_at"))
    conflict = f"ON CONFLICT ({unique}) DO NOTHING RETURNING {sql.column(Reading, 'sequence')}"
    if connection.vendor == "postgresql":
        # The batch travels as one JSON document that PostgreSQL unpacks itself: three parameters whatever
        # the batch size, no per-value quoting in Python, and a JSON null becomes SQL NULL.
        document = json.dumps(
            [
                {
                    "s": reading.sequence,
                    "k": reading.kind,
                    "v": reading.value,
                    "n": numeric_value(reading.kind, reading.value),
                    "m": reading.measured_at.isoformat(),
                }
                for reading in readings
            ],
            allow_nan=False,
        )
        statement = (
            f"INSERT INTO {table} ({columns}) SELECT %s, e.s, e.k, e.v, e.n, e.m, %s "  # noqa: S608
            f"FROM json_to_recordset(%s::json) AS e(s int8, k varchar, v jsonb, n float8, m timestamptz) {conflict}"
        )
        parameters: list[Any] = [device.pk, received_at, document]
    else:
        row = f"({sql.placeholders(len(FIELDS))})"
        statement = f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(readings))} {conflict}"  # noqa: S608
        parameters = []
        device_id = sql.model_field(Reading, "device").get_db_prep_save(device.pk, connection)
        received = sql.model_field(Reading, "received_at").get_db_prep_save(received_at, connection)
        measured = sql.model_field(Reading, "measured_at")
        for reading in readings:
            parameters += [
                device_id,
                reading.sequence,
                reading.kind,
                json.dumps(reading.value, allow_nan=False) if reading.value is not None else None,
                numeric_value(reading.kind, reading.value),
                measured.get_db_prep_save(reading.measured_at, connection),
                received,
            ]
    with connection.cursor() as cursor:
        cursor.execute(statement, parameters)
        return {row[0] for row in cursor.fetchall()}


def _state_change(device: Device, stored: Sequence[ReadingLike]) -> tuple[str, list[Any]] | None:
    """The device's state after these readings as one ``UPDATE``: last seen from the newest heartbeat, the
    battery level from the newest battery reading, neither moving backwards when older readings arrive late,
    and the row left as it is when neither is newer. None when there is neither kind among them."""
    latest_heartbeat: datetime | None = None
    latest_battery: ReadingLike | None = None
    for reading in stored:
        if reading.kind == HEARTBEAT:
            if latest_heartbeat is None or reading.measured_at > latest_heartbeat:
                latest_heartbeat = reading.measured_at
        elif reading.kind == BATTERY and (latest_battery is None or reading.measured_at > latest_battery.measured_at):
            latest_battery = reading
    if latest_heartbeat is None and latest_battery is None:
        return None

    def moment(value: datetime | None) -> Any:
        return connection.ops.adapt_datetimefield_value(value) if value is not None else None

    seen, level, measured = (
        sql.column(Device, name) for name in ("last_seen_at", "battery_level", "battery_measured_at")
    )
    heartbeat_newer = f"(%s IS NOT NULL AND ({seen} IS NULL OR {seen} < %s))"
    battery_newer = f"(%s IS NOT NULL AND ({measured} IS NULL OR {measured} < %s))"
    heartbeat_at = moment(latest_heartbeat)
    battery_at = moment(latest_battery.measured_at if latest_battery else None)
    battery_level = round(latest_battery.value) if latest_battery is not None else None
    statement = (
        f"UPDATE {sql.table(Device)} SET "  # noqa: S608
        f"{seen} = CASE WHEN {heartbeat_newer} THEN %s ELSE {seen} END, "
        f"{level} = CASE WHEN {battery_newer} THEN %s ELSE {level} END, "
        f"{measured} = CASE WHEN {battery_newer} THEN %s ELSE {measured} END "
        f"WHERE {sql.column(Device, 'id')} = %s AND ({heartbeat_newer} OR {battery_newer})"
    )
    heartbeat, battery = [heartbeat_at, heartbeat_at], [battery_at, battery_at]
    device_id = Device._meta.pk.get_db_prep_value(device.pk, connection)
    values = [*heartbeat, heartbeat_at, *battery, battery_level, *battery, battery_at]
    return statement, [*values, device_id, *heartbeat, *battery]


def _device_state_update(device: Device, stored: Sequence[ReadingLike]) -> None:
    """Write ``_state_change`` on its own (on PostgreSQL ``_rules_in_context`` writes it with its question)."""
    change = _state_change(device, stored)
    if change is not None:
        with connection.cursor() as cursor:
            cursor.execute(*change)


@dataclass(frozen=True)
class RulesContext:
    """The model's active rules for a batch's kinds, and what evaluating them needs of the device."""

    rules: list[AlertRule]
    citizen_id: Any  # the citizen of the device's active assignment, or None
    missing_data_open: bool  # whether the device has an unresolved missing-data alert


_RULE_COLUMNS = sql.Select(*(("r", AlertRule, field.name) for field in AlertRule._meta.concrete_fields))
_RULE_NAMES = [field.attname for field in AlertRule._meta.concrete_fields]


def _rules_in_context(
    device: Device, kinds: set[str], state_change: tuple[str, list[Any]] | None = None
) -> RulesContext:
    """The model's active rules for these kinds with the device's context, in one statement without the
    ORM's per-query compilation; on PostgreSQL the same statement writes ``state_change`` first (a
    data-modifying ``WITH``), so a batch's state and rules cost one round trip."""
    device_id = Device._meta.pk.get_db_prep_value(device.pk, connection)
    assignment = {name: sql.column(Assignment, name, "a") for name in ("citizen", "device", "returned_at")}
    alert = {name: sql.column(Alert, name, "x") for name in ("device", "kind", "status")}
    rule = {name: sql.column(AlertRule, name, "r") for name in ("device_model", "is_active", "kind")}
    statement = (
        f"SELECT (SELECT {assignment['citizen']} FROM {sql.table(Assignment)} a "  # noqa: S608
        f"WHERE {assignment['device']} = %s AND {assignment['returned_at']} IS NULL), "
        f"EXISTS (SELECT 1 FROM {sql.table(Alert)} x WHERE {alert['device']} = %s AND {alert['kind']} = %s "
        f"AND {alert['status']} IN ({sql.placeholders(len(OPEN_ALERT_STATUSES))})), {_RULE_COLUMNS.sql()} "
        f"FROM (SELECT 1 AS one) device_context LEFT JOIN {sql.table(AlertRule)} r ON {rule['device_model']} = %s "
        f"AND {rule['is_active']} AND {rule['kind']} IN ({sql.placeholders(len(kinds))})"
    )
    statuses = [str(status.value) for status in OPEN_ALERT_STATUSES]
    model_id = DeviceModel._meta.pk.get_db_prep_value(device.model_id, connection)
    parameters = [device_id, device_id, HEARTBEAT, *statuses, model_id, *sorted(kinds)]
    if state_change is not None:
        assert connection.vendor == "postgresql", "a data-modifying WITH is PostgreSQL's"
        update, update_parameters = state_change
        statement = f"WITH device_state AS ({update}) {statement}"
        parameters = [*update_parameters, *parameters]
    rows = sql.fetch(statement, parameters)
    citizen_id, missing_data_open = rows[0][0], bool(rows[0][1])
    rules = [
        AlertRule.from_db(connection.alias, _RULE_NAMES, list(values))
        for values in _RULE_COLUMNS.rows([row[2:] for row in rows if row[2] is not None])
    ]
    return RulesContext(rules, sql.value_of(Assignment, "citizen", citizen_id), missing_data_open)


def _citizen(citizen_id: Any) -> Citizen | None:
    """The assigned citizen as a reference: the key now, any other field loaded if and when it is read."""
    if citizen_id is None:
        return None
    pk = Citizen._meta.pk
    assert pk is not None
    return Citizen.from_db(connection.alias, [pk.attname], [pk.to_python(citizen_id)])


Trigger = tuple[AlertRule, str, ReadingLike, int]  # rule, severity, the reading that stands for it, breaches


def _alerts_add(device: Device, triggers: list[Trigger], citizen: Citizen | None) -> list[Trigger]:
    """Add the batch's breaches to the alerts already unresolved for them, as ``alert_raise`` adds to one
    (the count grows, the last moment moves forward, a higher severity replaces a lower one with its value
    and is announced), in one statement for the whole batch on PostgreSQL. Returns the triggers that had
    no unresolved alert, for ``alert_raise`` to open; elsewhere, all of them."""
    if connection.vendor != "postgresql":
        return triggers
    listed: list[Any] = []
    for rule, severity, reading, count in triggers:
        # As alert_raise decides it: a health alert is the assigned citizen's, with nobody to tell it is IT's.
        concerned = citizen.pk if citizen is not None and rule.audience == AlertAudience.CARE else None
        listed += [rule.pk, concerned, count, reading.measured_at, severity,
                   numeric_value(reading.kind, reading.value)]  # fmt: skip
    rank = "CASE {} " + " ".join("WHEN %s THEN %s" for _ in SEVERITY_RANK) + " END"
    ranks = [item for pair in SEVERITY_RANK.items() for item in (str(pair[0]), pair[1])]
    alerts = sql.table(Alert)
    alert_id, rule_column, citizen_column, device_column, status, severity = (
        sql.column(Alert, name, "a") for name in ("id", "rule", "citizen", "device", "status", "severity")
    )
    target = {name: sql.column(Alert, name) for name in ("trigger_count", "last_triggered_at", "severity", "value")}
    current = {name: f"{alerts}.{column}" for name, column in target.items()}
    rows = ", ".join(["(%s::uuid, %s::uuid, %s::int, %s::timestamptz, %s::varchar, %s::float8)"] * len(triggers))
    open_statuses = sql.placeholders(len(OPEN_ALERT_STATUSES))
    statement = (
        f"WITH listed (rule_id, citizen_id, occurrences, at, severity, value) AS (VALUES {rows}), "  # noqa: S608
        f"held AS (SELECT {alert_id} AS id, listed.*, "
        f"{rank.format('listed.severity')} > {rank.format(severity)} AS raised "
        f"FROM {alerts} a JOIN listed ON {rule_column} = listed.rule_id AND {citizen_column} IS NOT DISTINCT FROM "
        f"listed.citizen_id WHERE {device_column} = %s AND {status} IN ({open_statuses}) FOR UPDATE OF a) "
        f"UPDATE {alerts} SET {target['trigger_count']} = {current['trigger_count']} + held.occurrences, "
        f"{target['last_triggered_at']} = GREATEST({current['last_triggered_at']}, held.at), "
        f"{target['severity']} = CASE WHEN held.raised THEN held.severity ELSE {current['severity']} END, "
        f"{target['value']} = CASE WHEN held.raised THEN held.value ELSE {current['value']} END "
        f"FROM held WHERE {alerts}.{sql.column(Alert, 'id')} = held.id "
        "RETURNING held.id, held.rule_id, held.raised, held.severity"
    )
    parameters = [*listed, *ranks, *ranks, device.pk, *(str(status) for status in OPEN_ALERT_STATUSES)]
    with connection.cursor() as cursor:
        cursor.execute(statement, parameters)
        added = cursor.fetchall()
    for alert_id, _, raised, severity in added:
        if raised:
            transaction.on_commit(partial(events.device_alert_raised, alert_id=alert_id, severity=severity))
    done = {rule_id for _, rule_id, _, _ in added}
    return [trigger for trigger in triggers if trigger[0].pk not in done]


def rules_evaluate(device: Device, stored: Sequence[ReadingLike], rules: list[AlertRule], citizen_id: Any) -> int:
    """Raise (or add to) one alert per breached rule, a health alert for the citizen ``citizen_id`` (of the
    device's active assignment); returns the number of alerts touched."""
    by_kind: dict[str, list[ReadingLike]] = defaultdict(list)
    for reading in stored:
        by_kind[reading.kind].append(reading)
    triggers: list[Trigger] = []
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
            # The first reading of the highest severity stands for the batch; every breach is counted.
            worst: tuple[str, ReadingLike] | None = None
            count = 0
            for reading in readings:
                value = numeric_value(reading.kind, reading.value)
                severity = threshold_severity(rule, value) if value is not None else None
                if severity is None:
                    continue
                count += 1
                if worst is None or (severity == AlertSeverity.ALERT and worst[0] != AlertSeverity.ALERT):
                    worst = (severity, reading)
            if worst is not None:
                triggers.append((rule, worst[0], worst[1], count))
    if not triggers:
        return 0
    citizen = _citizen(citizen_id)
    for rule, severity, reading, count in _alerts_add(device, triggers, citizen):
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


def _screen(readings: Sequence[ReadingLike], horizon: datetime) -> tuple[list[ReadingLike], dict[int, str] | None]:
    """The readings to store: each sequence's first reading, unless measured beyond ``horizon``; with each
    sequence's status so far when any reading is left out (None when all of them are to be stored)."""
    if len({reading.sequence for reading in readings}) == len(readings) and (
        not readings or max(reading.measured_at for reading in readings) <= horizon
    ):
        return list(readings), None
    statuses: dict[int, str] = {}
    candidates: list[ReadingLike] = []
    for reading in readings:
        sequence = reading.sequence
        if sequence in statuses:
            continue
        if reading.measured_at > horizon:
            statuses[sequence] = REFUSED
        else:
            statuses[sequence] = STORED
            candidates.append(reading)
    return candidates, statuses


@transaction.atomic
def _store(device: Device, candidates: list[ReadingLike], received_at: datetime, mode: str) -> list[ReadingLike]:
    """Store the candidates (``_insert``), then bring the device's state and alerts up to date with the
    readings stored; returns those."""
    stored_sequences = _insert(device, candidates, received_at, mode=mode)
    stored = candidates
    if len(stored_sequences) != len(candidates):
        stored = [reading for reading in candidates if reading.sequence in stored_sequences]
    if not stored:
        return stored
    kinds = {reading.kind for reading in stored}
    state_change = _state_change(device, stored)
    if connection.vendor == "postgresql":
        context = _rules_in_context(device, kinds, state_change)
    else:
        _device_state_update(device, stored)
        context = _rules_in_context(device, kinds)
    rules_evaluate(device, stored, context.rules, context.citizen_id)
    if HEARTBEAT in kinds and context.missing_data_open:
        alerts_resolve_missing_data(device=device)
    return stored


def telemetry_ingest(*, device: Device, readings: Sequence[ReadingLike]) -> list[ReadingResult]:
    """Store a batch of readings and evaluate the model's rules over the new ones, in one transaction.

    Readings measured more than MAX_FUTURE ahead of the server clock are refused; a sequence seen before
    (in an earlier batch or earlier in this one) is a duplicate; everything else is stored, in any order.
    """
    now = timezone.now()
    candidates, statuses = _screen(readings, now + MAX_FUTURE)
    # Called outside a transaction (as a request is), the ingest's transaction begins with the COPY.
    mode = COPY_IN_SAVEPOINT if connection.in_atomic_block else COPY_ALONE
    try:
        stored = _store(device, candidates, now, mode)
    except AlreadyStored:
        stored = _store(device, candidates, now, SORT)
    if statuses is None and len(stored) == len(readings):
        return [ReadingResult(reading.sequence, STORED) for reading in readings]
    if statuses is None:
        statuses = dict.fromkeys((reading.sequence for reading in candidates), STORED)
    if len(stored) != len(candidates):
        kept = {reading.sequence for reading in stored}
        for reading in candidates:
            if reading.sequence not in kept:
                statuses[reading.sequence] = DUPLICATE
    results: list[ReadingResult] = []
    for reading in readings:
        status = statuses.pop(reading.sequence, DUPLICATE)
        results.append(ReadingResult(reading.sequence, status, "measured_in_future" if status == REFUSED else ""))
    return results
