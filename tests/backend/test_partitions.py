"""Monthly partitions of the access log, telemetry readings, stream events, reminders and push deliveries
(PostgreSQL), and their retention."""

import threading
import time
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from backend import partitions
from backend.models import AccessLogEntry
from backend.tasks import retention_purge
from notifications import partitioning
from notifications.models import Notification, PushDelivery, PushInstall, ReminderOccurrence, StreamEvent
from notifications.reminders import reminders_claim
from notifications.services import ReminderSpec, reminders_schedule
from notifications.services.scheduling import SOURCE_LOCK_SPACE
from tests import factories
from velfaerdsteknologi.models import Reading

postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions are PostgreSQL's")

BEFORE = [
    ("backend", "0006_access_version"),
    ("velfaerdsteknologi", "0006_assignment_care_references"),
    ("notifications", "0005_foreign_keys_indexed_by_composites"),
]
AFTER = [
    ("backend", "0007_access_log_partitioned"),
    ("velfaerdsteknologi", "0007_reading_partitioned"),
    ("notifications", "0006_history_partitioned"),
]
NOTIFICATION_TABLES = [spec.table for spec in partitioning.HISTORY_TABLES]


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


def in_month(month: date, days: int) -> datetime:
    """``days`` after the month's first midnight (UTC)."""
    return datetime(month.year, month.month, 1, tzinfo=UTC) + timedelta(days=days)


def history_month(days_ago: int) -> date:
    """The month ``days_ago`` days back, with a partition of each of the notifications history tables."""
    month = partitions.month_start(timezone.now() - timedelta(days=days_ago))
    for spec in partitioning.HISTORY_TABLES:
        partitions.create_partition(spec, month)
    return month


def notification_for(user, **fields) -> Notification:
    return Notification(recipient=user, kind="reminder.training", text_da="x", text_en="x", **fields)


def notification_history(at: list) -> None:
    """Stream events, reminders (one a snooze of another) and push deliveries made at each of ``at``."""
    user, team = factories.UserFactory(), factories.TeamFactory()
    install = PushInstall.objects.create(user=user, fcm_token=f"token-{user.pk}", platform="android")
    first = None
    for number, moment in enumerate(at):
        notification = notification_for(user)
        notification.save()
        StreamEvent.objects.create(
            user=user, type="notification", payload={"id": str(notification.pk)}, created_at=moment
        )
        StreamEvent.objects.create(team=team, type="alert", dedupe_key=f"alert:{number}", created_at=moment)
        reminder = ReminderOccurrence.objects.create(
            recipient=user,
            kind="reminder.training",
            source_key=f"slot:{number}",
            subject_key=f"slot:{number}",
            due_at=moment,
            status=ReminderOccurrence.Status.SENT,
            notification=notification,
            snoozed_from=first,
            created_at=moment,
        )
        first = first or reminder
        PushDelivery.objects.create(notification=notification, install=install, status="sent", created_at=moment)


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
    notification_history([*moments, now.replace(year=1970)])
    log_before, readings_before = rows("backend_accesslogentry"), rows("velfaerdsteknologi_reading")
    history_before = {table: rows(table) for table in NOTIFICATION_TABLES}
    assert all(len(found) >= 6 for found in history_before.values())

    migrate(AFTER)

    assert partitions.is_partitioned(partitions.ACCESS_LOG.table)
    assert partitions.is_partitioned(partitions.READINGS.table)
    assert rows("backend_accesslogentry") == log_before
    assert rows("velfaerdsteknologi_reading") == readings_before
    for table in NOTIFICATION_TABLES:
        assert partitions.is_partitioned(table)
        assert rows(table) == history_before[table]
        assert partitions.partition_name(table, partitions.month_start(moments[1])) in partition_names(table)
    # The stream goes on after the newest event, and a reminder still finds the one it snoozed.
    event = StreamEvent.objects.create(user=factories.UserFactory(), type="notification")
    assert event.pk > max(row[0] for row in history_before["notifications_streamevent"])
    snoozes = ReminderOccurrence.objects.filter(snoozed_from__isnull=False)
    assert {snooze.snoozed_from.source_key for snooze in snoozes} == {"slot:0"}
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

    # And back: plain tables with the same rows, their unique keys as they were.
    history_after = {table: rows(table) for table in NOTIFICATION_TABLES}
    migrate(BEFORE)
    assert not partitions.is_partitioned(partitions.READINGS.table)
    assert rows("velfaerdsteknologi_reading") == readings_before
    for table in NOTIFICATION_TABLES:
        assert not partitions.is_partitioned(table)
        assert rows(table) == history_after[table]
    with pytest.raises(DatabaseError, match="reminder_one_per_recipient_source"), transaction.atomic():
        ReminderOccurrence.objects.create(
            recipient=snoozes[0].recipient,
            kind="reminder.training",
            source_key="slot:0",
            subject_key="slot:0",
            due_at=now,
        )
    migrate(AFTER)
    assert rows("velfaerdsteknologi_reading") == readings_before
    for table in NOTIFICATION_TABLES:
        assert rows(table) == history_after[table]


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

        # (Other tables' expired months, left by earlier tests of this module, may go meanwhile.)
        assert partitions.READINGS.table not in partitions.partitions_drop_expired()
        assert name in partition_names(partitions.READINGS.table)

    # Earlier tests of this module may have left other expired months: they go too.
    assert name in partitions.partitions_drop_expired()[partitions.READINGS.table]
    assert name not in partition_names(partitions.READINGS.table)


