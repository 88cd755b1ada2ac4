import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from backend.concurrency import VersionedModel

NRS_MAX = 10
BORG_CR10_MAX = 10


class Dosage(models.Model):
    """How much of an exercise: any combination of sets, repetitions, hold, duration and load."""

    sets = models.PositiveSmallIntegerField(null=True, blank=True)
    repetitions = models.PositiveSmallIntegerField(null=True, blank=True)
    hold_seconds = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    load_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)

    class Meta:
        abstract = True


class ProgressionRule(models.Model):
    """When the dosage of an exercise may advance, and when pain stops the training.

    After ``progression_after_sessions`` completed sessions at the current dosage, the dosage advances
    by the steps only if every one of those sessions reported pain at or below
    ``progression_max_pain`` and effort within ``progression_effort_min``–``progression_effort_max``;
    otherwise it holds. Pain at or above ``stop_pain_level`` raises an alert for the contact person.
    """

    progression_after_sessions = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Empty: the dosage never advances by itself."
    )
    progression_max_pain = models.PositiveSmallIntegerField(default=3)
    progression_effort_min = models.PositiveSmallIntegerField(default=3)
    progression_effort_max = models.PositiveSmallIntegerField(default=6)
    progression_sets_step = models.PositiveSmallIntegerField(default=0)
    progression_repetitions_step = models.PositiveSmallIntegerField(default=0)
    progression_hold_seconds_step = models.PositiveSmallIntegerField(default=0)
    progression_duration_seconds_step = models.PositiveIntegerField(default=0)
    progression_load_kg_step = models.DecimalField(max_digits=4, decimal_places=1, default=0)
    stop_pain_level = models.PositiveSmallIntegerField(default=7)

    class Meta:
        abstract = True


class ProgrammeTemplate(VersionedModel):
    """A programme therapists reuse: exercises with dosage and rules, and a usual schedule."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    municipality = models.ForeignKey(
        "backend.Municipality", on_delete=models.PROTECT, related_name="programme_templates"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    recurrence_rule = models.CharField(
        max_length=500, blank=True, help_text="Usual RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=MO,WE,FR."
    )
    start_time = models.TimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title


class ProgrammeTemplateItem(Dosage, ProgressionRule):
    """One exercise of a programme template."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    template = models.ForeignKey(ProgrammeTemplate, on_delete=models.CASCADE, related_name="items")
    exercise = models.ForeignKey("selvbetjening.Exercise", on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)
    instructions = models.TextField(blank=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["template", "exercise"], name="template_item_exercise_once"),
        ]

    def __str__(self) -> str:
        return f"{self.template} · {self.exercise}"


class TrainingPlan(VersionedModel):
    """A citizen's personal training plan inside an episode, tied to its goals.

    What to do and when lives in ``TrainingPlanVersion`` rows: a change makes a new version and keeps
    the old ones, and every session log names the version it was done against.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("Aktiv")
        PAUSED = "paused", _("Sat på pause")
        ENDED = "ended", _("Afsluttet")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    episode = models.ForeignKey("selvbetjening.Episode", on_delete=models.CASCADE, related_name="training_plans")
    citizen = models.ForeignKey("backend.Citizen", on_delete=models.CASCADE, related_name="training_plans")
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    goals = models.ManyToManyField("selvbetjening.Goal", blank=True, related_name="training_plans")
    current_version = models.ForeignKey(
        "selvbetjening.TrainingPlanVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    template = models.ForeignKey(
        ProgrammeTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="plans"
    )
    slots_until = models.DateTimeField(
        null=True, blank=True, help_text="Slots exist up to this instant; later ones are made as time passes."
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [
            models.Index(fields=["citizen", "status"]),
            models.Index(fields=["status", "slots_until"]),
        ]

    def __str__(self) -> str:
        return f"{self.title} · {self.citizen}"


class TrainingPlanVersion(models.Model):
    """One version of a plan: its schedule and its exercises with dosage, never changed once made.

    The schedule is an RFC 5545 recurrence rule read in ``time_zone`` from ``start_date`` at
    ``start_time`` (local wall-clock time, so 10:00 stays 10:00 across daylight-saving changes) up to
    ``end_date``.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey(TrainingPlan, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    recurrence_rule = models.CharField(max_length=500)
    start_date = models.DateField()
    start_time = models.TimeField()
    end_date = models.DateField()
    time_zone = models.CharField(max_length=64)
    grace_minutes = models.PositiveIntegerField(
        default=480, help_text="How long after its time a slot can still be filled before it counts as missed."
    )
    change_note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when the platform made the version (automatic progression).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="plan_version_number_unique"),
            models.CheckConstraint(condition=Q(end_date__gte=models.F("start_date")), name="plan_version_period"),
        ]

    def __str__(self) -> str:
        return f"{self.plan} v{self.number}"


