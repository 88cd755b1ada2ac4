"""Today's training for the citizen's phone: the day's slots with everything needed to train offline.

Four queries whatever the number of slots, exercises and pictures: the day's slots (with plan and version),
the exercises of their versions (with the library's texts), the pictures of those exercises, and the next
reminder. Rows are read with ``values()`` and shaped here, so that no model instance is built.
"""

from collections import defaultdict
from datetime import date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils import timezone

from backend import i18n
from backend.models import Citizen
from selvbetjening.media import IMAGE_SIZES, exercise_image_url
from selvbetjening.models import ExerciseImage, PlanExercise, TrainingPlan, TrainingSlot

Status = TrainingSlot.Status
STATUS_NAMES: dict[str, dict[str, str]] = {
    "da": {"pending": "Planlagt", "done": "Udført", "missed": "Ikke udført"},
    "en": {"pending": "Planned", "done": "Done", "missed": "Missed"},
}
DOSAGE_FIELDS = ("sets", "repetitions", "hold_seconds", "duration_seconds")


def citizen_zone(citizen: Citizen) -> ZoneInfo:
    try:
        return ZoneInfo(citizen.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.DEFAULT_CITIZEN_TIME_ZONE)


def citizen_today(citizen: Citizen, now: datetime | None = None) -> date:
    """Today in the citizen's own time zone."""
    return (now or timezone.now()).astimezone(citizen_zone(citizen)).date()


def next_reminder_at(citizen: Citizen, now: datetime) -> datetime | None:
    """When the next pending slot of an active plan starts, after ``now``."""
    return (
        TrainingSlot.objects.filter(
            citizen=citizen, status=Status.PENDING, scheduled_at__gt=now, plan__status=TrainingPlan.Status.ACTIVE
        )
        .order_by("scheduled_at")
        .values_list("scheduled_at", flat=True)
        .first()
    )


def exercise_images(exercise_ids: set[UUID], language: str) -> dict[UUID, list[dict[str, Any]]]:
    """The pictures of the exercises, each with one URL per size, in one query."""
    images: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
    if not exercise_ids:
        return images
    rows = (
        ExerciseImage.objects.filter(exercise_id__in=exercise_ids)
        .order_by("exercise_id", "position", "created_at")
        .values_list("id", "exercise_id", f"alt_text_{language}", "width", "height")
    )
    for image_id, exercise_id, alt_text, width, height in rows:
        images[exercise_id].append(
            {
                "id": image_id,
                "alt_text": alt_text,
                "width": width,
                "height": height,
                "urls": {size: exercise_image_url(image_id, size) for size in IMAGE_SIZES},
            }
        )
    return images


def _version_exercises(version_ids: set[UUID], language: str) -> dict[UUID, list[dict[str, Any]]]:
    rows = (
        PlanExercise.objects.filter(version_id__in=version_ids)
        .order_by("version_id", "position", "id")
        .values(
            "id",
            "version_id",
            "exercise_id",
            "position",
            "instructions",
            "load_kg",
            *DOSAGE_FIELDS,
            f"exercise__title_{language}",
            f"exercise__instructions_{language}",
            "exercise__video_url",
        )
    )
    rows = list(rows)
    images = exercise_images({row["exercise_id"] for row in rows}, language)
    by_version: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        load_kg = row["load_kg"]
        by_version[row["version_id"]].append(
            {
                "plan_exercise_id": row["id"],
                "exercise_id": row["exercise_id"],
                "position": row["position"],
                "title": row[f"exercise__title_{language}"],
                "instructions": row[f"exercise__instructions_{language}"],
                "individual_instructions": row["instructions"],
                "video_url": row["exercise__video_url"],
                **{name: row[name] for name in DOSAGE_FIELDS},
                "load_kg": None if load_kg is None else float(load_kg),
                "images": images.get(row["exercise_id"], []),
            }
        )
    return by_version


def today_for_citizen(citizen: Citizen, day: date | None = None, *, now: datetime | None = None) -> dict[str, Any]:
    """The slots of ``day`` (the citizen's today by default) of the citizen's active plans — pending,
    done and missed; cancelled ones left out — each with its version's exercises, and the next reminder."""
    now = now or timezone.now()
    zone = citizen_zone(citizen)
    day = day or now.astimezone(zone).date()
    language = i18n.language()
    slots = list(
        TrainingSlot.objects.filter(citizen=citizen, local_date=day, plan__status=TrainingPlan.Status.ACTIVE)
        .exclude(status=Status.CANCELLED)
        .order_by("scheduled_at", "id")
        .values(
            "id",
            "plan_id",
            "plan__title",
            "version_id",
            "version__number",
            "version__time_zone",
            "scheduled_at",
            "due_until",
            "status",
            "session_log__id",
        )
    )
    exercises = _version_exercises({slot["version_id"] for slot in slots}, language) if slots else {}
    names = STATUS_NAMES[language]
    items = [
        {
            "id": slot["id"],
            "training_plan_id": slot["plan_id"],
            "plan_title": slot["plan__title"],
            "plan_version_id": slot["version_id"],
            "plan_version_number": slot["version__number"],
            "scheduled_at": slot["scheduled_at"],
            "scheduled_local": slot["scheduled_at"].astimezone(ZoneInfo(slot["version__time_zone"])),
            "due_until": slot["due_until"],
            "status": slot["status"],
            "status_name": names.get(slot["status"], slot["status"]),
            "session_log_id": slot["session_log__id"],
            "exercises": exercises.get(slot["version_id"], []),
        }
        for slot in slots
    ]
    return {
        "date": day,
        "time_zone": str(zone),
        "slots": items,
        "next_reminder_at": next_reminder_at(citizen, now),
    }
