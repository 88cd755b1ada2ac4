import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from backend.concurrency import VersionedModel

SEARCH_FIELDS = ("title_da", "title_en", "instructions_da", "instructions_en")


class Exercise(VersionedModel):
    """One exercise of the library: shared by all municipalities (``municipality`` empty) or one's own.

    Exercises are never deleted once a plan has used them; a retired one (``is_active`` false) drops
    out of search but keeps showing in the plans and logs that refer to it.
    """

    class BodyArea(models.TextChoices):
        LOWER_BODY = "lower_body", _("Ben og hofter")
        UPPER_BODY = "upper_body", _("Arme og skuldre")
        TRUNK = "trunk", _("Ryg og mave")
        BALANCE = "balance", _("Balance")
        HAND = "hand", _("Hånd og fingre")
        WHOLE_BODY = "whole_body", _("Hele kroppen")
        ENDURANCE = "endurance", _("Kondition")

    class Equipment(models.TextChoices):
        NONE = "none", _("Intet udstyr")
        CHAIR = "chair", _("Stol")
        WALL = "wall", _("Væg")
        TABLE = "table", _("Bord eller køkkenbord")
        STAIRS = "stairs", _("Trappe")
        ELASTIC_BAND = "elastic_band", _("Elastik")
        WEIGHTS = "weights", _("Håndvægte eller vægtmanchetter")
        BALL = "ball", _("Bold")
        WALKING_AID = "walking_aid", _("Rollator eller stok")
        TOWEL = "towel", _("Håndklæde")

    class Difficulty(models.IntegerChoices):
        EASY = 1, _("Let")
        MODERATE = 2, _("Middel")
        HARD = 3, _("Svær")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    municipality = models.ForeignKey(
        "backend.Municipality",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="exercises",
        help_text="Empty for the shared library every municipality sees.",
    )
    slug = models.SlugField(
        max_length=80, blank=True, help_text="Stable key of a shipped exercise; empty for a municipality's own."
    )
    title_da = models.CharField(max_length=120)
    title_en = models.CharField(max_length=120)
    instructions_da = models.TextField()
    instructions_en = models.TextField()
    body_area = models.CharField(max_length=20, choices=BodyArea.choices)
    equipment = models.CharField(max_length=20, choices=Equipment.choices, default=Equipment.NONE)
    difficulty = models.PositiveSmallIntegerField(choices=Difficulty.choices, default=Difficulty.EASY)
    video_url = models.URLField(max_length=500, blank=True)
    search_text = models.TextField(
        blank=True, editable=False, help_text="Titles and instructions case-folded, so search ignores case in Danish."
    )
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["title_da", "id"]
        indexes = [models.Index(fields=["municipality", "is_active", "body_area"])]
        constraints = [
            models.UniqueConstraint(fields=["slug"], condition=~Q(slug=""), name="exercise_slug_unique_when_set"),
        ]

    def __str__(self) -> str:
        return self.title_da

    def refresh_search_text(self) -> None:
        self.search_text = search_text_of(*(getattr(self, name) for name in SEARCH_FIELDS))

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.refresh_search_text()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and set(update_fields) & set(SEARCH_FIELDS):
            kwargs["update_fields"] = {*update_fields, "search_text"}
        super().save(*args, **kwargs)


def search_text_of(*texts: str) -> str:
    """What search compares with: the texts case-folded (``Ø`` → ``ø``, ``ß`` → ``ss``), as the search words are."""
    return "\n".join(texts).casefold()


def _exercise_image_path(instance: "ExerciseImage", filename: str) -> str:
    return f"exercises/{instance.exercise_id}/{filename}"


class ExerciseImage(models.Model):
    """A picture of an exercise, re-encoded without metadata, in the sizes the app shows."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="images")
    position = models.PositiveSmallIntegerField(default=0)
    alt_text_da = models.CharField(max_length=300, blank=True)
    alt_text_en = models.CharField(max_length=300, blank=True)
    image = models.FileField(upload_to=_exercise_image_path)
    medium = models.FileField(upload_to=_exercise_image_path)
    thumbnail = models.FileField(upload_to=_exercise_image_path)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "created_at"]

    def __str__(self) -> str:
        return f"{self.exercise} #{self.position}"
