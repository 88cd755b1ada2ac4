import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Questionnaire(models.Model):
    """A questionnaire, identified by a stable key; its content lives in numbered versions."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    key = models.SlugField(max_length=60, unique=True)
    title_da = models.CharField(max_length=200)
    title_en = models.CharField(max_length=200)
    schedule_with_episodes = models.BooleanField(
        default=False, help_text="Sent to the citizen at the start, midway and end of every episode."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.title_da


class QuestionnaireVersion(models.Model):
    """One immutable version of a questionnaire's items (FHIR Questionnaire shape) and scoring.

    ``items`` is a list of ``{link_id, type, text: {da, en}, required, options, min, max,
    enable_when, enable_behavior}``; ``scoring`` is ``{method: sum|mean, link_ids: [...]}`` or null.
    Answers are always validated against the version they answer.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    items = models.JSONField()
    scoring = models.JSONField(null=True, blank=True)
    is_current = models.BooleanField(default=True)
    published_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["questionnaire", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "number"], name="questionnaire_version_unique_number"),
            models.UniqueConstraint(
                fields=["questionnaire"],
                condition=Q(is_current=True),
                name="questionnaire_one_current_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.questionnaire.key} v{self.number}"


class QuestionnaireAssignment(models.Model):
    """A questionnaire sent to a citizen to answer from a date: at an episode's start, midway or end,
    or by staff."""

    class Occasion(models.TextChoices):
        EPISODE_START = "episode_start", _("Ved forløbets start")
        EPISODE_MIDWAY = "episode_midway", _("Midt i forløbet")
        EPISODE_END = "episode_end", _("Ved forløbets afslutning")
        STAFF = "staff", _("Sendt af medarbejder")

    class Status(models.TextChoices):
        PENDING = "pending", _("Afventer")
        ANSWERED = "answered", _("Besvaret")
        CANCELLED = "cancelled", _("Annulleret")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    citizen = models.ForeignKey("backend.Citizen", on_delete=models.CASCADE, related_name="questionnaire_assignments")
    episode = models.ForeignKey(
        "selvbetjening.Episode",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="questionnaires",
    )
    version = models.ForeignKey(QuestionnaireVersion, on_delete=models.PROTECT, related_name="assignments")
    occasion = models.CharField(max_length=16, choices=Occasion.choices)
    due_on = models.DateField(help_text="The first day the citizen is asked to answer.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    due_notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_on", "created_at"]
        indexes = [models.Index(fields=["citizen", "status", "due_on"])]

    def __str__(self) -> str:
        return f"{self.version} → {self.citizen} ({self.due_on})"


class QuestionnaireResponse(models.Model):
    """The citizen's answers to one assignment, valid for the version answered."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    assignment = models.OneToOneField(QuestionnaireAssignment, on_delete=models.CASCADE, related_name="response")
    version = models.ForeignKey(QuestionnaireVersion, on_delete=models.PROTECT, related_name="responses")
    answers = models.JSONField(help_text="A list of {link_id, value} for the enabled items answered.")
    score = models.DecimalField(max_digits=9, decimal_places=3, null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-submitted_at"]

    def __str__(self) -> str:
        return f"Svar på {self.assignment}"
