import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class Municipality(models.Model):
    """A Danish municipality (kommune), the owner of all data in its tenancy."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(max_length=3, unique=True, help_text="Kommunekode, e.g. 461 for Odense.")
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "municipalities"

    def __str__(self) -> str:
        return self.name


class OrganisationUnit(models.Model):
    """A unit of the municipality's organisation (e.g. Ældre og Handicap, a district)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="units")
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["municipality", "parent", "name"], name="unit_unique_name_per_parent")
        ]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    """A team of staff inside an organisation unit; care relations and memberships point here."""

    class Kind(models.TextChoices):
        HOME_CARE = "home_care", _("Hjemmepleje")
        REHABILITATION = "rehabilitation", _("Rehabilitering")
        THERAPY = "therapy", _("Træning og terapi")
        WELFARE_TECHNOLOGY = "welfare_technology", _("Velfærdsteknologi")
        MANAGEMENT = "management", _("Ledelse og analyse")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    unit = models.ForeignKey(OrganisationUnit, on_delete=models.PROTECT, related_name="teams")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=32, choices=Kind.choices, default=Kind.HOME_CARE)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["unit", "name"], name="team_unique_name_per_unit")]

    def __str__(self) -> str:
        return self.name
