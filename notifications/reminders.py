"""Reminders: dispatching those that fall due, quiet hours, per-kind preferences and snooze.

Producers schedule and cancel reminders through ``notifications.services`` (``reminders_schedule``,
``reminders_cancel``). A dispatcher (``manage.py dispatch_reminders``, any number at once) claims due
reminders in batches: on PostgreSQL with ``SELECT … FOR UPDATE SKIP LOCKED``, elsewhere with a
conditional UPDATE, so that a reminder is held by one dispatcher at a time, for a lease. Then, for each
batch, in one transaction that first locks the rows it still holds: a reminder whose kind the recipient
muted is suppressed, one inside the recipient's quiet hours goes back to scheduled at their end, and
the rest become inbox notifications (``notify_each``) with the reminder's id as the dedupe key and are
marked sent, pointing at their notification. The pushes are sent once that has committed.

A dispatcher killed at any point loses nothing: its claim runs out and another takes the reminders over;
one whose notification was already stored gets no second one (the dedupe key), and its push deliveries
exist once and are sent by whoever runs next (``deliver_due_push`` at the latest).
"""

import logging
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.db.models import CharField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Replace
from django.utils import timezone

from backend.access.declaration import declared
from backend.actors import Actor
from backend.errors import Conflict, InvalidInput
from backend.models import Citizen, User
from notifications import push, texts
from notifications.audiences import audience_members
from notifications.models import Notification, NotificationPreference, QuietHours, ReminderOccurrence
from notifications.quiet import quiet_hours_end, zone_or_none
from notifications.services import (
    NotificationRequest,
    PushClaim,
    notification_read,
    notify_each,
    push_grace,
)
from notifications.services.scheduling import reminder_sources_lock

logger = logging.getLogger(__name__)

Reminder = ReminderOccurrence.Status
Suppressed = ReminderOccurrence.SuppressedReason
BATCH_SIZE = 500
SNOOZE_MINUTES = (5, 720)
SNOOZE_PREFIX = "snooze:"


def claim_lease() -> timedelta:
    """How long a dispatcher holds a claimed batch before another may take it over."""
    return timedelta(seconds=getattr(settings, "REMINDER_CLAIM_LEASE_SECONDS", 120))


# --- Claiming ------------------------------------------------------------------------------------


def _claim_values(token: str, now: datetime) -> dict[str, Any]:
    return {"status": Reminder.CLAIMED, "claimed_by": token, "claimed_until": now + claim_lease(), "updated_at": now}


def reminders_claim(*, now: datetime, worker_id: str, limit: int = BATCH_SIZE) -> str | None:
    """Claim up to ``limit`` due reminders (and any whose dispatcher's lease ran out) for one batch.

    Returns the claim's token, or None when nothing was due. Of two dispatchers, only one gets a row.
    """
    token = f"{worker_id[:80]}:{secrets.token_hex(6)}"
    abandoned = ReminderOccurrence.objects.filter(status=Reminder.CLAIMED, claimed_until__lt=now)
    due = ReminderOccurrence.objects.filter(status=Reminder.SCHEDULED, due_at__lte=now).order_by("due_at")
    values = _claim_values(token, now)
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            ids = list(abandoned.select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit])
            if len(ids) < limit:
                ids += due.select_for_update(skip_locked=True).values_list("pk", flat=True)[: limit - len(ids)]
            claimed = ReminderOccurrence.objects.filter(pk__in=ids).update(**values) if ids else 0
    else:
        ids = list(abandoned.values_list("pk", flat=True)[:limit])
        if len(ids) < limit:
            ids += due.values_list("pk", flat=True)[: limit - len(ids)]
        # The UPDATE checks the condition again: of two dispatchers, only one changes a row.
        still_due = Q(status=Reminder.SCHEDULED, due_at__lte=now) | Q(status=Reminder.CLAIMED, claimed_until__lt=now)
        claimed = ReminderOccurrence.objects.filter(still_due, pk__in=ids).update(**values) if ids else 0
    return token if claimed else None