class PlanExercise(Dosage, ProgressionRule):
    """One exercise of a plan version, with the citizen's dosage, instructions and progression rule."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    version = models.ForeignKey(TrainingPlanVersion, on_delete=models.CASCADE, related_name="exercises")
    exercise = models.ForeignKey("selvbetjening.Exercise", on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)
    instructions = models.TextField(blank=True, help_text="Individual instructions for this citizen.")

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "exercise"], name="plan_exercise_once_per_version"),
        ]

    def __str__(self) -> str:
        return f"{self.version} · {self.exercise}"


class TrainingSlot(models.Model):
    """One scheduled time to train, made ahead from the plan's recurrence rule.

    A slot is filled by at most one session log; one whose grace period passes unfilled becomes
    missed. When a plan changes, its pending future slots are cancelled and made again from the new
    version, so the history of what was scheduled stays.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Planlagt")
        DONE = "done", _("Udført")
        MISSED = "missed", _("Ikke udført")
        CANCELLED = "cancelled", _("Aflyst")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey(TrainingPlan, on_delete=models.CASCADE, related_name="slots")
    version = models.ForeignKey(TrainingPlanVersion, on_delete=models.PROTECT, related_name="slots")
    citizen = models.ForeignKey("backend.Citizen", on_delete=models.CASCADE, related_name="training_slots")
    scheduled_at = models.DateTimeField()
    local_date = models.DateField(help_text="The day of the slot in the plan's time zone.")
    due_until = models.DateTimeField(help_text="Filled after this, it no longer counts as on time: missed.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["scheduled_at", "id"]
        indexes = [
            models.Index(fields=["citizen", "local_date"]),
            models.Index(fields=["status", "due_until"]),
            models.Index(fields=["plan", "scheduled_at"]),
            models.Index(fields=["citizen", "status", "scheduled_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "scheduled_at"],
                condition=~Q(status="cancelled"),
                name="slot_one_live_per_plan_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan} · {self.scheduled_at:%Y-%m-%d %H:%M}"


class SessionLog(VersionedModel):
    """One training session as the citizen (or a relative with the logging grant) reported it.

    Its id is made by the phone, so a retry of the same upload finds the log it already made instead
    of making another. ``fingerprint`` is a hash of what was first sent, to tell a retry from a
    different session that reuses an id.
    """

    class LoggedByRole(models.TextChoices):
        CITIZEN = "citizen", _("Borger")
        RELATIVE = "relative", _("Pårørende")

    id = models.UUIDField(primary_key=True, editable=False)
    citizen = models.ForeignKey("backend.Citizen", on_delete=models.CASCADE, related_name="session_logs")
    plan = models.ForeignKey(TrainingPlan, on_delete=models.CASCADE, related_name="session_logs")
    plan_version = models.ForeignKey(TrainingPlanVersion, on_delete=models.PROTECT, related_name="session_logs")
    slot = models.OneToOneField(
        TrainingSlot,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="session_log",
        help_text="Empty for a session done ad hoc, outside the schedule.",
    )
    performed_at = models.DateTimeField(help_text="When it was done, by the phone's clock.")
    pain_before = models.PositiveSmallIntegerField(null=True, blank=True, help_text="NRS 0–10.")
    pain_after = models.PositiveSmallIntegerField(null=True, blank=True, help_text="NRS 0–10.")
    effort = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Borg CR10 0–10.")
    note = models.CharField(max_length=2000, blank=True)
    logged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    logged_by_role = models.CharField(max_length=10, choices=LoggedByRole.choices)
    logged_by_name = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-performed_at", "id"]
        indexes = [
            models.Index(fields=["citizen", "-performed_at"]),
            models.Index(fields=["plan", "-performed_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(pain_before__isnull=True) | Q(pain_before__lte=NRS_MAX), name="session_pain_before_nrs"
            ),
            models.CheckConstraint(
                condition=Q(pain_after__isnull=True) | Q(pain_after__lte=NRS_MAX), name="session_pain_after_nrs"
            ),
            models.CheckConstraint(
                condition=Q(effort__isnull=True) | Q(effort__lte=BORG_CR10_MAX), name="session_effort_borg"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan} · {self.performed_at:%Y-%m-%d %H:%M}"

    @property
    def is_ad_hoc(self) -> bool:
        return self.slot_id is None


class SessionLogExercise(Dosage):
    """What was done of one exercise of the plan in a session: the dosage fields hold what was done."""

    id = models.BigAutoField(primary_key=True)
    session_log = models.ForeignKey(SessionLog, on_delete=models.CASCADE, related_name="exercises")
    plan_exercise = models.ForeignKey(PlanExercise, on_delete=models.PROTECT, related_name="+")
    exercise = models.ForeignKey("selvbetjening.Exercise", on_delete=models.PROTECT, related_name="+")
    is_completed = models.BooleanField(default=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["session_log", "exercise"], name="session_exercise_once"),
        ]

    def __str__(self) -> str:
        return f"{self.session_log} · {self.exercise}"


class ProgressionDecision(models.Model):
    """Why an exercise's dosage advanced, held or stopped after a session: kept for the therapist."""

    class Outcome(models.TextChoices):
        ADVANCED = "advanced", _("Øget")
        HELD = "held", _("Fastholdt")
        STOPPED = "stopped", _("Stoppet på grund af smerte")

    id = models.BigAutoField(primary_key=True)
    plan = models.ForeignKey(TrainingPlan, on_delete=models.CASCADE, related_name="progression_decisions")
    plan_exercise = models.ForeignKey(PlanExercise, on_delete=models.CASCADE, related_name="decisions")
    session_log = models.ForeignKey(SessionLog, on_delete=models.CASCADE, related_name="progression_decisions")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    reason = models.CharField(max_length=40, help_text="Machine-readable reason, e.g. pain_above_threshold.")
    new_version = models.ForeignKey(
        TrainingPlanVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.plan_exercise}: {self.outcome} ({self.reason})"


class TrainingAlert(models.Model):
    """Something in the citizen's training the contact person must look at: pain at the stop level in a
    session (``session_log`` names it), or a run of missed slots (``first_missed_slot`` names the run's
    first slot, so a run raises one alert however long it gets; ``missed_slots`` is its length then)."""

    class Kind(models.TextChoices):
        PAIN_STOP = "pain_stop", _("Smerte på stopniveau")
        MISSED_TRAINING = "missed_training", _("Træning ikke gennemført")

    class Status(models.TextChoices):
        OPEN = "open", _("Åben")
        ACKNOWLEDGED = "acknowledged", _("Set")
        RESOLVED = "resolved", _("Afsluttet")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    citizen = models.ForeignKey("backend.Citizen", on_delete=models.CASCADE, related_name="training_alerts")
    episode = models.ForeignKey("selvbetjening.Episode", on_delete=models.CASCADE, related_name="training_alerts")
    plan = models.ForeignKey(TrainingPlan, on_delete=models.CASCADE, related_name="alerts")
    session_log = models.ForeignKey(SessionLog, on_delete=models.CASCADE, null=True, blank=True, related_name="alerts")
    first_missed_slot = models.ForeignKey(
        TrainingSlot, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    missed_slots = models.PositiveSmallIntegerField(null=True, blank=True)
    exercise = models.ForeignKey(
        "selvbetjening.Exercise", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    pain = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.OPEN)
    contact_person = models.ForeignKey(
        "backend.Staff", on_delete=models.PROTECT, null=True, blank=True, related_name="training_alerts"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution_note = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [models.Index(fields=["citizen", "status"])]
        constraints = [
            models.UniqueConstraint(fields=["session_log", "kind"], name="training_alert_once_per_session_and_kind"),
            models.UniqueConstraint(fields=["first_missed_slot", "kind"], name="training_alert_once_per_missed_run"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.citizen}"
