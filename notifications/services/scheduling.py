"""Reminders as producers schedule, move and cancel them; ``notifications.reminders`` sends them when due."""

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

from notifications import texts
from notifications.audiences import audience_known
from notifications.models import ReminderOccurrence
from notifications.refs import as_uuid, clean_refs

Reminder = ReminderOccurrence.Status
OPEN_REMINDER = (Reminder.SCHEDULED, Reminder.CLAIMED)
MOVABLE_REMINDER = (Reminder.SCHEDULED, Reminder.CANCELLED)
MAX_SOURCE_KEY_CHARACTERS = 200
# The first key of the advisory locks taken per source key (``reminder_sources_lock``).
SOURCE_LOCK_SPACE = 0x72656D69


def reminder_sources_lock(source_keys: Iterable[str]) -> None:
    """Hold these source keys until the transaction ends, so that one reminder per (recipient, source)
    is made however many producers schedule the source at once. On PostgreSQL the reminders are
    partitioned by month (``notifications.partitioning``) and their unique key carries the month, so the
    lock is what keeps it; SQLite has one writer at a time and the plain table's unique key."""
    keys = sorted(set(source_keys))
    if keys and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, hashed) FROM "
                "(SELECT DISTINCT hashtext(key) AS hashed FROM unnest(%s::text[]) AS key) AS keys ORDER BY hashed",
                [SOURCE_LOCK_SPACE, keys],
            )


@dataclass(frozen=True)
class ReminderSpec:
    """A reminder a producer wants: ``kind`` (a ``reminder.*`` kind of ``notifications.texts``) for
    ``recipient_id`` (a user id) at ``due_at``, about ``source_key`` (``slot:<id>``…).

    ``audience`` instead of a recipient names people resolved when the reminder falls due
    (``it_staff_audience(municipality_id)``). ``expires_at``: not sent after this instant (a training
    reminder is pointless once the slot's grace period is over). ``refs`` are ids only.
    """

    recipient_id: uuid.UUID | str | None
    kind: str
    due_at: datetime
    source_key: str
    refs: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    audience: str = ""
    expires_at: datetime | None = None


def reminder_due_at(day: date, at: time, time_zone: str) -> datetime:
    """``at`` local wall-clock time on ``day`` in ``time_zone``, as a UTC instant.

    Correct across daylight-saving changes: 10:00 stays 10:00 local. A time the clocks skip (02:30
    on the spring change) falls after the gap; a time they repeat is its first occurrence.
    """
    return datetime.combine(day, at, tzinfo=ZoneInfo(time_zone)).astimezone(UTC)


def _aware(value: datetime | None, name: str) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"A reminder's {name} must be time-zone aware.")


def _checked_reminder(spec: ReminderSpec) -> tuple[tuple[uuid.UUID | None, str, str], ReminderOccurrence]:
    if not texts.is_reminder(spec.kind):
        raise ValueError(f"{spec.kind!r} is not a kind of reminder.")
    texts.render(spec.kind, spec.params)
    _aware(spec.due_at, "due_at")
    _aware(spec.expires_at, "expires_at")
    if not 0 < len(spec.source_key) <= MAX_SOURCE_KEY_CHARACTERS:
        raise ValueError(f"A reminder's source key has 1 to {MAX_SOURCE_KEY_CHARACTERS} characters.")
    recipient_id = as_uuid(spec.recipient_id) if spec.recipient_id is not None else None
    if (recipient_id is None) == (not spec.audience):
        raise ValueError("A reminder has either a recipient or an audience.")
    if spec.audience and not audience_known(spec.audience):
        raise ValueError(f"Unknown reminder audience {spec.audience!r}.")
    row = ReminderOccurrence(
        recipient_id=recipient_id,
        audience=spec.audience,
        kind=spec.kind,
        source_key=spec.source_key,
        due_at=spec.due_at.astimezone(UTC),
        expires_at=spec.expires_at.astimezone(UTC) if spec.expires_at is not None else None,
        refs=clean_refs(spec.refs),
        params=dict(spec.params),
    )
    return (recipient_id, "" if recipient_id is not None else spec.audience, spec.source_key), row


