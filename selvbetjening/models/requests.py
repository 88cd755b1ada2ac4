import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from backend.concurrency import VersionedModel


def _photo_path(instance: "CitizenRequest", filename: str) -> str:
    return f"requests/{instance.citizen_id}/{uuid.uuid4()}.jpg"


class CitizenRequest(VersionedModel):
    """A request (henvendelse) from a citizen to their contact person and care team."""

    class Category(models.TextChoices):
        HELP = "help", _("Brug for hjælp")
        PLAN_CHANGE = "plan_change", _("Ændring af plan")
        ASSISTIVE_DEVICE = "assistive_device", _("Hjælpemiddel")
        DEVICE_FAULT = "device_fault", _("Fejl på udstyr")
        OTHER = "other", _("Andet")

    class Status(models.TextChoices):
        OPEN = "open", _("Modtaget")
        IN_PROGRESS = "in_progress", _("Under behandling")
        ANSWERED = "answered", _("Besvaret")
        CLOSED = "closed", _("Lukket")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    citizen = models.ForeignKey("backend.Citizen", on_delete=models.CASCADE, related_name="requests")
    episode = models.ForeignKey(
        "selvbetjening.Episode", on_delete=models.SET_NULL, null=True, blank=True, related_name="requests"
    )
    team = models.ForeignKey("backend.Team", on_delete=models.PROTECT, related_name="citizen_requests")
    category = models.CharField(max_length=20, choices=Category.choices)
    text = models.TextField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    respond_by = models.DateTimeField(help_text="The deadline for an answer, shown to the citizen.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_by_role = models.CharField(max_length=10)
    photo = models.FileField(upload_to=_photo_path, blank=True)
    photo_thumbnail = models.FileField(upload_to=_photo_path, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["team", "status", "respond_by"]),
            models.Index(fields=["citizen", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} · {self.citizen}"


class RequestMessage(models.Model):
    """One message in a request's thread, from the citizen, a relative or staff."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    request = models.ForeignKey(CitizenRequest, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_name = models.CharField(max_length=200)
    author_role = models.CharField(max_length=20)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.author_name}: {self.text[:40]}"
