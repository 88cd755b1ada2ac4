"""The access log is append-only: neither the application nor raw SQL can change or delete its rows."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from backend.models import AccessLogEntry
from tests import factories


def entry_at(moment, citizen, **fields) -> AccessLogEntry:
    with mock.patch("django.utils.timezone.now", return_value=moment):
        return factories.AccessLogEntryFactory(citizen=citizen, **fields)


@pytest.fixture
def entry(world) -> AccessLogEntry:
    return factories.AccessLogEntryFactory(citizen=world.citizen, actor_name="Terapeut Tina")


def stored(entry: AccessLogEntry) -> AccessLogEntry:
    return AccessLogEntry.objects.get(pk=entry.pk)


@pytest.mark.django_db
def test_changing_a_row_through_the_model_is_refused(entry):
    entry.actor_name = "Someone else"
    with pytest.raises(PermissionError):
        entry.save()
    assert stored(entry).actor_name == "Terapeut Tina"


@pytest.mark.django_db
def test_deleting_a_row_through_the_model_is_refused(entry):
    with pytest.raises(PermissionError):
        entry.delete()
    assert AccessLogEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        lambda entries: entries.update(actor_name="Someone else"),
        lambda entries: entries.filter(actor_name="Terapeut Tina").update(purpose="administration"),
        lambda entries: entries.all().delete(),
        lambda entries: entries.filter(actor_name="Terapeut Tina").delete(),
        lambda entries: AccessLogEntry.objects.bulk_update(
            [AccessLogEntry(pk=entries.get().pk, actor_name="Someone else")], ["actor_name"]
        ),
    ],
    ids=["update", "filtered-update", "delete", "filtered-delete", "bulk-update"],
)
def test_changing_rows_through_the_queryset_is_refused(entry, change):
    with pytest.raises(PermissionError), transaction.atomic():
        change(AccessLogEntry.objects.all())
    assert stored(entry).actor_name == "Terapeut Tina"
    assert stored(entry).purpose == AccessLogEntry.Purpose.CARE


@pytest.mark.django_db
def test_update_or_create_cannot_change_an_existing_row(entry):
    with pytest.raises(PermissionError):
        AccessLogEntry.objects.update_or_create(pk=entry.pk, defaults={"actor_name": "Someone else"})
    assert stored(entry).actor_name == "Terapeut Tina"


@pytest.mark.django_db
def test_raw_sql_update_is_refused_by_the_database(entry):
    table = AccessLogEntry._meta.db_table
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET actor_name = %s WHERE id = %s", ["Someone else", entry.pk])  # noqa: S608
    assert stored(entry).actor_name == "Terapeut Tina"


@pytest.mark.django_db
def test_raw_sql_update_of_the_whole_table_is_refused(world, entry):
    factories.AccessLogEntryFactory(citizen=world.other_citizen, actor_name="Terapeut Tina")
    table = AccessLogEntry._meta.db_table
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET purpose = 'administration'")  # noqa: S608
    assert not AccessLogEntry.objects.filter(purpose="administration").exists()


@pytest.mark.django_db
def test_new_rows_can_still_be_added_and_read(world, entry):
    factories.AccessLogEntryFactory(citizen=world.citizen, actor_name="Hjemmehjælper Hans")
    names = set(AccessLogEntry.objects.filter(citizen=world.citizen).values_list("actor_name", flat=True))
    assert names == {"Terapeut Tina", "Hjemmehjælper Hans"}


@pytest.mark.django_db
def test_purge_expired_removes_only_rows_older_than_the_cutoff(world):
    now = timezone.now()
    # A day past the database's own one-year floor (the delete trigger measures from the transaction's
    # start, which on a slow machine lies seconds before ``now``), so only the cutoff decides.
    cutoff = now - timedelta(days=366)
    old = [entry_at(now - timedelta(days=400 + day), world.citizen) for day in range(3)]
    just_old = entry_at(cutoff - timedelta(seconds=1), world.other_citizen)
    at_cutoff = entry_at(cutoff, world.citizen)
    recent = [entry_at(now - timedelta(days=day), world.citizen) for day in range(2)]

    removed = AccessLogEntry.objects.purge_expired(cutoff=cutoff)

    assert removed == 4
    remaining = set(AccessLogEntry.objects.values_list("pk", flat=True))
    assert remaining == {at_cutoff.pk, *(entry.pk for entry in recent)}
    assert not remaining & {just_old.pk, *(entry.pk for entry in old)}


@pytest.mark.django_db
def test_purge_expired_with_nothing_old_removes_nothing(world, entry):
    assert AccessLogEntry.objects.purge_expired(cutoff=timezone.now() - timedelta(days=1)) == 0
    assert AccessLogEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db
def test_a_citizens_log_shows_reads_of_their_data_by_staff(world):
    world.client("staff_in_team").get(f"/api/v1/citizens/{world.citizen.id}")
    entries = list(AccessLogEntry.objects.filter(citizen=world.citizen))
    assert len(entries) == 1
    assert entries[0].actor_id == world.staff_in_team.user.pk
    assert entries[0].request_id
    entries[0].purpose = AccessLogEntry.Purpose.ADMINISTRATION
    with pytest.raises(PermissionError):
        entries[0].save()


@pytest.mark.django_db
def test_one_call_logs_every_citizen_with_the_same_fields_in_batches(world, monkeypatch):
    from backend import audit
    from backend.actors import Actor
    from backend.context import request_id_var

    monkeypatch.setattr(audit, "ROWS_PER_STATEMENT", 2)
    citizens = [world.citizen, world.other_citizen, *(factories.CitizenFactory() for _ in range(3))]
    actor = Actor(user=world.staff_in_team.user, audience="staff")
    token = request_id_var.set("req-batch-1")
    before = timezone.now()
    try:
        audit.access_log_record(
            actor=actor, citizens=citizens, resource_type="episode", action=AccessLogEntry.Action.READ
        )
    finally:
        request_id_var.reset(token)
    rows = list(AccessLogEntry.objects.filter(request_id="req-batch-1").order_by("id"))
    assert [row.citizen_id for row in rows] == [citizen.pk for citizen in citizens]
    for row, citizen in zip(rows, citizens, strict=True):
        assert (row.actor_id, row.actor_name, row.resource_type, row.resource_id, row.action) == (
            world.staff_in_team.user.pk,
            world.staff_in_team.user.display_name,
            "episode",
            str(citizen.pk),
            "read",
        )
        assert row.actor_role == actor.audit_role and row.purpose == audit.DEFAULT_PURPOSE[actor.audit_role]
        assert before <= row.at <= timezone.now()