def _expand(rows: list[ReminderOccurrence], token: str, now: datetime) -> None:
    """Copy each audience reminder to every member who has none for its source, held by the same claim; the
    audience row is done."""
    with transaction.atomic():
        reminder_sources_lock(row.source_key for row in rows)
        held = list(
            ReminderOccurrence.objects.select_for_update()
            .filter(pk__in=[row.pk for row in rows], claimed_by=token, status=Reminder.CLAIMED)
            .values_list("pk", flat=True)
        )
        members = {row.pk: audience_members(row.audience) for row in rows if row.pk in held}
        reminded = set(
            ReminderOccurrence.objects.filter(
                recipient_id__in={member for each in members.values() for member in each},
                source_key__in={row.source_key for row in rows if row.pk in held},
            ).values_list("recipient_id", "source_key")
        )
        copies: list[ReminderOccurrence] = []
        empty: list[UUID] = [pk for pk, each in members.items() if not each]
        for row in rows:
            copies.extend(
                ReminderOccurrence(
                    recipient_id=member,
                    audience=row.audience,
                    kind=row.kind,
                    source_key=row.source_key,
                    subject_key=row.subject_key,
                    due_at=row.due_at,
                    expires_at=row.expires_at,
                    refs=row.refs,
                    params=row.params,
                    created_at=now,
                    **_claim_values(token, now),
                )
                for member in members.get(row.pk, [])
                if (member, row.source_key) not in reminded
            )
        ReminderOccurrence.objects.bulk_create(copies, ignore_conflicts=True)
        done = ReminderOccurrence.objects.filter(pk__in=held)
        done.exclude(pk__in=empty).update(status=Reminder.SENT, claimed_by="", claimed_until=None, updated_at=now)
        done.filter(pk__in=empty).update(
            status=Reminder.SUPPRESSED,
            suppressed_reason=Suppressed.NO_RECIPIENT,
            claimed_by="",
            claimed_until=None,
            updated_at=now,
        )


# --- Dispatch ------------------------------------------------------------------------------------


@dataclass
class Decisions:
    send: list[ReminderOccurrence]
    deferred: list[ReminderOccurrence]
    suppressed: dict[str, list[UUID]]


def _decide(rows: list[ReminderOccurrence], now: datetime) -> Decisions:
    recipient_ids = {row.recipient_id for row in rows if row.recipient_id is not None}
    muted = set(
        NotificationPreference.objects.filter(
            user_id__in=recipient_ids, kind__in={row.kind for row in rows}, is_muted=True
        ).values_list("user_id", "kind")
    )
    quiet = {item.user_id: item for item in QuietHours.objects.filter(user_id__in=recipient_ids)}
    # A deactivated user (the access declaration's user rule) is nobody to remind.
    able = set(User.objects.filter(declared().user.q(), pk__in=recipient_ids).values_list("pk", flat=True))
    decisions = Decisions(send=[], deferred=[], suppressed=defaultdict(list))
    for row in rows:
        if row.recipient_id not in able:
            decisions.suppressed[Suppressed.NO_RECIPIENT].append(row.pk)
            continue
        if row.expires_at is not None and row.expires_at <= now:
            decisions.suppressed[Suppressed.EXPIRED].append(row.pk)
            continue
        if (row.recipient_id, row.kind) in muted:
            decisions.suppressed[Suppressed.MUTED].append(row.pk)
            continue
        quiet_hours = quiet.get(row.recipient_id) if row.recipient_id is not None else None
        ends = quiet_hours_end(quiet_hours, now) if quiet_hours is not None else None
        if ends is None:
            decisions.send.append(row)
        elif row.expires_at is not None and ends >= row.expires_at:
            decisions.suppressed[Suppressed.EXPIRED].append(row.pk)
        else:
            row.due_at = ends
            decisions.deferred.append(row)
    return decisions


def reminder_dedupe_key(occurrence_id: UUID) -> str:
    """The dedupe key of the notification a reminder makes: the reminder's id (32 hex digits, the form
    both databases can compute from the id, see ``_own_notification``)."""
    return occurrence_id.hex


def _own_notification() -> Subquery:
    """The notification made for the reminder of the outer row: its recipient's, with its dedupe key."""
    key = Replace(Cast(OuterRef("pk"), output_field=CharField()), Value("-"), Value(""))
    return Subquery(Notification.objects.filter(recipient_id=OuterRef("recipient_id"), dedupe_key=key).values("pk")[:1])


def _release() -> dict[str, Any]:
    return {"claimed_by": "", "claimed_until": None}


