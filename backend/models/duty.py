import uuid

from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class Duty(models.Model):
    """A staff member on duty (på vagt) for a team until ``until``: the team's alerts and escalations reach
    whoever is on duty, and the whole team only when nobody is.

    One row per staff member and team, replaced when they go on duty again. A duty counts while ``until``
    is ahead and the staff member holds a care role in the team, both judged when it is read, so it ends
    by itself at ``until`` and with the membership.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    staff = models.ForeignKey("backend.Staff", on_delete=models.CASCADE, related_name="duties")
    team = models.ForeignKey("backend.Team", on_delete=models.CASCADE, related_name="duties")
    started_at = models.DateTimeField(default=timezone.now)
    until = models.DateTimeField()

    class Meta:
        verbose_name_plural = "duties"
        ordering = ["until", "id"]
        constraints = [
            models.UniqueConstraint(fields=["staff", "team"], name="duty_one_per_staff_and_team"),
            models.CheckConstraint(condition=Q(until__gt=F("started_at")), name="duty_ends_after_it_starts"),
        ]
        indexes = [models.Index(fields=["team", "until"], name="duty_team_until")]

    def __str__(self) -> str:
        return f"{self.staff_id} på vagt i {self.team_id} til {self.until:%Y-%m-%d %H:%M}"
