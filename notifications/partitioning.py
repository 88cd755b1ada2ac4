"""The notifications app's history tables, partitioned by month on PostgreSQL (``backend.partitions``).

- Stream events by ``created_at``: kept ``STREAM_EVENT_RETENTION`` (a day longer than a client may replay).
  Their team events' dedupe key stays unique per team without the month: ``notify`` looks the key up and
  stores the event under the stream lock.
- Reminders by ``created_at``, the moment a producer made them, which no update changes. By ``due_at`` or
  by when they finished, rescheduling or finishing one would move it to another partition, and whoever
  waited for its row lock meanwhile (a dispatcher, a producer cancelling) would fail: PostgreSQL does not
  follow a row moved to another partition. The dispatcher claims through the
  partial indexes on scheduled and claimed reminders, which hold only the unfinished ones whatever their
  month. A month is dropped once every reminder made in it is finished (sent, suppressed or cancelled)
  and was due more than ``REMINDER_RETENTION_DAYS`` ago; a snooze pointing at a reminder dropped so loses
  the pointer, as the foreign key's ``SET NULL`` did. One reminder per recipient and source stays so
  without the month: producers schedule under ``reminder_sources_lock``.
- Push deliveries by ``created_at``: made once with their notification, so one per notification and
  install without the month. Kept for good, as before.

Months rather than weeks, though stream events are kept only eight days: no query of these tables
narrows by their partition column (replay reads by id, dispatchers and push workers claim through
partial indexes, updates find rows by id), so each query probes every partition, and a few large ones
serve it better than many small ones. The daily purges keep each table's retention to the day.
"""

from datetime import datetime
from typing import Any

from backend import sql
from backend.partitions import Partitioned, setting_days
from notifications.models import PushDelivery, ReminderOccurrence, StreamEvent
from notifications.services.scheduling import OPEN_REMINDER
from notifications.tasks import STREAM_EVENT_RETENTION


def reminder_open_or_due_since(cutoff: datetime) -> tuple[str, list[Any]]:
    """A reminder still open (scheduled, or claimed by a dispatcher) or due at ``cutoff`` or later: its month
    is not dropped. A condition on a partition's columns, and its parameters."""
    status, due_at = sql.column(ReminderOccurrence, "status"), sql.column(ReminderOccurrence, "due_at")
    return (
        f"{status} IN ({sql.placeholders(len(OPEN_REMINDER))}) OR {due_at} >= %s",
        [
            *(sql.parameter(ReminderOccurrence, "status", open_status.value) for open_status in OPEN_REMINDER),
            sql.parameter(ReminderOccurrence, "due_at", cutoff),
        ],
    )


STREAM_EVENTS = Partitioned(
    StreamEvent,
    "created_at",
    retention_days=lambda: STREAM_EVENT_RETENTION.days,
    widened=("stream_event_unique_team_dedupe_key",),
)
REMINDERS = Partitioned(
    ReminderOccurrence,
    "created_at",
    retention_days=setting_days("REMINDER_RETENTION_DAYS"),
    widened=("reminder_one_per_recipient_source", "reminder_one_per_audience_source"),
    keep_while=reminder_open_or_due_since,
    referenced_by=((ReminderOccurrence, "snoozed_from"),),
)
PUSH_DELIVERIES = Partitioned(PushDelivery, "created_at", widened=("push_delivery_unique_install",))
HISTORY_TABLES = (STREAM_EVENTS, REMINDERS, PUSH_DELIVERIES)