def _dispatch(token: str, now: datetime, push_claim: PushClaim | None = None) -> tuple[int, list[UUID]]:
    """Send, defer or suppress the reminders of one claim. Returns how many were sent and their
    notifications' ids. With a ``push_claim`` the push deliveries due at once are stored held by it."""
    rows = list(ReminderOccurrence.objects.filter(claimed_by=token, status=Reminder.CLAIMED))
    audience_rows = [row for row in rows if row.recipient_id is None]
    if audience_rows:
        _expand(audience_rows, token, now)
        rows = list(ReminderOccurrence.objects.filter(claimed_by=token, status=Reminder.CLAIMED))
    if not rows:
        return 0, []
    decisions = _decide(rows, now)
    with transaction.atomic():
        held = set(
            ReminderOccurrence.objects.select_for_update()
            .filter(claimed_by=token, status=Reminder.CLAIMED)
            .values_list("pk", flat=True)
        )
        ours = ReminderOccurrence.objects.filter(claimed_by=token, status=Reminder.CLAIMED)
        changed_at = timezone.now()
        for reason, ids in decisions.suppressed.items():
            ours.filter(pk__in=ids).update(
                status=Reminder.SUPPRESSED, suppressed_reason=reason, updated_at=changed_at, **_release()
            )
        deferred = [row for row in decisions.deferred if row.pk in held]
        ours.bulk_update(deferred, ["due_at"], batch_size=BATCH_SIZE)
        ours.filter(pk__in=[row.pk for row in deferred]).update(
            status=Reminder.SCHEDULED, updated_at=changed_at, **_release()
        )
        sending = [row for row in decisions.send if row.pk in held]
        notification_ids = notify_each(
            requests=[
                NotificationRequest(
                    recipient_id=row.recipient_id,  # type: ignore[arg-type]
                    kind=row.kind,
                    refs=row.refs,
                    params=row.params,
                    dedupe_key=reminder_dedupe_key(row.pk),
                )
                for row in sending
            ],
            enqueue_push=False,
            push_claim=push_claim,
        )
        ours.filter(pk__in=[row.pk for row in sending]).update(
            status=Reminder.SENT, notification=_own_notification(), updated_at=changed_at, **_release()
        )
    return len(sending), notification_ids


def _push(claim: PushClaim, count: int) -> None:
    if not count:
        return
    try:
        push.push_deliver_claimed(claim=claim)
    except Exception:
        # The deliveries are stored, held by the claim: once it runs out the periodic deliver_due_push sends them.
        logger.exception("push of %d reminders failed; left to the periodic run", count)


def reminders_dispatch_due(*, now: datetime | None = None, batch_size: int = BATCH_SIZE, worker_id: str) -> int:
    """Dispatch every reminder due, batch by batch; returns how many were sent.

    Safe to run in any number of processes at once: each batch is claimed by one of them. Each batch is
    claimed at the time it starts (a long pass keeps its leases current), or at ``now`` when given.
    The pushes are sent at once when ``PUSH_GRACE_SECONDS`` is 0 (their deliveries are stored claimed by
    this pass, so no other run takes them meanwhile, and they need no claiming again); otherwise they fall
    due after it and ``reminder_pushes_send`` sends those whose notification no open app received meanwhile.
    """
    sent = 0
    while True:
        at = now or timezone.now()
        token = reminders_claim(now=at, worker_id=worker_id, limit=batch_size)
        if token is None:
            return sent
        push_claim = None if push_grace() else push.delivery_claim()
        count, _ = _dispatch(token, at, push_claim)
        sent += count
        if push_claim is not None:
            _push(push_claim, count)


def reminder_pushes_send(*, now: datetime | None = None) -> int:
    """Send the pushes that have fallen due: those of reminders dispatched ``PUSH_GRACE_SECONDS`` ago whose
    notification no open app received over the websocket meanwhile (and any other push due). Returns how
    many were sent; a failure is logged and left to the next run."""
    try:
        return push.push_deliver(now=now).sent
    except Exception:
        logger.exception("sending the pushes due failed; left to the next run")
        return 0


# --- Preferences ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class KindPreference:
    kind: str
    is_reminder: bool
    muted: bool
    push: bool


@dataclass(frozen=True)
class Preferences:
    kinds: list[KindPreference]
    quiet_hours: QuietHours | None


def default_time_zone(user: User) -> str:
    """The citizen's own zone for a citizen, else the municipality's."""
    zone = Citizen.objects.filter(user=user).values_list("time_zone", flat=True).first()
    return zone or settings.DEFAULT_CITIZEN_TIME_ZONE


def preferences_of(user: User) -> Preferences:
    """Every kind with the person's choice (defaults where they made none), and their quiet hours."""
    chosen = {item.kind: item for item in NotificationPreference.objects.filter(user=user)}
    kinds = []
    for kind in sorted(texts.KINDS):
        choice = chosen.get(kind)
        kinds.append(
            KindPreference(
                kind=kind,
                is_reminder=texts.is_reminder(kind),
                muted=choice.is_muted if choice is not None else False,
                push=choice.push_enabled if choice is not None else True,
            )
        )
    return Preferences(kinds=kinds, quiet_hours=QuietHours.objects.filter(user=user).first())


