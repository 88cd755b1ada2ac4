import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

USER = settings.AUTH_USER_MODEL


class Notification(models.Model):
    """One message in one person's inbox. The inbox is the truth: websockets and push only announce it.

    ``text_da``/``text_en`` are rendered from ``notifications.texts`` when the notification is made; the
    push texts are neutral (no names, no health terms) because they are shown on a lock screen. ``refs``
    holds only ids of what the notification is about; the app fetches the details over the API.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Indexed first in ``notification_inbox`` and the dedupe-key constraint: no index of its own to write.
    recipient = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="notifications", db_index=False)
    kind = models.CharField(max_length=60)
    text_da = models.CharField(max_length=500)
    text_en = models.CharField(max_length=500)
    push_text_da = models.CharField(max_length=200)
    push_text_en = models.CharField(max_length=200)
    refs = models.JSONField(default=dict, blank=True)
    dedupe_key = models.CharField(
        max_length=200, blank=True, help_text="A producer's key: the same key makes one notification per recipient."
    )
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True, help_text="First shown on a websocket or pushed.")
    streamed_at = models.DateTimeField(
        null=True, blank=True, help_text="First received by an open app over the websocket: no push follows."
    )
    read_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"], condition=~Q(dedupe_key=""), name="notification_unique_dedupe_key"
            )
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_inbox"),
            models.Index(
                fields=["recipient", "-created_at", "-id"],
                condition=Q(read_at__isnull=True),
                name="notification_inbox_unread",
            ),
            # A producer finds every recipient's copy of one notice by its key (an alert acknowledged).
            models.Index(fields=["dedupe_key"], condition=~Q(dedupe_key=""), name="notification_dedupe_key"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id}"

    def text(self, language: str) -> str:
        return self.text_en if language == "en" else self.text_da

    def push_text(self, language: str) -> str:
        return self.push_text_en if language == "en" else self.push_text_da


class StreamEvent(models.Model):
    """One event of a personal stream (``user``) or a team's live stream (``team``), in id order.

    The id is the event id clients resume from: ids are handed out in commit order (see
    ``services.inbox.STREAM_LOCK_KEY``), so a client that saw id N has seen everything before it.
    ``payload`` holds ids only.
    """

    id = models.BigAutoField(primary_key=True)
    # Both indexed first in ``stream_event_user`` and ``stream_event_team``.
    user = models.ForeignKey(USER, on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_index=False)
    team = models.ForeignKey(
        "backend.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_index=False
    )
    type = models.CharField(max_length=60)
    payload = models.JSONField(default=dict)
    dedupe_key = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(team__isnull=True))
                | (Q(user__isnull=True) & Q(team__isnull=False)),
                name="stream_event_one_stream",
            ),
            models.UniqueConstraint(
                fields=["team", "dedupe_key"],
                condition=Q(team__isnull=False) & ~Q(dedupe_key=""),
                name="stream_event_unique_team_dedupe_key",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "id"], name="stream_event_user"),
            models.Index(fields=["team", "id"], name="stream_event_team"),
            models.Index(fields=["created_at"], name="stream_event_created"),
        ]

    def __str__(self) -> str:
        return f"#{self.id} {self.type}"


class PushInstall(models.Model):
    """An app install that can receive push messages: its FCM token, refreshed by the app.

    An install belongs to the login (app session) that registered it: signing that session out stops
    its pushes. A token FCM reports as unregistered or invalid disables the install.
    """

    class Platform(models.TextChoices):
        IOS = "ios", "iOS"
        ANDROID = "android", "Android"

    class Locale(models.TextChoices):
        DA = "da", "Dansk"
        EN = "en", "English"

    class DisabledReason(models.TextChoices):
        UNREGISTERED = "unregistered", _("Afmeldt hos FCM")
        INVALID_TOKEN = "invalid_token", _("Ugyldig FCM-nøgle")
        SENDER_ID_MISMATCH = "sender_id_mismatch", _("Nøglen hører til et andet projekt")
        REPLACED = "replaced", _("Erstattet af en ny nøgle")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="push_installs")
    session = models.ForeignKey(
        "backend.AppSession", on_delete=models.SET_NULL, null=True, blank=True, related_name="push_installs"
    )
    fcm_token = models.CharField(max_length=512, unique=True)
    platform = models.CharField(max_length=10, choices=Platform.choices)
    app_version = models.CharField(max_length=40, blank=True)
    locale = models.CharField(max_length=5, choices=Locale.choices, default=Locale.DA)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=24, choices=DisabledReason.choices, blank=True)

    class Meta:
        ordering = ["-last_seen_at"]
        indexes = [models.Index(fields=["user", "is_active"], name="push_install_user_active")]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} · {self.user_id}"


class PushDelivery(models.Model):
    """One notification pushed to one install: claimed by one worker at a time, sent at most once."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Venter")
        SENDING = "sending", _("Sendes")
        SENT = "sent", _("Sendt")
        FAILED = "failed", _("Fejlet")
        DISABLED = "disabled", _("Installation slået fra")
        SKIPPED = "skipped", _("Allerede læst eller vist i den åbne app")

    id = models.BigAutoField(primary_key=True)
    # Indexed first in ``push_delivery_unique_install``.
    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="push_deliveries", db_index=False
    )
    install = models.ForeignKey(PushInstall, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claim = models.CharField(max_length=32, blank=True, help_text="The worker run that holds the row.")
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=200, blank=True)
    last_error = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["notification", "install"], name="push_delivery_unique_install")]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="push_delivery_due"),
            models.Index(fields=["claimed_until"], condition=Q(status="sending"), name="push_delivery_claimed"),
            models.Index(fields=["claim"], condition=~Q(claim=""), name="push_delivery_claim"),
        ]
        verbose_name_plural = "push deliveries"

    def __str__(self) -> str:
        return f"{self.notification_id} → {self.install_id}: {self.status}"


