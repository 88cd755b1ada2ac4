"""The inbox: ``notify`` for every other app, and the inbox's own changes.

``notify`` stores the notifications and their stream events in one transaction; after commit it
announces the events over the channel layer (best-effort: when Redis is down the events wait in the
database for the client's replay) and enqueues push delivery. The database is the outbox.
"""

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from channels.layers import get_channel_layer
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from backend.models import Team, User
from notifications import texts
from notifications.channel_layer import publish
from notifications.models import Notification, PushDelivery, StreamEvent
from notifications.refs import as_uuid, clean_refs, unique_ids
from notifications.services.push_deliveries import PushClaim, push_deliveries_create, push_enqueue
from notifications.streams import NOTIFICATION_EVENT, group_of, stream_message

logger = logging.getLogger(__name__)

MAX_DEDUPE_KEY_CHARACTERS = 200

# Stream event ids must be handed out in commit order, or a client that resumes after id N could
# miss an event with a smaller id that committed later. SQLite serialises writers already; on
# PostgreSQL this transaction-level advisory lock does it for the few statements of ``notify``.
STREAM_LOCK_KEY = 0x6D657374


def _lock_stream() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [STREAM_LOCK_KEY])


@dataclass(frozen=True)
class NotificationRequest:
    """One notification for one recipient, for ``notify_each``: ``refs`` and ``params`` as for ``notify``."""

    recipient_id: uuid.UUID | str
    kind: str
    refs: Mapping[str, Any]
    params: Mapping[str, Any] | None = None
    dedupe_key: str = ""


@dataclass(frozen=True)
class _Prepared:
    recipient_id: uuid.UUID
    kind: str
    rendered: texts.Rendered
    refs: dict[str, str | int]
    key: str


def _checked_key(dedupe_key: str | None) -> str:
    key = dedupe_key or ""
    if len(key) > MAX_DEDUPE_KEY_CHARACTERS:
        raise ValueError(f"A dedupe key has at most {MAX_DEDUPE_KEY_CHARACTERS} characters.")
    return key


def notify(
    *,
    recipients: Iterable[User | uuid.UUID | str],
    kind: str,
    refs: Mapping[str, Any],
    params: Mapping[str, Any] | None = None,
    dedupe_key: str | None = None,
    team_ids: Iterable[Any] = (),
) -> list[Notification]:
    """Put a notification of ``kind`` in each recipient's inbox and an event in each team's live stream.

    ``recipients`` are users (``citizen.user``, not the citizen) or user ids; ``team_ids`` teams or ids.

    ``refs`` are the ids the notification is about (``{"citizen_id": ..., "session_log_id": ...}``);
    ``params`` fill the kind's template in ``notifications.texts``. With a ``dedupe_key`` a producer
    that runs twice makes one notification per recipient and one event per team. Returns the
    notifications made now (not those that existed already). Call it once the change it announces is
    stored (from ``transaction.on_commit`` or last in the transaction): stream events are numbered in
    commit order, so a long transaction around it holds up other notifications.
    """
    rendered = texts.render(kind, params)
    cleaned_refs = clean_refs(refs)
    recipients, team_ids = list(recipients), list(team_ids)
    recipient_ids = unique_ids(recipients, User)
    team_id_list = unique_ids(team_ids, Team)
    key = _checked_key(dedupe_key)
    if not recipient_ids and not team_id_list:
        return []
    prepared = [_Prepared(recipient_id, kind, rendered, cleaned_refs, key) for recipient_id in recipient_ids]
    with transaction.atomic():
        _lock_stream()
        now = timezone.now()
        notifications, _ = _notifications_store(prepared, now)
        events = _notification_events(notifications, now)
        events.extend(_team_events(kind=kind, refs=cleaned_refs, team_ids=team_id_list, key=key, now=now))
        StreamEvent.objects.bulk_create(events)
        deliveries = push_deliveries_create(notifications, now)
        _announce_on_commit(events, deliveries, enqueue_push=True)
    return notifications


def notify_each(
    *, requests: Sequence[NotificationRequest], enqueue_push: bool = True, push_claim: PushClaim | None = None
) -> list[uuid.UUID]:
    """``notify`` for many notifications that differ in recipient, kind, references or key, in one
    transaction with a constant number of queries.

    Returns the id of each request's notification, in order: the one made now, or, for a dedupe key
    already used for that recipient, the one made before (nothing new is stored or pushed for it).
    With ``enqueue_push=False`` the caller sends the pushes itself (``push.push_deliver``) once the
    transaction has committed; the deliveries are stored either way, so the periodic run sends them
    if the caller cannot. With a ``push_claim`` as well, those due at once are stored held by it (see
    ``PushClaim``), for the caller to send without claiming them again.
    """
    rendered: dict[tuple[str, str], texts.Rendered] = {}
    prepared = []
    for request in requests:
        # Reminders of one kind share their texts: render each kind and set of parameters once.
        text_key = (request.kind, repr(sorted((request.params or {}).items())))
        if text_key not in rendered:
            rendered[text_key] = texts.render(request.kind, request.params)
        prepared.append(
            _Prepared(
                as_uuid(request.recipient_id),
                request.kind,
                rendered[text_key],
                clean_refs(request.refs),
                _checked_key(request.dedupe_key),
            )
        )
    if not prepared:
        return []
    with transaction.atomic():
        _lock_stream()
        now = timezone.now()
        notifications, ids = _notifications_store(prepared, now)
        events = _notification_events(notifications, now)
        StreamEvent.objects.bulk_create(events)
        deliveries = push_deliveries_create(notifications, now, claim=push_claim)
        _announce_on_commit(events, deliveries, enqueue_push=enqueue_push)
    return ids


