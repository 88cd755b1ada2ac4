"""Today's training for the citizen's phone: the day's slots with everything needed to train offline.

Four statements whatever the number of slots, exercises and pictures: the day's slots (with plan, version
and session log), the exercises of their versions (with the library's texts), the pictures of those
exercises, and the next reminder. They are written as SQL that SQLite and PostgreSQL both run, and the
rows are shaped here without model instances. The phone asks for this on every opening, and building
the same four statements with the ORM cost more than everything else the request did: about 0.75 ms of
CPU per statement against 0.07 ms to run it (SQLite, in-process), 6 ms of the 10 ms the whole request took
(see the Today section of bench/README.md).
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from backend import i18n
from backend.actors import Actor
from backend.audit import read_logged
from backend.models import Citizen
from selvbetjening.media import IMAGE_SIZES, exercise_image_url
from selvbetjening.models import TrainingPlan, TrainingSlot

Status = TrainingSlot.Status
STATUS_NAMES: dict[str, dict[str, str]] = {
    "da": {"pending": "Planlagt", "done": "Udført", "missed": "Ikke udført"},
    "en": {"pending": "Planned", "done": "Done", "missed": "Missed"},
}
DOSAGE_FIELDS = ("sets", "repetitions", "hold_seconds", "duration_seconds")

SLOTS_SQL = """
    SELECT training_slot."id", training_slot."plan_id", training_plan."title", training_slot."version_id",
           plan_version."number", plan_version."time_zone", training_slot."scheduled_at",
           training_slot."due_until", training_slot."status", session_log."id"
      FROM "selvbetjening_trainingslot" training_slot
     INNER JOIN "selvbetjening_trainingplan" training_plan ON training_plan."id" = training_slot."plan_id"
     INNER JOIN "selvbetjening_trainingplanversion" plan_version
           ON plan_version."id" = training_slot."version_id"
      LEFT OUTER JOIN "selvbetjening_sessionlog" session_log ON session_log."slot_id" = training_slot."id"
     WHERE training_slot."citizen_id" = %s AND training_slot."local_date" = %s
       AND training_plan."status" = %s AND training_slot."status" <> %s
     ORDER BY training_slot."scheduled_at", training_slot."id"
"""
EXERCISES_SQL = """
    SELECT plan_exercise."id", plan_exercise."version_id", plan_exercise."exercise_id", plan_exercise."position",
           plan_exercise."instructions", plan_exercise."sets", plan_exercise."repetitions",
           plan_exercise."hold_seconds", plan_exercise."duration_seconds", plan_exercise."load_kg",
           exercise."title_da", exercise."title_en", exercise."instructions_da", exercise."instructions_en",
           exercise."video_url"
      FROM "selvbetjening_planexercise" plan_exercise
     INNER JOIN "selvbetjening_exercise" exercise ON exercise."id" = plan_exercise."exercise_id"
     WHERE plan_exercise."version_id" IN ({placeholders})
     ORDER BY plan_exercise."version_id", plan_exercise."position", plan_exercise."id"
"""
IMAGES_SQL = """
    SELECT image."id", image."exercise_id", image."alt_text_da", image."alt_text_en", image."width", image."height"
      FROM "selvbetjening_exerciseimage" image
     WHERE image."exercise_id" IN ({placeholders})
     ORDER BY image."exercise_id", image."position", image."created_at"
"""
NEXT_REMINDER_SQL = """
    SELECT training_slot."scheduled_at"
      FROM "selvbetjening_trainingslot" training_slot
     INNER JOIN "selvbetjening_trainingplan" training_plan ON training_plan."id" = training_slot."plan_id"
     WHERE training_slot."citizen_id" = %s AND training_slot."status" = %s
       AND training_slot."scheduled_at" > %s AND training_plan."status" = %s
     ORDER BY training_slot."scheduled_at"
     LIMIT 1
"""


def citizen_zone(citizen: Citizen) -> ZoneInfo:
    try:
        return ZoneInfo(citizen.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.DEFAULT_CITIZEN_TIME_ZONE)


def citizen_today(citizen: Citizen, now: datetime | None = None) -> date:
    """Today in the citizen's own time zone."""
    return (now or timezone.now()).astimezone(citizen_zone(citizen)).date()


# --- Values in and out of the statements ------------------------------------------------------------


def _uuid_parameter(value: UUID) -> Any:
    return value if connection.features.has_native_uuid_field else value.hex


def _uuid(value: Any) -> UUID:
    """A UUID column: PostgreSQL gives a UUID, SQLite the 32 hex digits Django stores."""
    return value if isinstance(value, UUID) else UUID(value)


