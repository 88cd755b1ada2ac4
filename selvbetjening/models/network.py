import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from backend.access.declaration import declared


class NetworkInvitation(models.Model):
    """A citizen's invitation to a relative or volunteer, accepted with a one-time code after login.

    Only a hash of the code is stored; the citizen sees the code once, when it is made.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    citizen = models.ForeignKey("backend.Citizen", on_delete=models.CASCADE, related_name="network_invitations")
    label = models.CharField(max_length=100, help_text="Who the citizen means, in their words, e.g. 'Min datter'.")
    kind = models.CharField(max_length=12, choices=[("relative", _("Pårørende")), ("volunteer", _("Frivillig"))])
    code_hash = models.CharField(max_length=64, unique=True)
    can_view_progress = models.BooleanField(default=False)
    can_receive_reminders = models.BooleanField(default=False)
    can_log_sessions = models.BooleanField(default=False)
    can_send_encouragement = models.BooleanField(default=False)
    grant_valid_until = models.DateTimeField(null=True, blank=True, help_text="When the resulting grant ends.")
    expires_at = models.DateTimeField(help_text="The code cannot be used after this.")
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        "backend.Relative",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="accepted_invitations",
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation fra {self.citizen}: {self.label}"


class NetworkGrant(models.Model):
    """What one relative or volunteer may see and do for one citizen, until it expires or is revoked.

    Every check reads this table on the request itself, so a revocation or expiry takes effect on
    the very next request.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    citizen = models.ForeignKey("backend.Citizen", on_delete=models.CASCADE, related_name="network_grants")
    relative = models.ForeignKey("backend.Relative", on_delete=models.CASCADE, related_name="grants")
    invitation = models.OneToOneField(
        NetworkInvitation, on_delete=models.SET_NULL, null=True, blank=True, related_name="grant"
    )
    label = models.CharField(max_length=100, blank=True)
    can_view_progress = models.BooleanField(default=False)
    can_receive_reminders = models.BooleanField(default=False)
    can_log_sessions = models.BooleanField(default=False)
    can_send_encouragement = models.BooleanField(default=False)
    valid_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["citizen", "relative"],
                condition=Q(revoked_at__isnull=True),
                name="network_grant_one_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.relative} → {self.citizen}"

    @property
    def scopes(self) -> list[str]:
        return declared().grants.ticked(self)


class Encouragement(models.Model):
    """A short message of encouragement from a relative or volunteer to the citizen."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    citizen = models.ForeignKey("backend.Citizen", on_delete=models.CASCADE, related_name="encouragements")
    relative = models.ForeignKey("backend.Relative", on_delete=models.CASCADE, related_name="encouragements")
    author_name = models.CharField(max_length=200)
    text = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.author_name} → {self.citizen}"