def _notifications_store(prepared: list[_Prepared], now: datetime) -> tuple[list[Notification], list[uuid.UUID]]:
    """Make the notifications whose (recipient, dedupe key) is new; the ids of all, in order."""
    keyed = [item for item in prepared if item.key]
    earlier: dict[tuple[uuid.UUID, str], uuid.UUID] = {}
    if keyed:
        earlier = {
            (recipient_id, key): pk
            for recipient_id, key, pk in Notification.objects.filter(
                recipient_id__in={item.recipient_id for item in keyed}, dedupe_key__in={item.key for item in keyed}
            ).values_list("recipient_id", "dedupe_key", "pk")
        }
    notifications: list[Notification] = []
    ids: list[uuid.UUID] = []
    for item in prepared:
        known = earlier.get((item.recipient_id, item.key)) if item.key else None
        if known is None:
            notification = Notification(
                recipient_id=item.recipient_id,
                kind=item.kind,
                text_da=item.rendered.text_da,
                text_en=item.rendered.text_en,
                push_text_da=item.rendered.push_text_da,
                push_text_en=item.rendered.push_text_en,
                refs=item.refs,
                dedupe_key=item.key,
                created_at=now,
            )
            notifications.append(notification)
            known = notification.pk
            if item.key:
                earlier[(item.recipient_id, item.key)] = known
        ids.append(known)
    Notification.objects.bulk_create(notifications)
    return notifications, ids


def _notification_events(notifications: list[Notification], now: datetime) -> list[StreamEvent]:
    return [
        StreamEvent(
            user_id=notification.recipient_id,
            type=NOTIFICATION_EVENT,
            payload={"id": str(notification.pk)},
            created_at=now,
        )
        for notification in notifications
    ]


def _announce_on_commit(events: list[StreamEvent], deliveries: list[PushDelivery], *, enqueue_push: bool) -> None:
    messages = [(group_of(event), stream_message(event)) for event in events]
    if messages:
        transaction.on_commit(partial(stream_announce, messages), robust=True)
    if deliveries and enqueue_push:
        notification_ids = sorted({str(delivery.notification_id) for delivery in deliveries})
        transaction.on_commit(partial(push_enqueue, notification_ids), robust=True)


def _team_events(
    *, kind: str, refs: dict[str, str | int], team_ids: list[uuid.UUID], key: str, now: datetime
) -> list[StreamEvent]:
    sent_before: set[uuid.UUID] = set()
    if key and team_ids:
        sent_before = set(
            StreamEvent.objects.filter(team_id__in=team_ids, dedupe_key=key).values_list("team_id", flat=True)
        )
    return [
        StreamEvent(team_id=team_id, type=kind, payload=refs, dedupe_key=key, created_at=now)
        for team_id in team_ids
        if team_id not in sent_before
    ]


def stream_announce(messages: list[tuple[str, dict[str, Any]]]) -> None:
    """Send stream events to their groups. Best-effort: a client that misses one replays it on reconnect."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        publish(layer, messages)
    except Exception as error:
        logger.warning(
            "channel layer unavailable (%s): %d stream events wait for replay", type(error).__name__, len(messages)
        )


# --- Reading and acknowledging -------------------------------------------------------------------


def notification_read(*, notification: Notification) -> Notification:
    """Mark as read; reading again keeps the first time."""
    Notification.objects.filter(pk=notification.pk).update(read_at=Coalesce(F("read_at"), timezone.now()))
    notification.refresh_from_db(fields=["read_at"])
    return notification


def notification_acknowledge(*, notification: Notification) -> Notification:
    """Acknowledge (which also reads); acknowledging again keeps the first time."""
    now = timezone.now()
    Notification.objects.filter(pk=notification.pk).update(
        acknowledged_at=Coalesce(F("acknowledged_at"), now), read_at=Coalesce(F("read_at"), now)
    )
    notification.refresh_from_db(fields=["read_at", "acknowledged_at"])
    return notification


def notifications_read_all(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


def recipients_notified(*, dedupe_keys: Iterable[str]) -> set[uuid.UUID]:
    """The users who got a notification under one of these dedupe keys: whom a producer has told before."""
    return set(Notification.objects.filter(dedupe_key__in=list(dedupe_keys)).values_list("recipient_id", flat=True))
