import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

USER = settings.AUTH_USER_MODEL


class Notification(models.Model):
    """One message in one person's inbox. The inbox is the truth: websockets and push only announce it.

    ``text_da``/``text_en`` are rendered from ``notifications.texts`` when the notification is made; the
    push texts are neutral (no names, no health terms) because they are shown on a lock screen. ``refs``
    holds only ids of what the notification is about; the app fetches the details over the API.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    recipient = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="notifications")
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
    ``services.stream_events_write``), so a client that saw id N has seen everything before it.
    ``payload`` holds ids only.
    """

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(USER, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    team = models.ForeignKey("backend.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
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
        UNREGISTERED = "unregistered", "Afmeldt hos FCM"
        INVALID_TOKEN = "invalid_token", "Ugyldig FCM-nøgle"
        SENDER_ID_MISMATCH = "sender_id_mismatch", "Nøglen hører til et andet projekt"
        REPLACED = "replaced", "Erstattet af en ny nøgle"

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
        PENDING = "pending", "Venter"
        SENDING = "sending", "Sendes"
        SENT = "sent", "Sendt"
        FAILED = "failed", "Fejlet"
        DISABLED = "disabled", "Installation slået fra"
        SKIPPED = "skipped", "Allerede læst"

    id = models.BigAutoField(primary_key=True)
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="push_deliveries")
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
