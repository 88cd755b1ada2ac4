"""Writes of the notifications app: ``notify`` for every other app, and the inbox's own changes.

``notify`` stores the notifications and their stream events in one transaction; after commit it
announces the events over the channel layer (best-effort: when Redis is down the events wait in the
database for the client's replay) and enqueues push delivery. The database is the outbox.
"""

import logging
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import partial
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction
from django.db.models import F, Model, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from backend.actors import Actor
from backend.models import AppSession, Team, User
from notifications import texts
from notifications.models import Notification, PushDelivery, PushInstall, StreamEvent
from notifications.selectors import installs_reachable

logger = logging.getLogger(__name__)

NOTIFICATION_EVENT = "notification"
TEAM_EVENT = "team_event"
MAX_DEDUPE_KEY_CHARACTERS = 200
MAX_REF_CHARACTERS = 64
# Stream event ids must be handed out in commit order, or a client that resumes after id N could
# miss an event with a smaller id that committed later. SQLite serialises writers already; on
# PostgreSQL this transaction-level advisory lock does it for the few statements of ``notify``.
STREAM_LOCK_KEY = 0x6D657374


def user_group(user_id: Any) -> str:
    return f"user.{user_id}"


def team_group(team_id: Any) -> str:
    return f"team.{team_id}"


def stream_frame(event: StreamEvent) -> dict[str, Any]:
    """What a client receives for a stream event: its id, its type and ids, never text."""
    if event.team_id is not None:
        return {
            "type": TEAM_EVENT,
            "event_id": event.id,
            "team_id": str(event.team_id),
            "kind": event.type,
            "refs": event.payload,
        }
    return {"type": event.type, "event_id": event.id, **event.payload}


def stream_message(event: StreamEvent) -> dict[str, Any]:
    """The channel-layer message that carries a stream event to the consumers of its group."""
    return {
        "type": "stream.event",
        "event_id": event.id,
        "team_id": str(event.team_id) if event.team_id is not None else None,
        "payload": stream_frame(event),
    }


def _uuid(value: Any) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(getattr(value, "pk", value)))


def _unique_ids(values: Iterable[Any], model: type[Model]) -> list[uuid.UUID]:
    for value in values:
        if isinstance(value, Model) and not isinstance(value, model):
            raise TypeError(f"Expected {model.__name__} objects or their ids, got a {type(value).__name__}.")
    return list(dict.fromkeys(_uuid(value) for value in values))


def _is_plain_id(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and 0 < len(value) <= MAX_REF_CHARACTERS and value.replace("-", "").isalnum()


def _clean_refs(refs: Mapping[str, Any]) -> dict[str, str | int]:
    """References are ids only: keys ending in ``_id``, values UUIDs, integers or short id strings."""
    cleaned: dict[str, str | int] = {}
    for key, value in refs.items():
        if not (isinstance(key, str) and key.endswith("_id") and key.replace("_", "").isalnum()):
            raise ValueError(f"A reference key must name an id (…_id), not {key!r}.")
        if isinstance(value, uuid.UUID):
            cleaned[key] = str(value)
        elif _is_plain_id(value):
            cleaned[key] = value
        else:
            raise ValueError(f"The reference {key} must be an id.")
    return cleaned


def _lock_stream() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [STREAM_LOCK_KEY])


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
    cleaned_refs = _clean_refs(refs)
    recipients, team_ids = list(recipients), list(team_ids)
    recipient_ids = _unique_ids(recipients, User)
    team_id_list = _unique_ids(team_ids, Team)
    key = dedupe_key or ""
    if len(key) > MAX_DEDUPE_KEY_CHARACTERS:
        raise ValueError(f"A dedupe key has at most {MAX_DEDUPE_KEY_CHARACTERS} characters.")
    if not recipient_ids and not team_id_list:
        return []
    with transaction.atomic():
        _lock_stream()
        now = timezone.now()
        notified_before: set[uuid.UUID] = set()
        if key and recipient_ids:
            notified_before = set(
                Notification.objects.filter(recipient_id__in=recipient_ids, dedupe_key=key).values_list(
                    "recipient_id", flat=True
                )
            )
        notifications = [
            Notification(
                recipient_id=recipient_id,
                kind=kind,
                text_da=rendered.text_da,
                text_en=rendered.text_en,
                push_text_da=rendered.push_text_da,
                push_text_en=rendered.push_text_en,
                refs=cleaned_refs,
                dedupe_key=key,
                created_at=now,
            )
            for recipient_id in recipient_ids
            if recipient_id not in notified_before
        ]
        Notification.objects.bulk_create(notifications)
        events = [
            StreamEvent(
                user_id=notification.recipient_id,
                type=NOTIFICATION_EVENT,
                payload={"id": str(notification.pk)},
                created_at=now,
            )
            for notification in notifications
        ]
        events.extend(_team_events(kind=kind, refs=cleaned_refs, team_ids=team_id_list, key=key, now=now))
        StreamEvent.objects.bulk_create(events)
        deliveries = _push_deliveries_create(notifications, now)
        messages = [(_group_of(event), stream_message(event)) for event in events]
        if messages:
            transaction.on_commit(partial(stream_announce, messages), robust=True)
        if deliveries:
            notification_ids = sorted({str(delivery.notification_id) for delivery in deliveries})
            transaction.on_commit(partial(_push_enqueue, notification_ids), robust=True)
    return notifications


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


