"""Reads of the notifications app: the caller's own inbox and installs (stream backlogs: ``notifications.replay``)."""

from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from backend.access import citizen_ids_granted_to
from backend.access.declaration import declared
from backend.access.rules import Moments
from backend.actors import Actor
from backend.pagination import paginate
from notifications.models import Notification, PushInstall


def inbox_of(actor: Actor) -> QuerySet[Notification]:
    """The caller's own notifications that they may still see: a relative whose grant has ended (revoked,
    expired) no longer sees what was sent about that citizen, and the ids it carries go with it; their own
    and those about the citizens they still follow stay."""
    notifications = Notification.objects.filter(recipient=actor.user)
    if actor.relative is None:
        return notifications
    followed = {str(citizen_id) for citizen_id in citizen_ids_granted_to(actor)}
    if actor.citizen is not None:
        followed.add(str(actor.citizen.pk))
    return notifications.filter(Q(refs__citizen_id__isnull=True) | Q(refs__citizen_id__in=sorted(followed)))


def notifications_page(
    actor: Actor, *, cursor: str | None, limit: int | None, unread: bool = False
) -> tuple[list[Notification], str | None]:
    notifications = inbox_of(actor)
    if unread:
        notifications = notifications.filter(read_at__isnull=True)
    return paginate(notifications, cursor=cursor, limit=limit, order=("-created_at", "-id"))


def unread_count(actor: Actor) -> int:
    return inbox_of(actor).filter(read_at__isnull=True).count()


def push_installs_of(actor: Actor, limit: int = 100) -> list[PushInstall]:
    return list(PushInstall.objects.filter(user=actor.user).order_by("-last_seen_at", "id")[:limit])


def installs_reachable(now: datetime | None = None) -> QuerySet[PushInstall]:
    """Installs a push may go to: active, registered by a login that is still signed in, of a user who may
    still log in (the access declaration's session and user rules)."""
    declaration = declared()
    moments = Moments(now=now or timezone.now())
    return PushInstall.objects.filter(
        declaration.session.q("session__", moments), declaration.user.q("user__", moments), is_active=True
    )
