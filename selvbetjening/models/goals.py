import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from backend.concurrency import VersionedModel

FSIII_CODE_SYSTEM = "urn:oid:1.2.208.176.2.21"


class Goal(VersionedModel):
    """A goal in the citizen's own words, tied to an FSIII condition, with its five GAS outcomes.

    Function levels follow FSIII: 0 is no limitation, 4 total limitation, so an improvement goal's
    target level is at most its baseline level.
    """

    class Area(models.TextChoices):
        SELF_CARE = "self_care", _("Egenomsorg")
        HOUSEHOLD = "household", _("Praktiske opgaver i hjemmet")
        MOBILITY = "mobility", _("Mobilitet")
        MUSCLE_FUNCTION = "muscle_function", _("Muskelfunktion")
        COMMUNICATION = "communication", _("Kommunikation")
        SOCIAL_LIFE = "social_life", _("Socialt liv")
        MENTAL_FUNCTIONS = "mental_functions", _("Mentale funktioner")
        HEALTH = "health", _("Sundhedsmæssige forhold")

    class Direction(models.TextChoices):
        IMPROVE = "improve", _("Forbedring")
        MAINTAIN = "maintain", _("Fastholdelse")

    class ExpressedBy(models.TextChoices):
        CITIZEN = "citizen", _("Borger")
        STAFF = "staff", _("Medarbejder")
        RELATIVE = "relative", _("Pårørende")

    class LifecycleStatus(models.TextChoices):
        PROPOSED = "proposed", _("Foreslået")
        ACTIVE = "active", _("Aktivt")
        COMPLETED = "completed", _("Afsluttet")
        CANCELLED = "cancelled", _("Annulleret")

    class AchievementStatus(models.TextChoices):
        IN_PROGRESS = "in-progress", _("I gang")
        IMPROVING = "improving", _("I bedring")
        WORSENING = "worsening", _("Forværres")
        NO_CHANGE = "no-change", _("Uændret")
        ACHIEVED = "achieved", _("Nået")
        SUSTAINING = "sustaining", _("Fastholdt")
        NOT_ACHIEVED = "not-achieved", _("Ikke nået")
        NO_PROGRESS = "no-progress", _("Ingen fremgang")
        NOT_ATTAINABLE = "not-attainable", _("Ikke opnåeligt")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    episode = models.ForeignKey("selvbetjening.Episode", on_delete=models.CASCADE, related_name="goals")
    description = models.TextField(help_text="The goal in the citizen's own words.")
    rank = models.PositiveSmallIntegerField(help_text="Importance to the citizen; 1 is the most important.")
    area = models.CharField(max_length=20, choices=Area.choices)
    condition_code = models.UUIDField(help_text=f"FSIII condition code ({FSIII_CODE_SYSTEM}).")
    condition_display = models.CharField(max_length=200)
    direction = models.CharField(max_length=10, choices=Direction.choices, default=Direction.IMPROVE)
    baseline_level = models.PositiveSmallIntegerField(help_text="FSIII function level 0–4 at the start.")
    target_level = models.PositiveSmallIntegerField(help_text="FSIII function level 0–4 aimed at.")
    baseline_gas = models.SmallIntegerField(default=-1, help_text="GAS score at the start, usually −1 or −2.")
    gas_weight = models.PositiveSmallIntegerField(default=1)
    gas_minus_2 = models.CharField(max_length=500)
    gas_minus_1 = models.CharField(max_length=500)
    gas_0 = models.CharField(max_length=500, help_text="The expected outcome.")
    gas_plus_1 = models.CharField(max_length=500)
    gas_plus_2 = models.CharField(max_length=500)
    copm_importance = models.PositiveSmallIntegerField(null=True, blank=True, help_text="COPM importance 1–10.")
    due_date = models.DateField()
    expressed_by = models.CharField(max_length=10, choices=ExpressedBy.choices, default=ExpressedBy.CITIZEN)
    lifecycle_status = models.CharField(max_length=10, choices=LifecycleStatus.choices, default=LifecycleStatus.ACTIVE)
    achievement_status = models.CharField(
        max_length=16, choices=AchievementStatus.choices, default=AchievementStatus.IN_PROGRESS
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["rank", "created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(baseline_level__lte=4), name="goal_baseline_level_range"),
            models.CheckConstraint(condition=Q(target_level__lte=4), name="goal_target_level_range"),
            models.CheckConstraint(
                condition=Q(baseline_gas__gte=-2, baseline_gas__lte=2), name="goal_baseline_gas_range"
            ),
            models.CheckConstraint(
                condition=~Q(direction="improve") | Q(target_level__lte=models.F("baseline_level")),
                name="goal_improvement_target_not_worse",
            ),
        ]

    def __str__(self) -> str:
        return self.description[:60]


class GoalRating(models.Model):
    """One rating of a goal at a point in time, by the citizen or by staff."""

    class RaterRole(models.TextChoices):
        CITIZEN = "citizen", _("Borger")
        STAFF = "staff", _("Medarbejder")
        RELATIVE = "relative", _("Pårørende")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="ratings")
    rated_on = models.DateField()
    rater_role = models.CharField(max_length=10, choices=RaterRole.choices)
    rated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    rated_by_name = models.CharField(max_length=200)
    gas_score = models.SmallIntegerField(null=True, blank=True)
    function_level = models.PositiveSmallIntegerField(null=True, blank=True)
    copm_performance = models.PositiveSmallIntegerField(null=True, blank=True)
    copm_satisfaction = models.PositiveSmallIntegerField(null=True, blank=True)
    note = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-rated_on", "-created_at"]
        indexes = [models.Index(fields=["goal", "-rated_on", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(gas_score__isnull=True) | Q(gas_score__gte=-2, gas_score__lte=2),
                name="rating_gas_range",
            ),
            models.CheckConstraint(
                condition=Q(function_level__isnull=True) | Q(function_level__lte=4), name="rating_level_range"
            ),
            models.CheckConstraint(
                condition=Q(copm_performance__isnull=True) | Q(copm_performance__gte=1, copm_performance__lte=10),
                name="rating_copm_performance_range",
            ),
            models.CheckConstraint(
                condition=Q(copm_satisfaction__isnull=True) | Q(copm_satisfaction__gte=1, copm_satisfaction__lte=10),
                name="rating_copm_satisfaction_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.goal} · {self.rated_on} · GAS {self.gas_score}"


class Condition(models.Model):
    """One FSIII condition (tilstand) on the municipality's code list, loaded from the CSV file it
    supplies (``manage.py load_fsiii_conditions``). Goals keep the code and display they were written
    with; a condition that leaves the list is marked inactive, never deleted."""

    code = models.UUIDField(unique=True, help_text=f"FSIII condition code ({FSIII_CODE_SYSTEM}).")
    display = models.CharField(max_length=200)
    area = models.CharField(max_length=20, choices=Goal.Area.choices)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["area", "display"]
        verbose_name = _("FSIII-tilstand")
        verbose_name_plural = _("FSIII-tilstande")

    def __str__(self) -> str:
        return self.display