def _group_of(event: StreamEvent) -> str:
    return team_group(event.team_id) if event.team_id is not None else user_group(event.user_id)


def _push_deliveries_create(notifications: list[Notification], now: datetime) -> list[PushDelivery]:
    """One pending delivery per notification and active install of its recipient, in the same transaction."""
    if not notifications:
        return []
    installs: dict[uuid.UUID, list[uuid.UUID]] = {}
    for install_id, user_id in (
        installs_reachable(now)
        .filter(user_id__in={notification.recipient_id for notification in notifications})
        .values_list("id", "user_id")
    ):
        installs.setdefault(user_id, []).append(install_id)
    deliveries = [
        PushDelivery(notification=notification, install_id=install_id, next_attempt_at=now, created_at=now)
        for notification in notifications
        for install_id in installs.get(notification.recipient_id, [])
    ]
    PushDelivery.objects.bulk_create(deliveries)
    return deliveries


async def _group_send_all(layer: Any, messages: list[tuple[str, dict[str, Any]]]) -> None:
    for group, message in messages:
        await layer.group_send(group, message)


def stream_announce(messages: list[tuple[str, dict[str, Any]]]) -> None:
    """Send stream events to their groups. Best-effort: a client that misses one replays it on reconnect."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(_group_send_all)(layer, messages)
    except Exception as error:
        logger.warning(
            "channel layer unavailable (%s): %d stream events wait for replay", type(error).__name__, len(messages)
        )


def _push_enqueue(notification_ids: list[str]) -> None:
    from notifications.tasks import deliver_push

    try:
        deliver_push.enqueue(notification_ids=notification_ids)
    except Exception as error:
        # The deliveries are stored as pending; the periodic ``deliver_due_push`` sends them.
        logger.warning("push delivery not enqueued (%s); left to the periodic run", type(error).__name__)


# --- The inbox -----------------------------------------------------------------------------------


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


def notifications_mark_delivered(*, user_id: Any, notification_ids: Iterable[Any]) -> int:
    """Record that notifications reached one of the recipient's apps (websocket or push)."""
    ids = [value for value in notification_ids if value]
    if not ids:
        return 0
    return Notification.objects.filter(pk__in=ids, recipient_id=user_id, delivered_at__isnull=True).update(
        delivered_at=timezone.now()
    )


# --- App installs --------------------------------------------------------------------------------


@transaction.atomic
def push_install_register(
    *, actor: Actor, fcm_token: str, platform: str, app_version: str, locale: str
) -> tuple[PushInstall, bool]:
    """Register or refresh the calling app install's FCM token; idempotent.

    A token belongs to the login that registered it last: an install moves to the new user when
    another person logs in on the same phone, and what was still waiting for the previous user is
    not pushed to it. A new token from the same login replaces the old one.
    """
    now = timezone.now()
    session: AppSession | None = actor.session
    install, created = PushInstall.objects.select_for_update().update_or_create(
        fcm_token=fcm_token,
        defaults={
            "user": actor.user,
            "session": session,
            "platform": platform,
            "app_version": app_version,
            "locale": locale,
            "is_active": True,
            "last_seen_at": now,
            "disabled_at": None,
            "disabled_reason": "",
        },
        create_defaults={
            "user": actor.user,
            "session": session,
            "platform": platform,
            "app_version": app_version,
            "locale": locale,
            "created_at": now,
            "last_seen_at": now,
        },
    )
    PushDelivery.objects.filter(
        ~Q(notification__recipient=actor.user), install=install, status=PushDelivery.Status.PENDING
    ).update(status=PushDelivery.Status.DISABLED)
    if session is not None:
        replaced = PushInstall.objects.filter(session=session, is_active=True).exclude(pk=install.pk)
        PushDelivery.objects.filter(install__in=replaced, status=PushDelivery.Status.PENDING).update(
            status=PushDelivery.Status.DISABLED
        )
        replaced.update(is_active=False, disabled_at=now, disabled_reason=PushInstall.DisabledReason.REPLACED)
    return install, created


def push_install_delete(*, install: PushInstall) -> None:
    install.delete()
