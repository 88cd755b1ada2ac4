"""Writes of the notifications app: ``notify`` for every other app, and the inbox's own changes.

``notify`` stores the notifications and their stream events in one transaction; after commit it
announces the events over the channel layer (best-effort: when Redis is down the events wait in the
database for the client's replay) and enqueues push delivery. The database is the outbox.
"""

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Model, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from backend.actors import Actor
from backend.models import AppSession, Team, User
from notifications import texts
from notifications.channel_layer import publish
from notifications.models import (
    Notification,
    NotificationPreference,
    PushDelivery,
    PushInstall,
    QuietHours,
    ReminderOccurrence,
    StreamEvent,
)
from notifications.quiet import quiet_hours_end
from notifications.selectors import installs_reachable
from notifications.streams import (
    NOTIFICATION_EVENT,
    group_of,
    stream_message,
)

logger = logging.getLogger(__name__)

MAX_DEDUPE_KEY_CHARACTERS = 200
MAX_REF_CHARACTERS = 64
# Stream event ids must be handed out in commit order, or a client that resumes after id N could
# miss an event with a smaller id that committed later. SQLite serialises writers already; on
# PostgreSQL this transaction-level advisory lock does it for the few statements of ``notify``.
STREAM_LOCK_KEY = 0x6D657374


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
    cleaned_refs = _clean_refs(refs)
    recipients, team_ids = list(recipients), list(team_ids)
    recipient_ids = _unique_ids(recipients, User)
    team_id_list = _unique_ids(team_ids, Team)
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
        deliveries = _push_deliveries_create(notifications, now)
        _announce_on_commit(events, deliveries, enqueue_push=True)
    return notifications


def notify_each(*, requests: Sequence[NotificationRequest], enqueue_push: bool = True) -> list[uuid.UUID]:
    """``notify`` for many notifications that differ in recipient, kind, references or key, in one
    transaction with a constant number of queries.

    Returns the id of each request's notification, in order: the one made now, or, for a dedupe key
    already used for that recipient, the one made before (nothing new is stored or pushed for it).
    With ``enqueue_push=False`` the caller sends the pushes itself (``push.push_deliver``) once the
    transaction has committed; the deliveries are stored either way, so the periodic run sends them
    if the caller cannot.
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
                _uuid(request.recipient_id),
                request.kind,
                rendered[text_key],
                _clean_refs(request.refs),
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
        deliveries = _push_deliveries_create(notifications, now)
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
        transaction.on_commit(partial(_push_enqueue, notification_ids), robust=True)


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


def _push_deliveries_create(notifications: list[Notification], now: datetime) -> list[PushDelivery]:
    """One pending delivery per notification and active install of its recipient, in the same transaction,
    unless the recipient turned push off for the notification's kind. A delivery falls due after
    ``push_grace()``, so a notification an open app receives over the websocket meanwhile is not pushed,
    and, unless it is an alert, not before the end of the recipient's quiet hours."""
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
    PushDelivery.objects.bulk_create(deliveries)
    return deliveries


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


def push_grace() -> timedelta:
    """How long a push waits for an open app to receive its notification over the websocket instead."""
    return timedelta(seconds=settings.PUSH_GRACE_SECONDS)


def _push_enqueue(notification_ids: list[str]) -> None:
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


# --- Reminders: what producers schedule and cancel -----------------------------------------------

Reminder = ReminderOccurrence.Status
OPEN_REMINDER = (Reminder.SCHEDULED, Reminder.CLAIMED)
MOVABLE_REMINDER = (Reminder.SCHEDULED, Reminder.CANCELLED)
MAX_SOURCE_KEY_CHARACTERS = 200
IT_STAFF_AUDIENCE = "it_staff"
AUDIENCES = frozenset({IT_STAFF_AUDIENCE})


@dataclass(frozen=True)
class ReminderSpec:
    """A reminder a producer wants: ``kind`` (a ``reminder.*`` kind of ``notifications.texts``) for
    ``recipient_id`` (a user id) at ``due_at``, about ``source_key`` (``slot:<id>``…).

    ``audience`` instead of a recipient names people resolved when the reminder falls due
    (``it_staff_audience(municipality_id)``). ``expires_at``: not sent after this instant (a training
    reminder is pointless once the slot's grace period is over). ``refs`` are ids only.
    """

    recipient_id: uuid.UUID | str | None
    kind: str
    due_at: datetime
    source_key: str
    refs: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    audience: str = ""
    expires_at: datetime | None = None


def it_staff_audience(municipality_id: Any) -> str:
    """Everyone holding the IT role in a team of the municipality on the day the reminder falls due."""
    return f"{IT_STAFF_AUDIENCE}:{_uuid(municipality_id)}"


def reminder_due_at(day: date, at: time, time_zone: str) -> datetime:
    """``at`` local wall-clock time on ``day`` in ``time_zone``, as a UTC instant.

    Correct across daylight-saving changes: 10:00 stays 10:00 local. A time the clocks skip (02:30
    on the spring change) falls after the gap; a time they repeat is its first occurrence.
    """
    return datetime.combine(day, at, tzinfo=ZoneInfo(time_zone)).astimezone(UTC)