def _checked_kinds(kinds: list[dict[str, Any]]) -> dict[str, dict[str, bool]]:
    checked: dict[str, dict[str, bool]] = {}
    for index, entry in enumerate(kinds):
        kind = entry["kind"]
        if kind not in texts.KINDS:
            raise InvalidInput(f"kinds.{index}.kind", "is not a kind of notification.")
        if kind in checked:
            raise InvalidInput(f"kinds.{index}.kind", "is listed twice.")
        if entry["muted"] and not texts.is_reminder(kind):
            raise InvalidInput(f"kinds.{index}.muted", "only reminders can be muted; turn push off instead.")
        checked[kind] = {"is_muted": entry["muted"], "push_enabled": entry["push"]}
    return checked


@transaction.atomic
def preferences_replace(*, user: User, kinds: list[dict[str, Any]], quiet_hours: dict[str, Any] | None) -> Preferences:
    """Replace the person's choices: the kinds listed get theirs, the others go back to the defaults
    (pushed, not muted); quiet hours are set, or removed with None. 422 naming the field otherwise."""
    checked = _checked_kinds(kinds)
    if quiet_hours is not None:
        start = quiet_hours["start"].replace(second=0, microsecond=0, tzinfo=None)
        end = quiet_hours["end"].replace(second=0, microsecond=0, tzinfo=None)
        zone_name = quiet_hours.get("time_zone") or default_time_zone(user)
        if zone_or_none(zone_name) is None:
            raise InvalidInput("quiet_hours.time_zone", "is not a known time zone (e.g. Europe/Copenhagen).")
        if start == end:
            raise InvalidInput("quiet_hours.end", "must differ from start.")
    now = timezone.now()
    customised = {
        kind: values for kind, values in checked.items() if values != {"is_muted": False, "push_enabled": True}
    }
    NotificationPreference.objects.filter(user=user).exclude(kind__in=customised).delete()
    NotificationPreference.objects.bulk_create(
        [NotificationPreference(user=user, kind=kind, updated_at=now, **values) for kind, values in customised.items()],
        update_conflicts=True,
        unique_fields=["user", "kind"],
        update_fields=["is_muted", "push_enabled", "updated_at"],
    )
    if quiet_hours is None:
        QuietHours.objects.filter(user=user).delete()
    else:
        QuietHours.objects.update_or_create(
            user=user, defaults={"start_time": start, "end_time": end, "time_zone": zone_name, "updated_at": now}
        )
    return preferences_of(user)


# --- Snooze --------------------------------------------------------------------------------------


@transaction.atomic
def reminder_snooze(*, actor: Actor, notification: Notification, minutes: int) -> tuple[ReminderOccurrence, bool]:
    """Remind again in ``minutes`` about what a reminder notification was about; the notification is read.

    Snoozing the same notification again before it reminds moves that reminder (a retry makes no second
    one); once it has reminded, the new notification is the one to snooze (409 ``already_snoozed``). Only
    a reminder can be snoozed (409 ``not_a_reminder``), and not once acknowledged (409
    ``already_acknowledged``). Returns the reminder and whether it was made now.
    """
    if not texts.is_reminder(notification.kind):
        raise Conflict("Only a reminder can be snoozed.", code="not_a_reminder")
    locked = Notification.objects.select_for_update().get(pk=notification.pk)
    if locked.acknowledged_at is not None:
        raise Conflict("The reminder is already acknowledged.", code="already_acknowledged")
    origin = ReminderOccurrence.objects.filter(notification=locked, recipient=actor.user).first()
    now = timezone.now()
    due_at = now + timedelta(minutes=minutes)
    source_key = f"{SNOOZE_PREFIX}{locked.pk}"
    occurrence, created = ReminderOccurrence.objects.select_for_update().get_or_create(
        recipient=actor.user,
        source_key=source_key,
        defaults={
            "kind": locked.kind,
            "subject_key": origin.subject_key if origin is not None else source_key,
            "due_at": due_at,
            "refs": locked.refs,
            "params": origin.params if origin is not None else {},
            "snoozed_from": origin,
            "created_at": now,
            "updated_at": now,
        },
    )
    if not created:
        if occurrence.status not in (Reminder.SCHEDULED, Reminder.CANCELLED):
            raise Conflict("This reminder has already reminded you again.", code="already_snoozed")
        occurrence.due_at, occurrence.status, occurrence.updated_at = due_at, Reminder.SCHEDULED, now
        occurrence.save(update_fields=["due_at", "status", "updated_at"])
    notification_read(notification=locked)
    return occurrence, created