def reminder_at(recipient, key: str, *, made: object, due: object, status: str, snoozed_from=None):
    return ReminderOccurrence.objects.create(
        recipient=recipient,
        kind="reminder.training",
        source_key=key,
        subject_key=key,
        due_at=due,
        status=status,
        snoozed_from=snoozed_from,
        created_at=made,
    )


@postgresql
@pytest.mark.django_db
def test_the_notification_history_gets_its_partitions_ahead_too():
    far = timezone.now() + timedelta(days=240)
    made = partitions.partitions_ensure(now=far - timedelta(days=31))
    for table in NOTIFICATION_TABLES:
        assert partitions.partition_name(table, partitions.month_start(far)) in made


@postgresql
@pytest.mark.django_db
def test_stream_event_months_past_retention_are_dropped_and_push_deliveries_kept(settings):
    user = factories.UserFactory()
    now = timezone.now()
    old = history_month(70)
    moment = in_month(old, 1)
    StreamEvent.objects.create(user=user, type="notification", created_at=moment)
    StreamEvent.objects.create(user=user, type="notification", created_at=now)
    notification = notification_for(user)
    notification.save()
    install = PushInstall.objects.create(user=user, fcm_token="token", platform="android")
    PushDelivery.objects.create(notification=notification, install=install, created_at=moment)
    check_foreign_keys_now()

    dropped = partitions.partitions_drop_expired(now)

    assert dropped[partitioning.STREAM_EVENTS.table] == [
        partitions.partition_name(partitioning.STREAM_EVENTS.table, old)
    ]
    assert list(StreamEvent.objects.values_list("created_at", flat=True)) == [now]
    assert partitioning.PUSH_DELIVERIES.table not in dropped
    assert PushDelivery.objects.get().created_at == moment


@postgresql
@pytest.mark.django_db
def test_a_reminder_month_is_dropped_only_when_every_reminder_in_it_is_finished_and_past_retention(settings):
    settings.REMINDER_RETENTION_DAYS = 30
    user = factories.UserFactory()
    now = timezone.now()
    finished_month = partitions.month_start(now - timedelta(days=100))
    open_month = partitions.month_start(now - timedelta(days=160))
    late_month = partitions.month_start(now - timedelta(days=220))
    for month in (finished_month, open_month, late_month):
        partitions.create_partition(partitioning.REMINDERS, month)
    Status = ReminderOccurrence.Status
    made = in_month(finished_month, 2)
    first = reminder_at(user, "slot:1", made=made, due=made, status=Status.SENT)
    reminder_at(user, "slot:2", made=made, due=made, status=Status.CANCELLED)
    # Made months ago for a moment still to come, or never sent: their months stay.
    made_open = in_month(open_month, 2)
    waiting = reminder_at(user, "slot:3", made=made_open, due=made_open, status=Status.SCHEDULED)
    made_late = in_month(late_month, 2)
    reminder_at(user, "slot:4", made=made_late, due=now - timedelta(days=10), status=Status.SENT)
    snooze = reminder_at(user, "snooze:1", made=now, due=now, status=Status.SCHEDULED, snoozed_from=first)
    check_foreign_keys_now()

    dropped = partitions.partitions_drop_expired(now)[partitioning.REMINDERS.table]

    table = partitioning.REMINDERS.table
    assert dropped == [partitions.partition_name(table, finished_month)]
    assert {partitions.partition_name(table, open_month), partitions.partition_name(table, late_month)} <= (
        partition_names(table)
    )
    assert set(ReminderOccurrence.objects.values_list("source_key", flat=True)) == {"slot:3", "slot:4", "snooze:1"}
    # The snooze lost its pointer to the reminder dropped, as SET NULL would have done.
    snooze.refresh_from_db()
    assert snooze.snoozed_from_id is None
    # The dispatcher still claims the reminder waiting in the old month.
    assert reminders_claim(now=now, worker_id="test") is not None
    waiting.refresh_from_db()
    assert waiting.status == Status.CLAIMED


