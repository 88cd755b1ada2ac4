"""The notifications app's access functions: a notification or an app install fetched for its own user
(anybody else's is not found, the same as a missing one)."""

from uuid import UUID

from backend.actors import Actor
from backend.errors import NotFound
from notifications.models import Notification, PushInstall
from notifications.selectors import inbox_of


def access_notification(actor: Actor, notification_id: UUID | str) -> Notification:
    """One of the caller's own notifications; anybody else's is not found, the same as a missing one."""
    notification = inbox_of(actor).filter(pk=notification_id).first()
    if notification is None:
        raise NotFound("No such notification.")
    return notification


def access_push_install(actor: Actor, install_id: UUID | str) -> PushInstall:
    install = PushInstall.objects.filter(pk=install_id, user=actor.user).first()
    if install is None:
        raise NotFound("No such app install.")
    return install
