import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class StaffRole(models.TextChoices):
    CARE_WORKER = "care_worker", _("Plejemedarbejder")
    THERAPIST = "therapist", _("Terapeut")
    TEAM_LEAD = "team_lead", _("Teamleder")
    IT = "it", _("IT-medarbejder (velfærdsteknologi)")
    ANALYST = "analyst", _("Analytiker")


class Staff(models.Model):
    """A municipal employee (medarbejder) who logs in through the municipality's identity provider."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="staff")
    municipality = models.ForeignKey("backend.Municipality", on_delete=models.PROTECT, related_name="staff")
    title = models.CharField(max_length=120, blank=True)

    class Meta:
        verbose_name_plural = "staff"

    def __str__(self) -> str:
        return self.user.display_name


class Membership(models.Model):
    """A staff member's role in a team for a period; access to citizens follows active memberships."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey("backend.Team", on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=20, choices=StaffRole.choices)
    valid_from = models.DateField(default=timezone.localdate)
    valid_to = models.DateField(null=True, blank=True, help_text="Last day of the membership; empty while open.")

    class Meta:
        ordering = ["team__name", "role"]
        constraints = [
            models.UniqueConstraint(fields=["staff", "team", "role", "valid_from"], name="membership_unique_start"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="membership_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff} · {self.get_role_display()} · {self.team}"


class Citizen(models.Model):
    """A citizen (borger) of the municipality with a profile the app and staff work from.

    The CPR number is stored encrypted (``cpr_ciphertext``) and found by a keyed hash
    (``cpr_hash``); see ``backend.cpr``.
    """

    class Language(models.TextChoices):
        DANISH = "da", "Dansk"
        ENGLISH = "en", "English"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    municipality = models.ForeignKey("backend.Municipality", on_delete=models.PROTECT, related_name="citizens")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="citizen"
    )
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    address_line = models.CharField(max_length=200, blank=True)
    postcode = models.CharField(max_length=4, blank=True)
    city = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.DANISH)
    time_zone = models.CharField(max_length=64, default="Europe/Copenhagen")
    cpr_ciphertext = models.TextField(editable=False)
    cpr_hash = models.CharField(max_length=64, unique=True, editable=False)
    deceased_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["family_name", "given_name"]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class Relative(models.Model):
    """A relative or volunteer (pårørende, frivillig): a person in the citizen's network.

    What a relative may see and do is what a citizen grants; the grants belong to self-service.
    """

    class Kind(models.TextChoices):
        RELATIVE = "relative", _("Pårørende")
        VOLUNTEER = "volunteer", _("Frivillig")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="relative")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.RELATIVE)
    phone = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.user.display_name


class CareRelation(models.Model):
    """A team's care for a citizen over a period; staff see a citizen only through an active one."""

    class Purpose(models.TextChoices):
        HOME_CARE = "home_care", _("Hjemmepleje")
        REHABILITATION = "rehabilitation", _("Rehabilitering")
        TRAINING = "training", _("Træning")
        WELFARE_TECHNOLOGY = "welfare_technology", _("Velfærdsteknologi")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="care_relations")
    team = models.ForeignKey("backend.Team", on_delete=models.PROTECT, related_name="care_relations")
    purpose = models.CharField(max_length=32, choices=Purpose.choices, default=Purpose.REHABILITATION)
    valid_from = models.DateField(default=timezone.localdate)
    valid_to = models.DateField(null=True, blank=True, help_text="Last day of care; empty while open.")

    class Meta:
        ordering = ["-valid_from"]
        indexes = [models.Index(fields=["team", "valid_from"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="care_relation_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.team} → {self.citizen}"
