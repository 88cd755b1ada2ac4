"""Preferences, quiet hours and snooze for every role: everybody has their own preferences; only the
recipient of a reminder can snooze it, and another person's notification is a 404."""

from typing import Any

from tests.matrix import Row, statuses


def _citizens_reminder(world: Any) -> dict[str, Any]:
    from notifications.models import Notification
    from notifications.services import notify

    notify(recipients=[world.citizen.user], kind="reminder.training", refs={}, dedupe_key="matrix-reminder")
    return {"notification_id": Notification.objects.get(recipient=world.citizen.user, dedupe_key="matrix-reminder").pk}


ROWS: list[Row] = [
    Row("GET", "/api/v1/me/notification-preferences", statuses(200)),
    Row(
        "PUT",
        "/api/v1/me/notification-preferences",
        statuses(200),
        body=lambda w: {
            "kinds": [{"kind": "reminder.training", "muted": False, "push": False}],
            "quiet_hours": {"start": "22:00", "end": "07:00"},
        },
    ),
    Row(
        "POST",
        "/api/v1/notifications/{notification_id}/snooze",
        statuses(404, citizen=201),
        path_params=_citizens_reminder,
        body=lambda w: {"minutes": 15},
    ),
]
