"""Writes of the notifications app, and the one entry every other app uses: ``notify`` and ``notify_each``
(``inbox``), the inbox's own changes (``inbox``), app installs (``installs``) and the reminders producers
schedule and cancel (``scheduling``). The push deliveries a notification gets are ``push_deliveries``."""

from notifications.audiences import it_staff_audience
from notifications.services.inbox import (
    NotificationRequest,
    notification_acknowledge,
    notification_read,
    notifications_read_all,
    notify,
    notify_each,
    recipients_notified,
)
from notifications.services.installs import push_install_delete, push_install_register
from notifications.services.push_deliveries import PushClaim, push_grace
from notifications.services.scheduling import ReminderSpec, reminder_due_at, reminders_cancel, reminders_schedule

__all__ = [
    "NotificationRequest",
    "PushClaim",
    "ReminderSpec",
    "it_staff_audience",
    "notification_acknowledge",
    "notification_read",
    "notifications_read_all",
    "notify",
    "notify_each",
    "push_grace",
    "push_install_delete",
    "push_install_register",
    "recipients_notified",
    "reminder_due_at",
    "reminders_cancel",
    "reminders_schedule",
]
