from django.conf import settings
from django.db import models
from django.utils import timezone

from selvbetjening.models.training import TrainingPlan


class TrainingPlanStatusChange(models.Model):
    """One change of a training plan's status (paused, resumed, ended), kept as history: a session done
    while the plan was active is accepted when a phone that was offline sends it after a pause or the end."""

    id = models.BigAutoField(primary_key=True)
    plan = models.ForeignKey(TrainingPlan, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=10, choices=TrainingPlan.Status.choices)
    to_status = models.CharField(max_length=10, choices=TrainingPlan.Status.choices)
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when the plan ended with its episode.",
    )

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [models.Index(fields=["plan", "changed_at"])]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"