def _target(row: ReminderOccurrence) -> tuple[uuid.UUID | None, str, str]:
    return (row.recipient_id, "" if row.recipient_id is not None else row.audience, row.source_key)


REMINDER_FIELDS = ("kind", "due_at", "expires_at", "refs", "params")


def reminders_schedule(*, items: Iterable[ReminderSpec], exclusive: bool = False) -> int:
    """Schedule reminders, or move them: idempotent per (recipient, source key).

    A reminder not yet sent (scheduled, or cancelled before) gets the new time, kind and references
    and is scheduled again; one already sent, suppressed, or being sent right now is left as it is.
    With ``exclusive`` the items are the whole audience of their source keys: a person's reminder for
    one of those sources that is not among them is cancelled (a relative whose grant ended). Returns
    how many reminders were made or changed. Call it inside the transaction that makes the source, so
    the two are stored together. A constant number of queries per call.
    """
    wanted: dict[tuple[uuid.UUID | None, str, str], ReminderOccurrence] = {}
    for spec in items:
        target, row = _checked_reminder(spec)
        wanted[target] = row
    if not wanted:
        return 0
    keys = {key for _, _, key in wanted}
    with transaction.atomic():
        reminder_sources_lock(keys)
        return _schedule(wanted, keys, exclusive=exclusive)


def _schedule(
    wanted: dict[tuple[uuid.UUID | None, str, str], ReminderOccurrence], keys: set[str], *, exclusive: bool
) -> int:
    now = timezone.now()
    existing = {
        _target(row): row
        for row in ReminderOccurrence.objects.filter(subject_key__in=keys, source_key__in=keys).only(
            "pk", "recipient_id", "audience", "source_key", "status", *REMINDER_FIELDS
        )
    }
    new: list[ReminderOccurrence] = []
    moved: list[ReminderOccurrence] = []
    for target, row in wanted.items():
        known = existing.get(target)
        if known is None:
            row.created_at = row.updated_at = now
            row.subject_key = row.source_key
            new.append(row)
        elif known.status in MOVABLE_REMINDER and (
            known.status != Reminder.SCHEDULED
            or any(getattr(known, name) != getattr(row, name) for name in REMINDER_FIELDS)
        ):
            for name in REMINDER_FIELDS:
                setattr(known, name, getattr(row, name))
            known.status, known.updated_at = Reminder.SCHEDULED, now
            moved.append(known)
    ReminderOccurrence.objects.bulk_create(new, ignore_conflicts=True)
    changed = ReminderOccurrence.objects.filter(status__in=MOVABLE_REMINDER).bulk_update(
        moved, [*REMINDER_FIELDS, "status", "updated_at"], batch_size=500
    )
    if exclusive:
        stale = [
            row.pk
            for target, row in existing.items()
            if target not in wanted
            and row.recipient_id is not None
            and not row.audience
            and row.status in OPEN_REMINDER
        ]
        if stale:
            ReminderOccurrence.objects.filter(pk__in=stale, status__in=OPEN_REMINDER).update(
                status=Reminder.CANCELLED, claimed_by="", claimed_until=None, updated_at=now
            )
    return len(new) + changed


def reminders_cancel(*, source_keys: Iterable[str], recipient_ids: Iterable[Any] | None = None) -> int:
    """Cancel the reminders about these sources (for these recipients, or everyone) that are not sent yet,
    snoozed ones included. One that a dispatcher is sending at this moment is sent. Returns how many."""
    keys = list(dict.fromkeys(source_keys))
    if not keys:
        return 0
    reminders = ReminderOccurrence.objects.filter(subject_key__in=keys, status__in=OPEN_REMINDER)
    if recipient_ids is not None:
        reminders = reminders.filter(recipient_id__in=[as_uuid(value) for value in recipient_ids])
    return reminders.update(status=Reminder.CANCELLED, claimed_by="", claimed_until=None, updated_at=timezone.now())
