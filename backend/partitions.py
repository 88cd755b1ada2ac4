"""Monthly partitions of the history tables on PostgreSQL: made ahead, dropped whole when expired.

The access log (by ``at``) and telemetry readings (by ``measured_at``) are partitioned here; other apps
register their own history tables (``register``, from their app config: the notifications app's stream
events, reminders and push deliveries). Each is partitioned by range, one partition per calendar month
(UTC) named ``<table>_pYYYYMM``, plus a default partition that takes a row whose month has none (a device's
clock far off, or a month the periodic job did not reach). The primary key is ``(id, <partition column>)``:
PostgreSQL requires the partition column in every unique constraint, and the unique keys a table names in
``widened`` get it as their last column (the code that writes the table keeps them unique without it).
The partition column is never changed by an update: a row stays in the partition it was written to.
SQLite keeps plain tables; everything here does nothing there.

``partitions_ensure`` (the ``partitions`` periodic command) makes the coming months' partitions ahead of
time, moving any rows the default partition holds for a month into its new partition. Retention drops a
month's partition whole once all of it is past the cutoff, through the database function
``mestring_partition_drop``, which refuses a partition of the access log whose month ends within the last
365 days: the same floor the delete trigger keeps for rows (``backend/migrations/0004``).
"""

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Model
from django.utils import timezone

from backend import sql

logger = logging.getLogger(__name__)

MONTHS_AHEAD = 3
DROP_LOCK_TIMEOUT = "5s"


def kept_for_good() -> int:
    return 0


def setting_days(name: str) -> Callable[[], int]:
    """A retention read from the setting ``name`` (days) when it is asked for."""
    return lambda: int(getattr(settings, name))


type ModelRef = type[Model] | str
# A partition's rows that keep its month from being dropped, for a cutoff: an SQL condition on the partition's
# columns, and its parameters.
type KeepWhile = Callable[[datetime], tuple[str, list[Any]]]


def _model(reference: ModelRef) -> type[Model]:
    return apps.get_model(reference) if isinstance(reference, str) else reference


def _label(reference: ModelRef) -> str:
    return reference if isinstance(reference, str) else reference._meta.label


@dataclass(frozen=True)
class Partitioned:
    """A model's table partitioned by month of its field ``field`` (a timestamp no update changes). The model
    is named by its label (``"app_label.Model"``) where the kernel must not import its app.

    ``retention_days``: days of history kept (0 keeps everything). ``widened``: its unique constraints and
    unique indexes that get the partition column on PostgreSQL. ``keep_while``: for the retention cutoff, an
    SQL condition on a partition's rows and its parameters: a month past retention holding a row that meets
    it is not dropped. ``referenced_by``: (model, field) pairs that point at this table's ids without a
    foreign key (PostgreSQL cannot have one into a partitioned table on the id alone); they are set to NULL
    for the rows of a partition dropped, as ``ON DELETE SET NULL`` would.
    """

    model: ModelRef
    field: str
    retention_days: Callable[[], int] = kept_for_good
    widened: tuple[str, ...] = ()
    keep_while: KeepWhile | None = None
    referenced_by: tuple[tuple[ModelRef, str], ...] = ()

    @property
    def table(self) -> str:
        """The table's name, unquoted (from the model's metadata)."""
        return sql.table_name(_model(self.model))

    @property
    def column(self) -> str:
        """The partition column's name, unquoted."""
        return sql.column_name(_model(self.model), self.field)

    @property
    def key(self) -> str:
        """The primary key's column, unquoted."""
        model = _model(self.model)
        return sql.column_name(model, model._meta.pk.name)


ACCESS_LOG = Partitioned("backend.AccessLogEntry", "at", setting_days("ACCESS_LOG_RETENTION_DAYS"))
READINGS = Partitioned("velfaerdsteknologi.Reading", "measured_at", setting_days("TELEMETRY_RETENTION_DAYS"))
_SPECS: dict[str, Partitioned] = {_label(spec.model): spec for spec in (ACCESS_LOG, READINGS)}


def register(*specs: Partitioned) -> None:
    """Add an app's partitioned tables to those made ahead and dropped when expired."""
    for spec in specs:
        _SPECS[_label(spec.model)] = spec


def tables() -> tuple[Partitioned, ...]:
    return tuple(_SPECS.values())


