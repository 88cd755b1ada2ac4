"""Monthly partitions of the access log and telemetry readings (PostgreSQL), and their retention."""

from datetime import timedelta

import psycopg
import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from backend import partitions
from backend.models import AccessLogEntry
from backend.tasks import retention_purge
from tests import factories
from velfaerdsteknologi.models import Reading

postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions are PostgreSQL's")

BEFORE = [("backend", "0006_access_version"), ("velfaerdsteknologi", "0006_assignment_care_references")]
AFTER = [("backend", "0007_access_log_partitioned"), ("velfaerdsteknologi", "0007_reading_partitioned")]


def migrate(targets: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.fixture
def every_migration_restored():
    """Going back to BEFORE also unapplies the migrations that depend on AFTER's (other apps' later ones);
    the database is left with every migration applied, as the tests after this one expect."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def insert_access_log(citizen_id, at, resource_id: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO backend_accesslogentry (at, actor_name, actor_role, citizen_id, resource_type, resource_id, "
            "action, purpose, request_id) VALUES (%s, 'Test', 'therapist', %s, 'citizen', %s, 'read', 'care', '')",
            [at, citizen_id, resource_id],
        )


def insert_reading(device_id, sequence: int, measured_at) -> None:
    Reading.objects.create(
        device_id=device_id,
        sequence=sequence,
        kind="battery",
        value=sequence,
        numeric_value=float(sequence),
        measured_at=measured_at,
        received_at=timezone.now(),
    )


def rows(table: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} ORDER BY id")  # noqa: S608 — test's own names
        return cursor.fetchall()


def sequences(table: str) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT sequence FROM {table} ORDER BY sequence")  # noqa: S608 — test's own names
        return [row[0] for row in cursor.fetchall()]


def check_foreign_keys_now() -> None:
    """The test's rows are inserted in the transaction that drops their partition; PostgreSQL refuses to
    drop a table with foreign-key checks still pending in it (in production the two never share one)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def partition_names(table: str) -> set[str]:
    return set(partitions.partitions_of(table))


@postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("every_migration_restored")
def test_the_migration_partitions_tables_with_rows_in_them_without_losing_one():
    citizen = factories.CitizenFactory()
    device = factories.DeviceFactory()
    migrate(BEFORE)
    assert not partitions.is_partitioned(partitions.ACCESS_LOG.table)
    now = timezone.now()
    moments = [now - timedelta(days=days) for days in (3 * 365, 400, 40, 1, 0)]
    for number, at in enumerate(moments):
        insert_access_log(citizen.pk, at, f"row-{number}")
    # A device clock set to 1970 and one a year ahead: both rows must survive.
    for sequence, at in enumerate([*moments, now.replace(year=1970), now + timedelta(days=365)], start=1):
        insert_reading(device.pk, sequence, at)
    log_before, readings_before = rows("backend_accesslogentry"), rows("velfaerdsteknologi_reading")

    migrate(AFTER)

    assert partitions.is_partitioned(partitions.ACCESS_LOG.table)
    assert partitions.is_partitioned(partitions.READINGS.table)
    assert rows("backend_accesslogentry") == log_before
    assert rows("velfaerdsteknologi_reading") == readings_before
    made = partition_names(partitions.READINGS.table)
    assert partitions.partition_name(partitions.READINGS.table, partitions.month_start(moments[0])) in made
    assert partitions.default_name(partitions.READINGS.table) in made
    # The ids go on from where they were, and the triggers came along.
    new = factories.AccessLogEntryFactory(citizen=citizen)
    assert new.pk > max(row[0] for row in log_before)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE backend_accesslogentry SET actor_name = 'x'")
    with pytest.raises(DatabaseError, match="at least a year"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM backend_accesslogentry WHERE resource_id = 'row-3'")

    # And back: plain tables with the same rows.
    migrate(BEFORE)
    assert not partitions.is_partitioned(partitions.READINGS.table)
    assert rows("velfaerdsteknologi_reading") == readings_before
    migrate(AFTER)
    assert rows("velfaerdsteknologi_reading") == readings_before


@postgresql
@pytest.mark.django_db
def test_partitions_are_made_ahead_and_take_the_rows_waiting_in_the_default_partition():
    device = factories.DeviceFactory()
    now = timezone.now()
    far = now + timedelta(days=240)
    far_month = partitions.month_start(far)
    far_partition = partitions.partition_name(partitions.READINGS.table, far_month)
    assert far_partition not in partition_names(partitions.READINGS.table)
    insert_reading(device.pk, 1, far)
    assert sequences(partitions.default_name(partitions.READINGS.table)) == [1]

    made = partitions.partitions_ensure(now=far - timedelta(days=31))

    assert far_partition in made
    assert sequences(far_partition) == [1]
    assert sequences(partitions.default_name(partitions.READINGS.table)) == []
    assert Reading.objects.get(sequence=1).measured_at == far
    assert partitions.partitions_ensure(now=far - timedelta(days=31)) == []


@postgresql
@pytest.mark.django_db
def test_retention_drops_expired_months_whole(settings):
    settings.TELEMETRY_RETENTION_DAYS = 365
    device = factories.DeviceFactory()
    now = timezone.now()
    old = now - timedelta(days=800)
    old_partition = partitions.partition_name(partitions.READINGS.table, partitions.month_start(old))
    partitions.create_partition(partitions.READINGS, partitions.month_start(old))
    insert_reading(device.pk, 1, old)
    insert_reading(device.pk, 2, now)
    check_foreign_keys_now()

    removed = retention_purge.call()

    assert old_partition not in partition_names(partitions.READINGS.table)
    assert list(Reading.objects.values_list("sequence", flat=True)) == [2]
    assert removed["readings"] == 0  # the old month went whole, not row by row


@postgresql
@pytest.mark.django_db
def test_the_database_refuses_to_drop_an_access_log_partition_younger_than_a_year(settings):
    settings.ACCESS_LOG_RETENTION_DAYS = 365
    table = partitions.ACCESS_LOG.table
    this_month = partitions.partition_name(table, partitions.month_start(timezone.now()))
    with pytest.raises(DatabaseError, match="at least a year"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT mestring_partition_drop(%s, %s)", [table, this_month])
    assert this_month in partition_names(table)
    # Even when the application's clock says two years have passed, the database's does not.
    with pytest.raises(DatabaseError, match="at least a year"), transaction.atomic():
        partitions.partitions_drop_expired(now=timezone.now() + timedelta(days=2 * 365 + 60))
    assert this_month in partition_names(table)


@postgresql
@pytest.mark.django_db
def test_an_access_log_month_past_retention_is_dropped_and_its_rows_with_it(settings):
    settings.ACCESS_LOG_RETENTION_DAYS = 365
    citizen = factories.CitizenFactory()
    old = timezone.now() - timedelta(days=430)
    month = partitions.month_start(old)
    partitions.create_partition(partitions.ACCESS_LOG, month)
    insert_access_log(citizen.pk, old, "old")
    factories.AccessLogEntryFactory(citizen=citizen, resource_id="new")
    check_foreign_keys_now()

    retention_purge.call()

    assert partitions.partition_name(partitions.ACCESS_LOG.table, month) not in partition_names(
        partitions.ACCESS_LOG.table
    )
    assert list(AccessLogEntry.objects.values_list("resource_id", flat=True)) == ["new"]


@pytest.mark.django_db
def test_readings_past_their_retention_are_removed_and_younger_ones_kept(settings):
    settings.TELEMETRY_RETENTION_DAYS = 365
    device = factories.DeviceFactory()
    now = timezone.now()
    insert_reading(device.pk, 1, now - timedelta(days=366))
    insert_reading(device.pk, 2, now - timedelta(days=364))

    retention_purge.call()

    assert list(Reading.objects.values_list("sequence", flat=True)) == [2]


@pytest.mark.django_db
def test_readings_are_kept_without_a_retention(settings):
    settings.TELEMETRY_RETENTION_DAYS = 0
    device = factories.DeviceFactory()
    insert_reading(device.pk, 1, timezone.now() - timedelta(days=3000))

    retention_purge.call()

    assert Reading.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite keeps plain tables")
@pytest.mark.django_db
def test_sqlite_keeps_plain_tables():
    assert partitions.partitions_ensure() == []
    assert not partitions.is_partitioned(partitions.ACCESS_LOG.table)


@postgresql
@pytest.mark.django_db(transaction=True)
def test_a_drop_that_cannot_get_its_lock_waits_for_the_next_run_instead_of_holding_up_writers(settings, monkeypatch):
    settings.TELEMETRY_RETENTION_DAYS = 365
    monkeypatch.setattr(partitions, "DROP_LOCK_TIMEOUT", "200ms")
    month = partitions.month_start(timezone.now() - timedelta(days=800))
    partitions.create_partition(partitions.READINGS, month)
    name = partitions.partition_name(partitions.READINGS.table, month)
    database = connection.settings_dict
    with psycopg.connect(
        host=database["HOST"],
        port=database["PORT"],
        user=database["USER"],
        password=database["PASSWORD"],
        dbname=database["NAME"],
    ) as reader:
        # A long report holds its lock on the table (the name is the module's own constant).
        reader.execute(f"SELECT count(*) FROM {partitions.READINGS.table}")  # noqa: S608

        assert partitions.partitions_drop_expired() == {}
        assert name in partition_names(partitions.READINGS.table)

    # Earlier tests of this module may have left other expired months: they go too.
    assert name in partitions.partitions_drop_expired()[partitions.READINGS.table]
    assert name not in partition_names(partitions.READINGS.table)
