"""The push deliveries a notification gets when it is stored, and their hand-over to the push task.

One pending delivery per notification and reachable install of its recipient, unless the recipient turned
push off for the kind; due after ``push_grace()`` (an open app that receives the notification over the
websocket meanwhile makes it unnecessary) and, unless it announces an alert, after the recipient's quiet
hours. Sending is ``notifications.push``.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from notifications import texts
from notifications.models import Notification, NotificationPreference, PushDelivery, QuietHours
from notifications.quiet import quiet_hours_end
from notifications.selectors import installs_reachable

logger = logging.getLogger(__name__)


def push_grace() -> timedelta:
    """How long a push waits for an open app to receive its notification over the websocket instead."""
    return timedelta(seconds=settings.PUSH_GRACE_SECONDS)


def _quiet_hours_ends(user_ids: set[Any], now: datetime) -> dict[Any, datetime]:
    """For each of these users inside their quiet hours now: when those end."""
    if not user_ids:
        return {}
    ends = {quiet.user_id: quiet_hours_end(quiet, now) for quiet in QuietHours.objects.filter(user_id__in=user_ids)}
    return {user_id: end for user_id, end in ends.items() if end is not None}


def _push_due(notification: Notification, due: datetime, quiet_ends: dict[Any, datetime]) -> datetime:
    """A push that can wait waits for the end of its recipient's quiet hours; an alert's does not."""
    if texts.is_urgent(notification.kind):
        return due
    return max(due, quiet_ends.get(notification.recipient_id, due))


@dataclass(frozen=True)
class PushClaim:
    """A claim on push deliveries as they are made, for a caller that sends them itself once they are stored
    (``push.push_deliver_claimed``): those due at once are stored held by ``token`` for ``lease`` from then,
    as ``push.deliveries_claim`` would hold them, so no other run takes them meanwhile, and one that dies
    before sending them leaves them to whoever runs after the claim has run out."""

    token: str
    lease: timedelta


def push_deliveries_create(
    notifications: list[Notification], now: datetime, *, claim: PushClaim | None = None
) -> list[PushDelivery]:
    """One pending delivery per notification and active install of its recipient, in the same transaction,
    unless the recipient turned push off for the notification's kind. A delivery falls due after
    ``push_grace()``, so a notification an open app receives over the websocket meanwhile is not pushed,
    and, unless it is an alert, not before the end of the recipient's quiet hours. With a ``claim``, those
    due at once are stored claimed by it, their first attempt begun."""
    if not notifications:
        return []
    grace = push_grace()
    recipient_ids = {notification.recipient_id for notification in notifications}
    installs: dict[uuid.UUID, list[uuid.UUID]] = {}
    for install_id, user_id in installs_reachable(now).filter(user_id__in=recipient_ids).values_list("id", "user_id"):
        installs.setdefault(user_id, []).append(install_id)
    if not installs:
        return []
    push_off = set(
        NotificationPreference.objects.filter(
            user_id__in=installs, kind__in={notification.kind for notification in notifications}, push_enabled=False
        ).values_list("user_id", "kind")
    )
    quiet_ends = _quiet_hours_ends(
        {notification.recipient_id for notification in notifications if not texts.is_urgent(notification.kind)}
        & set(installs),
        now,
    )
    deliveries = [
        PushDelivery(
            notification=notification,
            install_id=install_id,
            next_attempt_at=_push_due(notification, now + grace, quiet_ends),
            created_at=now,
        )
        for notification in notifications
        if (notification.recipient_id, notification.kind) not in push_off
        for install_id in installs.get(notification.recipient_id, [])
    ]
    if claim is not None:
        for delivery in deliveries:
            if delivery.next_attempt_at <= now:
                delivery.status, delivery.claim = PushDelivery.Status.SENDING, claim.token
                delivery.claimed_until, delivery.attempts = now + claim.lease, 1
    PushDelivery.objects.bulk_create(deliveries)
    return deliveries


def push_enqueue(notification_ids: list[str]) -> None:
    from notifications.tasks import deliver_push

    task = deliver_push
    if push_grace():
        if not deliver_push.get_backend().supports_defer:
            return  # left to the periodic deliver_due_push
        task = deliver_push.using(run_after=timezone.now() + push_grace())
    try:
        task.enqueue(notification_ids=notification_ids)
    except Exception as error:
        # The deliveries are stored as pending; the periodic ``deliver_due_push`` sends them.
        logger.warning("push delivery not enqueued (%s); left to the periodic run", type(error).__name__)