def month_start(moment: date | datetime) -> date:
    return date(moment.year, moment.month, 1)


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def months(first: date, last: date) -> Iterable[date]:
    month = month_start(first)
    while month <= last:
        yield month
        month = next_month(month)


def partition_name(table: str, month: date) -> str:
    return f"{table}_p{month:%Y%m}"


def default_name(table: str) -> str:
    return f"{table}_default"


def _bound(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def is_partitioned(table: str) -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(%s)", [table])
        return cursor.fetchone() is not None


def partitions_of(table: str) -> dict[str, tuple[datetime, datetime] | None]:
    """The table's partitions: name → (from, to), or None for the default partition."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(%s) ORDER BY c.relname",
            [table],
        )
        rows = cursor.fetchall()
    found: dict[str, tuple[datetime, datetime] | None] = {}
    for name, bound in rows:
        # PostgreSQL's own text of the bound: FOR VALUES FROM ('…') TO ('…'), or DEFAULT.
        if bound == "DEFAULT":
            found[name] = None
            continue
        low, high = bound.split("FROM ('", 1)[1].split("') TO ('", 1)
        found[name] = (_timestamp(low), _timestamp(high.split("'", 1)[0]))
    return found


def _timestamp(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def create_partition(spec: Partitioned, month: date) -> bool:
    """Make the month's partition when missing; rows the default partition holds for it move in. True
    when it was made."""
    name = partition_name(spec.table, month)
    quote = connection.ops.quote_name
    start, end = _bound(month), _bound(next_month(month))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        if cursor.fetchone()[0]:
            return False
        default = default_name(spec.table)
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [default])
        has_default = cursor.fetchone()[0]
        waiting = 0
        if has_default:
            cursor.execute(
                f"SELECT count(*) FROM {quote(default)} WHERE {quote(spec.column)} >= %s AND {quote(spec.column)} < %s",  # noqa: S608
                [start, end],
            )
            waiting = cursor.fetchone()[0]
        if not waiting:
            cursor.execute(
                f"CREATE TABLE {quote(name)} PARTITION OF {quote(spec.table)} FOR VALUES FROM (%s) TO (%s)",
                [start.isoformat(), end.isoformat()],
            )
            return True
        # The default partition holds rows of this month: they move into the new table before it is attached.
        cursor.execute(f"LOCK TABLE {quote(spec.table)} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(
            f"CREATE TABLE {quote(name)} (LIKE {quote(spec.table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        )
        cursor.execute(
            f"WITH moved AS (DELETE FROM {quote(default)} WHERE {quote(spec.column)} >= %s "  # noqa: S608
            f"AND {quote(spec.column)} < %s RETURNING *) INSERT INTO {quote(name)} SELECT * FROM moved",
            [start, end],
        )
        cursor.execute(
            f"ALTER TABLE {quote(spec.table)} ATTACH PARTITION {quote(name)} FOR VALUES FROM (%s) TO (%s)",
            [start.isoformat(), end.isoformat()],
        )
        return True


def partitions_ensure(now: datetime | None = None, ahead: int = MONTHS_AHEAD) -> list[str]:
    """Make every partitioned table's partitions from this month to ``ahead`` months on; returns the
    partitions made. Nothing on SQLite."""
    now = now or timezone.now()
    made: list[str] = []
    for spec in tables():
        if not is_partitioned(spec.table):
            continue
        last = month_start(now)
        for _ in range(ahead):
            last = next_month(last)
        for month in months(now, last):
            if create_partition(spec, month):
                made.append(partition_name(spec.table, month))
    return made


def expired_partitions(spec: Partitioned, now: datetime) -> list[str]:
    """The month partitions of ``spec`` entirely older than its retention cutoff, but for those holding a row
    its ``keep_while`` keeps."""
    days = spec.retention_days()
    if not days or not is_partitioned(spec.table):
        return []
    cutoff = now - timedelta(days=days)
    past = sorted(name for name, bound in partitions_of(spec.table).items() if bound is not None and bound[1] <= cutoff)
    return [name for name in past if not _kept(spec, name, cutoff)]


def _kept(spec: Partitioned, name: str, cutoff: datetime) -> bool:
    if spec.keep_while is None:
        return False
    condition, parameters = spec.keep_while(cutoff)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {connection.ops.quote_name(name)} WHERE {condition})",  # noqa: S608
            parameters,
        )
        return cursor.fetchone()[0]


def partitions_drop_expired(now: datetime | None = None) -> dict[str, list[str]]:
    """Drop each table's partitions past its retention whole (the rows of a month partly past it are left
    to the row-wise purge); returns the partitions dropped per table."""
    now = now or timezone.now()
    dropped: dict[str, list[str]] = {}
    for spec in tables():
        names = expired_partitions(spec, now)
        for name in names:
            if _drop(spec, name):
                dropped.setdefault(spec.table, []).append(name)
    return dropped


def _drop(spec: Partitioned, name: str) -> bool:
    """Drop one partition; False when its table stayed locked by others for DROP_LOCK_TIMEOUT (a drop waiting
    for its lock would hold every writer of the table up behind it: it is tried again on the next run)."""
    from psycopg.errors import LockNotAvailable

    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [DROP_LOCK_TIMEOUT])
            quote = connection.ops.quote_name
            for reference, name_of_field in spec.referenced_by:
                model = _model(reference)
                column = sql.column(model, name_of_field)
                cursor.execute(
                    f"UPDATE {sql.table(model)} SET {column} = NULL "  # noqa: S608
                    f"WHERE {column} IN (SELECT {quote(spec.key)} FROM {quote(name)})"
                )
            cursor.execute("SELECT mestring_partition_drop(%s, %s)", [spec.table, name])
    except OperationalError as error:
        if not isinstance(error.__cause__, LockNotAvailable):
            raise
        logger.warning("partition %s not dropped: its table stayed locked for %s", name, DROP_LOCK_TIMEOUT)
        return False
    return True


# --- Conversion (migrations) ---------------------------------------------------------------------------

# The earliest month given a partition of its own when a table is converted; older rows go to the default
# partition (a device's clock set to 1970 must not make six hundred partitions).
CONVERT_MONTHS_BACK = 120


def drop_function() -> str:
    """``mestring_partition_drop``: drops a month partition of a table, but none of the access log's whose
    month ends within the last 365 days."""
    access_log = sql.table_name(_model(ACCESS_LOG.model))
    assert re.fullmatch(r"\w+", access_log), access_log
    return _DROP_FUNCTION.replace("{access_log}", access_log)


_DROP_FUNCTION = """
CREATE OR REPLACE FUNCTION mestring_partition_drop(parent text, part text) RETURNS void AS $$
DECLARE
    bound text;
    upper_bound timestamptz;
