"""Background entry points of the notifications app. Each takes ids, is safe to run twice, and sends
nothing twice: deliveries are claimed row by row before they are sent."""

import logging
from datetime import timedelta

from django.conf import settings
from django.tasks import task
from django.utils import timezone

from notifications import push
from notifications.models import ReminderOccurrence, StreamEvent
from notifications.replay import REPLAY_MAX_AGE

logger = logging.getLogger(__name__)

# Kept a day longer than a client may replay, so a cursor at the edge of the window still resolves.
STREAM_EVENT_RETENTION = REPLAY_MAX_AGE + timedelta(days=1)


def _schedule_retry(report: push.DeliveryReport) -> None:
    if report.retry_at is None or not report.retry_notification_ids:
        return
    retry = deliver_push.using(run_after=report.retry_at)
    if not retry.get_backend().supports_defer:
        return  # left to the periodic deliver_due_push
    try:
        retry.enqueue(notification_ids=sorted(report.retry_notification_ids))
    except Exception as error:
        logger.warning("push retry not enqueued (%s); left to the periodic run", type(error).__name__)


@task()
def deliver_push(notification_ids: list[str]) -> dict[str, int]:
    """Push these notifications to their recipients' app installs; a transient failure schedules a retry."""
    report = push.push_deliver(notification_ids=notification_ids)
    _schedule_retry(report)
    return report.counts()


@task()
def deliver_due_push() -> dict[str, int]:
    """Every delivery that is due, including those whose worker died holding them. Run every minute."""
    report = push.push_deliver()
    _schedule_retry(report)
    return report.counts()


@task()
def purge_stream_events() -> int:
    """Remove stream events older than any client may replay; clients behind that resynchronise."""
    removed, _ = StreamEvent.objects.filter(created_at__lt=timezone.now() - STREAM_EVENT_RETENTION).delete()
    return removed


REMINDER_PURGE_BATCH = 5000
FINISHED_REMINDER_STATUSES = (
    ReminderOccurrence.Status.SENT,
    ReminderOccurrence.Status.CANCELLED,
    ReminderOccurrence.Status.SUPPRESSED,
)


@task()
def purge_reminders() -> int:
    """Remove reminders that were sent, suppressed or cancelled more than REMINDER_RETENTION_DAYS before
    now (their notifications stay in the inbox), a batch at a time so that dispatch is never held up."""
    finished = ReminderOccurrence.objects.filter(
        status__in=FINISHED_REMINDER_STATUSES,
        due_at__lt=timezone.now() - timedelta(days=settings.REMINDER_RETENTION_DAYS),
    )
    removed = 0
    while ids := list(finished.order_by().values_list("pk", flat=True)[:REMINDER_PURGE_BATCH]):
        count, _ = ReminderOccurrence.objects.filter(pk__in=ids).delete()
        removed += count
    return removed