def _instant(value: Any) -> datetime:
    """A time column: PostgreSQL gives an aware datetime, SQLite Django's naive UTC (parsed or as text)."""
    if not isinstance(value, datetime):
        parsed = parse_datetime(str(value))
        if parsed is None:
            raise ValueError(f"not a time: {value!r}")
        value = parsed
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _rows(statement: str, parameters: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(statement, parameters)
        return cursor.fetchall()


def _in_list(statement: str, values: Iterable[UUID]) -> tuple[str, list[Any]]:
    """``statement`` with its one ``IN`` list made as long as ``values``."""
    parameters = [_uuid_parameter(value) for value in values]
    return statement.format(placeholders=", ".join(["%s"] * len(parameters))), parameters


# --- The reads --------------------------------------------------------------------------------------


def next_reminder_at(citizen: Citizen, now: datetime) -> datetime | None:
    """When the next pending slot of an active plan starts, after ``now``."""
    rows = _rows(
        NEXT_REMINDER_SQL,
        [
            _uuid_parameter(citizen.pk),
            Status.PENDING.value,
            connection.ops.adapt_datetimefield_value(now),
            TrainingPlan.Status.ACTIVE.value,
        ],
    )
    return _instant(rows[0][0]) if rows else None


def exercise_images(exercise_ids: Iterable[UUID], language: str) -> dict[UUID, list[dict[str, Any]]]:
    """The pictures of the exercises, each with one URL per size, in one query."""
    images: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
    exercise_ids = list(exercise_ids)
    if not exercise_ids:
        return images
    english = language == "en"
    for image_id, exercise_id, alt_text_da, alt_text_en, width, height in _rows(*_in_list(IMAGES_SQL, exercise_ids)):
        image_uuid = _uuid(image_id)
        images[_uuid(exercise_id)].append(
            {
                "id": image_uuid,
                "alt_text": alt_text_en if english else alt_text_da,
                "width": width,
                "height": height,
                "urls": {size: exercise_image_url(image_uuid, size) for size in IMAGE_SIZES},
            }
        )
    return images


def _version_exercises(version_ids: Iterable[UUID], language: str) -> dict[UUID, list[dict[str, Any]]]:
    rows = _rows(*_in_list(EXERCISES_SQL, version_ids))
    images = exercise_images(dict.fromkeys(_uuid(row[2]) for row in rows), language)
    by_version: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
    english = language == "en"
    for (
        plan_exercise_id,
        version_id,
        exercise_id,
        position,
        individual_instructions,
        sets,
        repetitions,
        hold_seconds,
        duration_seconds,
        load_kg,
        title_da,
        title_en,
        instructions_da,
        instructions_en,
        video_url,
    ) in rows:
        exercise_uuid = _uuid(exercise_id)
        by_version[_uuid(version_id)].append(
            {
                "plan_exercise_id": _uuid(plan_exercise_id),
                "exercise_id": exercise_uuid,
                "position": position,
                "title": title_en if english else title_da,
                "instructions": instructions_en if english else instructions_da,
                "individual_instructions": individual_instructions,
                "video_url": video_url,
                "sets": sets,
                "repetitions": repetitions,
                "hold_seconds": hold_seconds,
                "duration_seconds": duration_seconds,
                "load_kg": None if load_kg is None else float(load_kg),
                "images": images.get(exercise_uuid, []),
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
    slots = _rows(
        SLOTS_SQL,
        [
            _uuid_parameter(citizen.pk),
            connection.ops.adapt_datefield_value(day),
            TrainingPlan.Status.ACTIVE.value,
            Status.CANCELLED.value,
        ],
    )
    exercises = _version_exercises(dict.fromkeys(_uuid(slot[3]) for slot in slots), language) if slots else {}
    names = STATUS_NAMES[language]
    items = []
    for (
        slot_id,
        plan_id,
        plan_title,
        version_id,
        version_number,
        version_zone,
        scheduled_at,
        due_until,
        status,
        session_log_id,
    ) in slots:
        version_uuid = _uuid(version_id)
        scheduled = _instant(scheduled_at)
        items.append(
            {
                "id": _uuid(slot_id),
                "training_plan_id": _uuid(plan_id),
                "plan_title": plan_title,
                "plan_version_id": version_uuid,
                "plan_version_number": version_number,
                "scheduled_at": scheduled,
                "scheduled_local": scheduled.astimezone(ZoneInfo(version_zone)),
                "due_until": _instant(due_until),
                "status": status,
                "status_name": names.get(status, status),
                "session_log_id": None if session_log_id is None else _uuid(session_log_id),
                "exercises": exercises.get(version_uuid, []),
            }
        )
    return {
        "date": day,
        "time_zone": str(zone),
        "slots": items,
        "next_reminder_at": next_reminder_at(citizen, now),
    }


def own_today(actor: Actor, day: date | None = None) -> dict[str, Any]:
    """The citizen's own day of training, the read logged when it shows anything of theirs."""
    citizen = actor.citizen
    assert citizen is not None
    result = today_for_citizen(citizen, day)
    read_logged(actor, [citizen] if result["slots"] or result["next_reminder_at"] else [], "training")
    return result
