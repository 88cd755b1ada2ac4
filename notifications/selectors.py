"""Reads of the notifications app: the caller's own inbox and installs (stream backlogs: ``notifications.replay``)."""

from datetime import datetime
from uuid import UUID

from django.db.models import QuerySet
from django.utils import timezone

from backend.access.declaration import declared
from backend.access.rules import Moments
from backend.actors import Actor
from backend.errors import NotFound
from backend.pagination import paginate
from notifications.models import Notification, PushInstall


def access_notification(actor: Actor, notification_id: UUID | str) -> Notification:
    """One of the caller's own notifications; anybody else's is not found, the same as a missing one."""
    notification = Notification.objects.filter(pk=notification_id, recipient=actor.user).first()
    if notification is None:
        raise NotFound("No such notification.")
    return notification


def notifications_page(
    actor: Actor, *, cursor: str | None, limit: int | None, unread: bool = False
) -> tuple[list[Notification], str | None]:
    notifications = Notification.objects.filter(recipient=actor.user)
    if unread:
        notifications = notifications.filter(read_at__isnull=True)
    return paginate(notifications, cursor=cursor, limit=limit, order=("-created_at", "-id"))


def unread_count(actor: Actor) -> int:
    return Notification.objects.filter(recipient=actor.user, read_at__isnull=True).count()


def push_installs_of(actor: Actor, limit: int = 100) -> list[PushInstall]:
    return list(PushInstall.objects.filter(user=actor.user).order_by("-last_seen_at", "id")[:limit])


def access_push_install(actor: Actor, install_id: UUID | str) -> PushInstall:
    install = PushInstall.objects.filter(pk=install_id, user=actor.user).first()
    if install is None:
        raise NotFound("No such app install.")
    return install


def installs_reachable(now: datetime | None = None) -> QuerySet[PushInstall]:
    """Installs a push may go to: active, registered by a login that is still signed in, of a user who may
    still log in (the access declaration's session and user rules)."""
    declaration = declared()
    moments = Moments(now=now or timezone.now())
    return PushInstall.objects.filter(
        declaration.session.q("session__", moments), declaration.user.q("user__", moments), is_active=True
    )
