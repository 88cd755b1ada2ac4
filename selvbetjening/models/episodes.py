import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from backend.concurrency import VersionedModel


class FollowUpResult(models.Model):
    """The code list of follow-up results (E1–E4) an episode ends with; shipped as data."""

    code = models.CharField(max_length=8, primary_key=True)
    display_da = models.CharField(max_length=200)
    display_en = models.CharField(max_length=200)
    fhir_achievement_status = models.CharField(max_length=20, help_text="Goal.achievementStatus it maps to.")
    sort_order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.display_da}"


class Episode(VersionedModel):
    """A citizen's time-limited rehabilitation or training course (forløb) with one contact person."""

    class Kind(models.TextChoices):
        EVERYDAY_REHABILITATION = "everyday_rehabilitation", _("Hverdagsrehabilitering (SEL § 83 a)")
        RETRAINING = "retraining", _("Genoptræning (SEL § 86)")
        TRAINING = "training", _("Træningsforløb")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planlagt")
        ACTIVE = "active", _("Aktivt")
        ON_HOLD = "on_hold", _("Sat i bero")
        COMPLETED = "completed", _("Afsluttet")
        CANCELLED = "cancelled", _("Annulleret")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    citizen = models.ForeignKey("backend.Citizen", on_delete=models.CASCADE, related_name="episodes")
    team = models.ForeignKey("backend.Team", on_delete=models.PROTECT, related_name="episodes")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    title = models.CharField(max_length=200, blank=True)
    start_date = models.DateField()
    planned_end_date = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PLANNED)
    response_working_days = models.PositiveSmallIntegerField(
        default=2, help_text="How many working days the citizen waits at most for an answer to a request."
    )
    follow_up_result = models.ForeignKey(FollowUpResult, on_delete=models.PROTECT, null=True, blank=True)
    follow_up_note = models.TextField(blank=True)
    ending_soon_notified_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start_date", "-created_at"]
        indexes = [models.Index(fields=["citizen", "status"]), models.Index(fields=["team", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_end_date__gte=models.F("start_date")), name="episode_period_ordered"
            ),
            models.CheckConstraint(
                condition=~Q(status="completed") | Q(follow_up_result__isnull=False),
                name="episode_completed_has_follow_up_result",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.citizen} · {self.start_date}"


class EpisodeContact(models.Model):
    """Who the citizen contacts: the contact person (tovholder) and, while away, a stand-in.

    Rows are never rewritten: a handover closes the current row and opens a new one, so the
    history stays. At most one open row per role and episode is allowed by the database.
    """

    class Role(models.TextChoices):
        CONTACT_PERSON = "contact_person", _("Tovholder")
        STAND_IN = "stand_in", _("Stedfortræder")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="contacts")
    staff = models.ForeignKey("backend.Staff", on_delete=models.PROTECT, related_name="episode_contacts")
    role = models.CharField(max_length=16, choices=Role.choices)
    started_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    until = models.DateField(null=True, blank=True, help_text="A stand-in's last day.")
    reason = models.CharField(max_length=300, blank=True)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "role"],
                condition=Q(ended_at__isnull=True),
                name="episode_contact_one_open_per_role",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.staff}"


class EpisodeStatusChange(models.Model):
    """One transition of an episode's status, kept as history."""

    id = models.BigAutoField(primary_key=True)
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=12, choices=Episode.Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=Episode.Status.choices)
    note = models.CharField(max_length=500, blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"


class EvaluationTask(models.Model):
    """The contact person's task to evaluate the episode with the citizen before its planned end."""

    class Status(models.TextChoices):
        OPEN = "open", _("Åben")
        DONE = "done", _("Udført")
        CANCELLED = "cancelled", _("Annulleret")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    episode = models.OneToOneField(Episode, on_delete=models.CASCADE, related_name="evaluation_task")
    assignee = models.ForeignKey("backend.Staff", on_delete=models.PROTECT, related_name="evaluation_tasks")
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["assignee", "status", "due_on"])]

    def __str__(self) -> str:
        return f"Evaluering af {self.episode} senest {self.due_on}"
