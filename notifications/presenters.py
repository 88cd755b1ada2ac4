"""The notifications app's presenters: installs, preferences and snoozes as the API shows them."""

from uuid import UUID

from notifications.models import Notification, PushInstall, ReminderOccurrence
from notifications.reminders import Preferences


def push_install_out(install: PushInstall, current_session_id: UUID | None) -> dict[str, object]:
    return {
        "id": install.pk,
        "platform": install.platform,
        "app_version": install.app_version,
        "locale": install.locale,
        "is_active": install.is_active,
        "is_current": current_session_id is not None and install.session_id == current_session_id,
        "disabled_reason": install.disabled_reason,
        "created_at": install.created_at,
        "last_seen_at": install.last_seen_at,
    }


def preferences_out(preferences: Preferences) -> dict[str, object]:
    quiet = preferences.quiet_hours
    return {
        "kinds": preferences.kinds,
        "quiet_hours": (
            {"start": quiet.start_time, "end": quiet.end_time, "time_zone": quiet.time_zone} if quiet else None
        ),
    }


def snooze_out(occurrence: ReminderOccurrence, notification: Notification) -> dict[str, object]:
    return {
        "id": occurrence.pk,
        "kind": occurrence.kind,
        "due_at": occurrence.due_at,
        "snoozed_notification_id": notification.pk,
    }