class ReminderOccurrence(models.Model):
    """One reminder due at one instant: scheduled by a producer, claimed by one dispatcher, then sent,
    cancelled or suppressed.

    A producer names its source (``slot:<id>``, ``questionnaire:<id>``…): scheduling the same source for
    the same recipient again moves the reminder instead of adding one. ``recipient`` is empty when the
    reminder goes to an ``audience`` resolved when it falls due (``it_staff:<municipality id>``): it is
    then copied once per member, so that whoever holds the role that day is reminded. A dispatcher holds a
    claimed reminder until ``claimed_until``; after that another may take it over. The inbox notification
    made for it has the occurrence's id as its dedupe key, so it is made once however often dispatch runs.
    A snoozed reminder is a new occurrence with ``snoozed_from`` set and the first one's ``subject_key``,
    so cancelling the source (the slot was done) cancels the snooze too.
    """

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Planlagt")
        CLAIMED = "claimed", _("Under afsendelse")
        SENT = "sent", _("Sendt")
        CANCELLED = "cancelled", _("Aflyst")
        SUPPRESSED = "suppressed", _("Ikke sendt")

    class SuppressedReason(models.TextChoices):
        MUTED = "muted", _("Slået fra af modtageren")
        EXPIRED = "expired", _("For sent at minde om")
        NO_RECIPIENT = "no_recipient", _("Ingen modtagere")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Indexed first in ``reminder_one_per_recipient_source``.
    recipient = models.ForeignKey(
        USER, on_delete=models.CASCADE, null=True, blank=True, related_name="reminder_occurrences", db_index=False
    )
    audience = models.CharField(
        max_length=80, blank=True, help_text="Whom to remind when the recipient is resolved only when due."
    )
    kind = models.CharField(max_length=60)
    source_key = models.CharField(max_length=200, help_text="What the reminder is about, e.g. slot:<id>.")
    subject_key = models.CharField(
        max_length=200, help_text="The source key, or for a snoozed reminder the source key of the first one."
    )
    due_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Not sent after this instant.")
    refs = models.JSONField(default=dict, blank=True)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    suppressed_reason = models.CharField(max_length=12, choices=SuppressedReason.choices, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True, help_text="The dispatcher run that holds the row.")
    claimed_until = models.DateTimeField(null=True, blank=True)
    notification = models.ForeignKey(
        Notification, on_delete=models.SET_NULL, null=True, blank=True, related_name="reminder_occurrences"
    )
    # No foreign key in the database: on PostgreSQL the table is partitioned (``notifications.partitioning``).
    snoozed_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="snoozes", db_constraint=False
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "source_key"], name="reminder_one_per_recipient_source"),
            models.UniqueConstraint(
                fields=["audience", "source_key"],
                condition=Q(recipient__isnull=True),
                name="reminder_one_per_audience_source",
            ),
            models.CheckConstraint(
                condition=Q(recipient__isnull=False) | ~Q(audience=""), name="reminder_has_recipient_or_audience"
            ),
        ]
        indexes = [
            models.Index(fields=["due_at"], condition=Q(status="scheduled"), name="reminder_due"),
            models.Index(fields=["claimed_until"], condition=Q(status="claimed"), name="reminder_claimed"),
            models.Index(fields=["subject_key"], name="reminder_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.source_key} → {self.recipient_id or self.audience} at {self.due_at:%Y-%m-%d %H:%M}"


class NotificationPreference(models.Model):
    """One person's choice for one kind of notification: push on or off, and for reminders, muted.

    Without a row a kind is pushed and not muted. The inbox and the websocket stream always get the
    notification (the inbox is the truth); a muted reminder kind is not sent at all.
    """

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="notification_preferences")
    kind = models.CharField(max_length=60)
    is_muted = models.BooleanField(default=False)
    push_enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind"]
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_once")]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.kind}"


class QuietHours(models.Model):
    """When a person does not want reminders: from ``start_time`` to ``end_time`` local wall-clock time in
    ``time_zone`` (across midnight when the start is later than the end). A reminder due inside them
    is sent when they end."""

    id = models.BigAutoField(primary_key=True)
    user = models.OneToOneField(USER, on_delete=models.CASCADE, related_name="quiet_hours")
    start_time = models.TimeField()
    end_time = models.TimeField()
    time_zone = models.CharField(max_length=64)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "quiet hours"
        constraints = [
            models.CheckConstraint(condition=~Q(start_time=models.F("end_time")), name="quiet_hours_not_empty")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.start_time:%H:%M}–{self.end_time:%H:%M} {self.time_zone}"