BEGIN
    SELECT pg_get_expr(c.relpartbound, c.oid) INTO bound
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = to_regclass(parent) AND c.oid = to_regclass(part);
    IF bound IS NULL THEN
        RAISE EXCEPTION '% is not a partition of %', part, parent;
    END IF;
    IF bound = 'DEFAULT' THEN
        RAISE EXCEPTION 'the default partition of % is not dropped', parent;
    END IF;
    upper_bound := substring(bound FROM 'TO \\(''([^'']*)''\\)')::timestamptz;
    IF parent = '{access_log}' AND upper_bound > now() - interval '365 days' THEN
        RAISE EXCEPTION 'access-log rows are kept for at least a year';
    END IF;
    EXECUTE format('DROP TABLE %I', part);
END;
$$ LANGUAGE plpgsql;
"""


def _fetch(cursor, statement: str, params: list | None = None) -> list[tuple]:
    cursor.execute(statement, params or [])
    return cursor.fetchall()


def _widened(definition: str, column: str, *, partitioned: bool) -> str:
    """A unique constraint's or unique index's definition with the partition column last among its
    columns (``partitioned``), or without it again."""
    columns = re.search(r"(UNIQUE \(|USING btree \()([^)]*)\)", definition)
    if columns is None:
        raise RuntimeError(f"not a unique key: {definition}")
    names = [name.strip() for name in columns.group(2).split(",") if name.strip() != column]
    if partitioned:
        names.append(column)
    return f"{definition[: columns.start(2)]}{', '.join(names)}{definition[columns.end(2) :]}"


def _rebuild(schema_editor, spec: Partitioned, *, partitioned: bool, now: datetime | None = None) -> None:
    """Remake ``spec``'s table as a partitioned one (or back as a plain one) with every row, index,
    constraint and trigger it had, and its id sequence where it was."""
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.connection.ops.quote_name
    table, column, key = spec.table, spec.column, spec.key
    old = f"{table}_rebuilt"
    with schema_editor.connection.cursor() as cursor:
        referencing = _fetch(cursor, "SELECT conname FROM pg_constraint WHERE confrelid = to_regclass(%s)", [table])
        if referencing:
            raise RuntimeError(f"{table} is referenced by {referencing}; it cannot be rebuilt")
        indexes = _fetch(
            cursor,
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = to_regclass(%s) AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid)",
            [table],
        )
        constraints = _fetch(
            cursor,
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = to_regclass(%s) AND contype IN ('p', 'u', 'c', 'f') ORDER BY contype <> 'p', conname",
            [table],
        )
        triggers = _fetch(
            cursor,
            "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = to_regclass(%s) "
            "AND NOT tgisinternal AND tgparentid = 0",
            [table],
        )
        sequence_state: tuple | None = None
        (sequence,) = _fetch(cursor, "SELECT pg_get_serial_sequence(%s, %s)", [table, key])[0]
        if sequence:
            sequence_state = _fetch(cursor, f"SELECT last_value, is_called FROM {sequence}")[0]  # noqa: S608
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
        for name, _kind, _definition in constraints:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        cursor.execute(f"ALTER TABLE {quote(table)} RENAME TO {quote(old)}")
        scheme = f" PARTITION BY RANGE ({quote(column)})" if partitioned else ""
        cursor.execute(
            f"CREATE TABLE {quote(table)} (LIKE {quote(old)} INCLUDING DEFAULTS INCLUDING IDENTITY "
            f"INCLUDING STORAGE INCLUDING COMMENTS){scheme}"
        )
        if partitioned:
            now = now or timezone.now()
            (earliest,) = _fetch(cursor, f"SELECT min({quote(column)}) FROM {quote(old)}")[0]  # noqa: S608
            first = month_start(now)
            floor = first
            for _ in range(CONVERT_MONTHS_BACK):
                floor = date(floor.year - (floor.month == 1), (floor.month - 2) % 12 + 1, 1)
            if earliest is not None:
                first = max(min(first, month_start(earliest)), floor)
            last = month_start(now)
            for _ in range(MONTHS_AHEAD):
                last = next_month(last)
            for month in months(first, last):
                cursor.execute(
                    f"CREATE TABLE {quote(partition_name(table, month))} PARTITION OF {quote(table)} "
                    "FOR VALUES FROM (%s) TO (%s)",
                    [_bound(month).isoformat(), _bound(next_month(month)).isoformat()],
                )
            cursor.execute(f"CREATE TABLE {quote(default_name(table))} PARTITION OF {quote(table)} DEFAULT")
            cursor.execute(drop_function())
        # Rows first, then keys and indexes built once over them.
        cursor.execute(f"INSERT INTO {quote(table)} SELECT * FROM {quote(old)}")  # noqa: S608
        for name, kind, definition in constraints:
            if kind == "p":
                definition = (
                    f"PRIMARY KEY ({quote(key)}, {quote(column)})" if partitioned else f"PRIMARY KEY ({quote(key)})"
                )
            elif name in spec.widened:
                definition = _widened(definition, column, partitioned=partitioned)
            cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
        for name, definition in indexes:
            if name in spec.widened:
                definition = _widened(definition, column, partitioned=partitioned)
            cursor.execute(definition)
        if sequence_state is not None:
            (new_sequence,) = _fetch(cursor, "SELECT pg_get_serial_sequence(%s, %s)", [table, key])[0]
            cursor.execute("SELECT setval(%s, %s, %s)", [new_sequence, *sequence_state])
        for _name, definition in triggers:
            cursor.execute(definition)
        cursor.execute(f"DROP TABLE {quote(old)}")


def partition_table(spec: Partitioned):
    """A migration's forward step: ``spec``'s table becomes partitioned by month (PostgreSQL only)."""

    def forwards(apps, schema_editor) -> None:
        _rebuild(schema_editor, spec, partitioned=True)

    def backwards(apps, schema_editor) -> None:
        _rebuild(schema_editor, spec, partitioned=False)

    return forwards, backwards
