"""Every notifications operation for every role: each person has their own inbox and app installs; another
person's notification or install is a 404, the same as one that does not exist."""

from typing import Any

from tests.matrix import Row, statuses

PUSH_TOKEN = "fcm-token-matrix-0001:APA91bHun4MxP5egoKMwt2KZFBaFUH"


def _citizens_notification(world: Any) -> dict[str, Any]:
    from notifications.models import Notification
    from notifications.services import notify

    notify(recipients=[world.citizen.user], kind="request.answered", refs={}, dedupe_key="matrix")
    return {"notification_id": Notification.objects.get(recipient=world.citizen.user, dedupe_key="matrix").pk}


def _citizens_install(world: Any) -> dict[str, Any]:
    from notifications.models import PushInstall

    install, _ = PushInstall.objects.get_or_create(
        fcm_token="fcm-token-matrix-citizen:APA91bHun4MxP5egoKMwt2KZ",
        defaults={
            "user": world.citizen.user,
            "session": world.citizen.user.app_sessions.first(),
            "platform": PushInstall.Platform.IOS,
        },
    )
    return {"install_id": install.pk}


ROWS: list[Row] = [
    Row("GET", "/api/v1/notifications", statuses(200)),
    Row("POST", "/api/v1/notifications/read-all", statuses(200)),
    Row(
        "POST",
        "/api/v1/notifications/{notification_id}/read",
        statuses(404, citizen=200),
        path_params=_citizens_notification,
    ),
    Row(
        "POST",
        "/api/v1/notifications/{notification_id}/acknowledge",
        statuses(404, citizen=200),
        path_params=_citizens_notification,
    ),
    Row(
        "PUT",
        "/api/v1/me/push-installs",
        statuses(201),
        body=lambda w: {"fcm_token": PUSH_TOKEN, "platform": "android", "app_version": "2.4.0", "locale": "da"},
    ),
    Row("GET", "/api/v1/me/push-installs", statuses(200)),
    Row(
        "DELETE",
        "/api/v1/me/push-installs/{install_id}",
        statuses(404, citizen=204),
        path_params=_citizens_install,
    ),
]