def waiting_for_a_source_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid::bigint = %s",
            [SOURCE_LOCK_SPACE],
        )
        return cursor.fetchone()[0] > 0


@postgresql
@pytest.mark.django_db(transaction=True)
def test_producers_scheduling_one_source_at_once_make_one_reminder_though_the_month_is_in_its_unique_key():
    user = factories.UserFactory()
    now = timezone.now()

    def spec(hours: int) -> ReminderSpec:
        return ReminderSpec(
            recipient_id=user.pk, kind="reminder.training", due_at=now + timedelta(hours=hours), source_key="slot:x"
        )

    def second_producer() -> None:
        try:
            reminders_schedule(items=[spec(2)])
        finally:
            connection.close()

    second = threading.Thread(target=second_producer)
    with transaction.atomic():
        reminders_schedule(items=[spec(1)])
        second.start()
        # The second producer waits for this one's source lock (polled, not timed: it fails only if it never does).
        for _ in range(1200):
            if waiting_for_a_source_lock():
                break
            time.sleep(0.05)
        else:
            pytest.fail("the second producer did not wait for the source lock")
    second.join()

    assert list(ReminderOccurrence.objects.filter(source_key="slot:x").values_list("due_at", flat=True)) == [
        now + timedelta(hours=2)
    ]


def plan(queryset) -> str:
    with transaction.atomic(), connection.cursor() as cursor:
        sql, params = queryset.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@postgresql
@pytest.mark.django_db
def test_claims_and_replay_read_a_month_full_of_history_through_their_indexes():
    user = factories.UserFactory()
    now = timezone.now()
    month = history_month(45)
    made = in_month(month, 3)
    install = PushInstall.objects.create(user=user, fcm_token="token", platform="android")
    notifications = Notification.objects.bulk_create(notification_for(user, created_at=made) for _ in range(3000))
    Status = ReminderOccurrence.Status
    ReminderOccurrence.objects.bulk_create(
        ReminderOccurrence(
            recipient=user,
            kind="reminder.training",
            source_key=f"slot:{number}",
            subject_key=f"slot:{number}",
            due_at=made,
            status=Status.SENT,
            created_at=made,
        )
        for number in range(3000)
    )
    PushDelivery.objects.bulk_create(
        PushDelivery(notification=notification, install=install, status="sent", created_at=made)
        for notification in notifications
    )
    StreamEvent.objects.bulk_create(StreamEvent(user=user, type="notification", created_at=made) for _ in range(3000))
    with connection.cursor() as cursor:
        for table in NOTIFICATION_TABLES:
            cursor.execute(f"ANALYZE {table}")  # noqa: S608 — the module's own names
    full = {table: partitions.partition_name(table, month) for table in NOTIFICATION_TABLES}
    head = StreamEvent.objects.order_by("-id").values_list("id", flat=True)[0]
    queries = {
        full[partitioning.REMINDERS.table]: [
            ReminderOccurrence.objects.filter(status=Status.SCHEDULED, due_at__lte=now)
            .order_by("due_at")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:500],
            ReminderOccurrence.objects.filter(status=Status.CLAIMED, claimed_until__lt=now)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:500],
        ],
        full[partitioning.PUSH_DELIVERIES.table]: [
            PushDelivery.objects.filter(status="pending", next_attempt_at__lte=now)
            .select_for_update(skip_locked=True)
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:500]
        ],
        full[partitioning.STREAM_EVENTS.table]: [
            StreamEvent.objects.filter(user=user, id__gt=head - 10).order_by("id")[:1001],
            StreamEvent.objects.filter(id__gt=head - 10).order_by("id").values_list("created_at", flat=True)[:1],
        ],
    }
    for partition, listed in queries.items():
        for queryset in listed:
            found = plan(queryset)
            assert partition in found
            assert f"Seq Scan on {partition}" not in found, found
