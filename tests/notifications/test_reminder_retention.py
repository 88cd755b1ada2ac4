"""Reminders that are finished are removed after the retention period; pending ones never are."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from notifications import tasks
from notifications.models import ReminderOccurrence

pytestmark = pytest.mark.django_db

Status = ReminderOccurrence.Status


def reminder(world, key: str, status: str, days_ago: float) -> ReminderOccurrence:
    return ReminderOccurrence.objects.create(
        recipient=world.citizen.user,
        kind="reminder.training",
        source_key=key,
        subject_key=key,
        due_at=timezone.now() - timedelta(days=days_ago),
        status=status,
    )


@override_settings(REMINDER_RETENTION_DAYS=30)
def test_finished_reminders_past_retention_are_removed_and_the_rest_kept(world, monkeypatch):
    monkeypatch.setattr(tasks, "REMINDER_PURGE_BATCH", 2)  # several batches
    for index, status in enumerate([Status.SENT, Status.CANCELLED, Status.SUPPRESSED, Status.SENT, Status.SENT]):
        reminder(world, f"old:{index}", status, days_ago=31)
    kept = {
        reminder(world, "recent", Status.SENT, days_ago=29).pk,
        reminder(world, "waiting", Status.SCHEDULED, days_ago=40).pk,
        reminder(world, "held", Status.CLAIMED, days_ago=40).pk,
    }
    out = io.StringIO()
    call_command("purge_reminders", stdout=out)
    assert out.getvalue().strip() == "Removed 5 reminders."
    assert set(ReminderOccurrence.objects.values_list("pk", flat=True)) == kept
    assert tasks.purge_reminders.call() == 0