def _aware(value: datetime | None, name: str) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"A reminder's {name} must be time-zone aware.")


def _checked_reminder(spec: ReminderSpec) -> tuple[tuple[uuid.UUID | None, str, str], ReminderOccurrence]:
    if not texts.is_reminder(spec.kind):
        raise ValueError(f"{spec.kind!r} is not a kind of reminder.")
    texts.render(spec.kind, spec.params)
    _aware(spec.due_at, "due_at")
    _aware(spec.expires_at, "expires_at")
    if not 0 < len(spec.source_key) <= MAX_SOURCE_KEY_CHARACTERS:
        raise ValueError(f"A reminder's source key has 1 to {MAX_SOURCE_KEY_CHARACTERS} characters.")
    recipient_id = _uuid(spec.recipient_id) if spec.recipient_id is not None else None
    if (recipient_id is None) == (not spec.audience):
        raise ValueError("A reminder has either a recipient or an audience.")
    if spec.audience and spec.audience.partition(":")[0] not in AUDIENCES:
        raise ValueError(f"Unknown reminder audience {spec.audience!r}.")
    row = ReminderOccurrence(
        recipient_id=recipient_id,
        audience=spec.audience,
        kind=spec.kind,
        source_key=spec.source_key,
        due_at=spec.due_at.astimezone(UTC),
        expires_at=spec.expires_at.astimezone(UTC) if spec.expires_at is not None else None,
        refs=_clean_refs(spec.refs),
        params=dict(spec.params),
    )
    return (recipient_id, "" if recipient_id is not None else spec.audience, spec.source_key), row


def _target(row: ReminderOccurrence) -> tuple[uuid.UUID | None, str, str]:
    return (row.recipient_id, "" if row.recipient_id is not None else row.audience, row.source_key)


REMINDER_FIELDS = ("kind", "due_at", "expires_at", "refs", "params")


def reminders_schedule(*, items: Iterable[ReminderSpec], exclusive: bool = False) -> int:
    """Schedule reminders, or move them: idempotent per (recipient, source key).

    A reminder not yet sent (scheduled, or cancelled before) gets the new time, kind and references
    and is scheduled again; one already sent, suppressed, or being sent right now is left as it is.
    With ``exclusive`` the items are the whole audience of their source keys: a person's reminder for
    one of those sources that is not among them is cancelled (a relative whose grant ended). Returns
    how many reminders were made or changed. Call it inside the transaction that makes the source, so
    the two are stored together. A constant number of queries per call.
    """
    wanted: dict[tuple[uuid.UUID | None, str, str], ReminderOccurrence] = {}
    for spec in items:
        target, row = _checked_reminder(spec)
        wanted[target] = row
    if not wanted:
        return 0
    now = timezone.now()
    keys = {key for _, _, key in wanted}
    existing = {
        _target(row): row
        for row in ReminderOccurrence.objects.filter(subject_key__in=keys, source_key__in=keys).only(
            "pk", "recipient_id", "audience", "source_key", "status", *REMINDER_FIELDS
        )
    }
    new: list[ReminderOccurrence] = []
    moved: list[ReminderOccurrence] = []
    for target, row in wanted.items():
        known = existing.get(target)
        if known is None:
            row.created_at = row.updated_at = now
            row.subject_key = row.source_key
            new.append(row)
        elif known.status in MOVABLE_REMINDER and (
            known.status != Reminder.SCHEDULED
            or any(getattr(known, name) != getattr(row, name) for name in REMINDER_FIELDS)
        ):
            for name in REMINDER_FIELDS:
                setattr(known, name, getattr(row, name))
            known.status, known.updated_at = Reminder.SCHEDULED, now
            moved.append(known)
    ReminderOccurrence.objects.bulk_create(new, ignore_conflicts=True)
    changed = ReminderOccurrence.objects.filter(status__in=MOVABLE_REMINDER).bulk_update(
        moved, [*REMINDER_FIELDS, "status", "updated_at"], batch_size=500
    )
    if exclusive:
        stale = [
            row.pk
            for target, row in existing.items()
            if target not in wanted
            and row.recipient_id is not None
            and not row.audience
            and row.status in OPEN_REMINDER
        ]
        if stale:
            ReminderOccurrence.objects.filter(pk__in=stale, status__in=OPEN_REMINDER).update(
                status=Reminder.CANCELLED, claimed_by="", claimed_until=None, updated_at=now
            )
    return len(new) + changed


def reminders_cancel(*, source_keys: Iterable[str], recipient_ids: Iterable[Any] | None = None) -> int:
    """Cancel the reminders about these sources (for these recipients, or everyone) that are not sent yet,
    snoozed ones included. One that a dispatcher is sending at this moment is sent. Returns how many."""
    keys = list(dict.fromkeys(source_keys))
    if not keys:
        return 0
    reminders = ReminderOccurrence.objects.filter(subject_key__in=keys, status__in=OPEN_REMINDER)
    if recipient_ids is not None:
        reminders = reminders.filter(recipient_id__in=[_uuid(value) for value in recipient_ids])
    return reminders.update(status=Reminder.CANCELLED, claimed_by="", claimed_until=None, updated_at=timezone.now())
