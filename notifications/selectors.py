"""Reads of the notifications app: the caller's own inbox and installs, and stream backlogs for replay."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.db.models import Max, Min, Q, QuerySet
from django.utils import timezone

from backend.actors import Actor
from backend.errors import NotFound
from backend.pagination import paginate
from notifications.models import Notification, PushInstall, StreamEvent

REPLAY_MAX_EVENTS = 1000
REPLAY_MAX_AGE = timedelta(days=7)


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
    """Installs a push may go to: active, and registered by a login that is still signed in."""
    return PushInstall.objects.filter(
        is_active=True,
        session__isnull=False,
        session__revoked_at__isnull=True,
        session__expires_at__gt=now or timezone.now(),
    )


def care_team_ids(actor: Actor) -> set[str]:
    """The teams whose live streams the actor may follow right now: those they have a care role in."""
    return {str(team_id) for team_id in actor.care_team_ids()}


@dataclass
class Backlog:
    """The events a client missed, or ``resync`` when they cannot all be replayed (too many, too old)."""

    head: int
    events: list[StreamEvent] = field(default_factory=list)
    resync: bool = False


def stream_backlog(*, user_id: Any | None, team_ids: set[str], after: int, now: datetime | None = None) -> Backlog:
    """Every event after ``after`` in the user's stream and the teams', in id order, up to a bound.

    ``head`` is the newest event id of the whole table when the backlog was read: because ids are
    handed out in commit order, every event up to it is visible to this read. A cursor from before the
    replay window (or from another database) asks the client to resynchronise over the API instead.
    """
    bounds = StreamEvent.objects.aggregate(head=Max("id"), first=Min("id"))
    head = bounds["head"] or 0
    if after > head:
        return Backlog(head=head, resync=True)
    if after == head:
        return Backlog(head=head)
    if after < (bounds["first"] or 1) - 1:
        return Backlog(head=head, resync=True)  # events after the cursor may have been purged
    first_missed = StreamEvent.objects.filter(id__gt=after).order_by("id").values_list("created_at", flat=True)[:1]
    cutoff = (now or timezone.now()) - REPLAY_MAX_AGE
    if any(created_at < cutoff for created_at in first_missed):
        return Backlog(head=head, resync=True)
    streams = Q(team_id__in=team_ids) if team_ids else Q(pk__in=[])
    if user_id is not None:
        streams |= Q(user_id=user_id)
    events = list(StreamEvent.objects.filter(streams, id__gt=after).order_by("id")[: REPLAY_MAX_EVENTS + 1])
    if len(events) > REPLAY_MAX_EVENTS:
        return Backlog(head=head, resync=True)
    return Backlog(head=max(head, events[-1].id) if events else head, events=events)
