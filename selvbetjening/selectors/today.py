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
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import connection
from django.db.models import Model
from django.utils import timezone

from backend import i18n, sql
from backend.actors import Actor
from backend.audit import read_logged
from backend.models import Citizen
from selvbetjening.media import IMAGE_SIZES, exercise_image_url
from selvbetjening.models import (
    Exercise,
    ExerciseImage,
    PlanExercise,
    SessionLog,
    TrainingPlan,
    TrainingPlanVersion,
    TrainingSlot,
)
from selvbetjening.rules.dosage import DOSAGE_FIELDS, dosage_out

Status = TrainingSlot.Status
STATUS_NAMES: dict[str, dict[str, str]] = {
    "da": {"pending": "Planlagt", "done": "Udført", "missed": "Ikke udført"},
    "en": {"pending": "Planned", "done": "Done", "missed": "Missed"},
}

SLOT_COLUMNS = sql.Select(
    ("training_slot", TrainingSlot, "id"),
    ("training_slot", TrainingSlot, "plan"),
    ("training_plan", TrainingPlan, "title"),
    ("training_slot", TrainingSlot, "version"),
    ("plan_version", TrainingPlanVersion, "number"),
    ("plan_version", TrainingPlanVersion, "time_zone"),
    ("training_slot", TrainingSlot, "scheduled_at"),
    ("training_slot", TrainingSlot, "due_until"),
    ("training_slot", TrainingSlot, "status"),
    ("session_log", SessionLog, "id"),
)
SLOTS_SQL = """
    SELECT {columns}
      FROM {training_slot}
     INNER JOIN {training_plan} ON {training_plan.id} = {training_slot.plan}
     INNER JOIN {plan_version} ON {plan_version.id} = {training_slot.version}
      LEFT OUTER JOIN {session_log} ON {session_log.slot} = {training_slot.id}
     WHERE {training_slot.citizen} = %s AND {training_slot.local_date} = %s
       AND {training_plan.status} = %s AND {training_slot.status} <> %s
     ORDER BY {training_slot.scheduled_at}, {training_slot.id}
"""
EXERCISE_COLUMNS = sql.Select(
    ("plan_exercise", PlanExercise, "id"),
    ("plan_exercise", PlanExercise, "version"),
    ("plan_exercise", PlanExercise, "exercise"),
    ("plan_exercise", PlanExercise, "position"),
    ("plan_exercise", PlanExercise, "instructions"),
    *(("plan_exercise", PlanExercise, name) for name in DOSAGE_FIELDS),
    ("exercise", Exercise, "title_da"),
    ("exercise", Exercise, "title_en"),
    ("exercise", Exercise, "instructions_da"),
    ("exercise", Exercise, "instructions_en"),
    ("exercise", Exercise, "video_url"),
)
EXERCISES_SQL = """
    SELECT {columns}
      FROM {plan_exercise}
     INNER JOIN {exercise} ON {exercise.id} = {plan_exercise.exercise}
     WHERE {plan_exercise.version} IN ({placeholders})
     ORDER BY {plan_exercise.version}, {plan_exercise.position}, {plan_exercise.id}
"""
IMAGE_COLUMNS = sql.Select(
    *(("image", ExerciseImage, name) for name in ("id", "exercise", "alt_text_da", "alt_text_en", "width", "height"))
)
IMAGES_SQL = """
    SELECT {columns}
      FROM {image}
     WHERE {image.exercise} IN ({placeholders})
     ORDER BY {image.exercise}, {image.position}, {image.created_at}
"""
NEXT_REMINDER_COLUMNS = sql.Select(("training_slot", TrainingSlot, "scheduled_at"))
NEXT_REMINDER_SQL = """
    SELECT {columns}
      FROM {training_slot}
     INNER JOIN {training_plan} ON {training_plan.id} = {training_slot.plan}
     WHERE {training_slot.citizen} = %s AND {training_slot.status} = %s
       AND {training_slot.scheduled_at} > %s AND {training_plan.status} = %s
     ORDER BY {training_slot.scheduled_at}
     LIMIT 1
"""


_ALIASES: dict[str, type[Model]] = {
    "training_slot": TrainingSlot,
    "training_plan": TrainingPlan,
    "plan_version": TrainingPlanVersion,
    "session_log": SessionLog,
    "plan_exercise": PlanExercise,
    "exercise": Exercise,
    "image": ExerciseImage,
}
_statements: dict[tuple[str, str, int], str] = {}


def _rows(template: str, columns: sql.Select, parameters: list[Any], count: int = 0) -> list[tuple[Any, ...]]:
    """The rows of ``template`` (with ``count`` places in its ``IN`` list) as the ORM gives their values."""
    key = (connection.vendor, template, count)
    statement = _statements.get(key)
    if statement is None:
        statement = _statements[key] = template.format(
            columns=columns.sql(), placeholders=sql.placeholders(count), **sql.aliases(**_ALIASES)
        )
    return columns.rows(sql.fetch(statement, parameters))


def citizen_zone(citizen: Citizen) -> ZoneInfo:
    try:
        return ZoneInfo(citizen.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.DEFAULT_CITIZEN_TIME_ZONE)


def citizen_today(citizen: Citizen, now: datetime | None = None) -> date:
    """Today in the citizen's own time zone."""
    return (now or timezone.now()).astimezone(citizen_zone(citizen)).date()


# --- The reads --------------------------------------------------------------------------------------


def next_reminder_at(citizen: Citizen, now: datetime) -> datetime | None:
    """When the next pending slot of an active plan starts, after ``now``."""
    rows = _rows(
        NEXT_REMINDER_SQL,
        NEXT_REMINDER_COLUMNS,
        [
            sql.parameter(TrainingSlot, "citizen", citizen.pk),
            Status.PENDING.value,
            sql.parameter(TrainingSlot, "scheduled_at", now),
            TrainingPlan.Status.ACTIVE.value,
        ],
    )
    return rows[0][0] if rows else None


def exercise_images(exercise_ids: Iterable[UUID], language: str) -> dict[UUID, list[dict[str, Any]]]:
    """The pictures of the exercises, each with one URL per size, in one query."""
    images: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
    exercise_ids = list(exercise_ids)
    if not exercise_ids:
        return images
    english = language == "en"
    parameters = [sql.parameter(ExerciseImage, "exercise", exercise_id) for exercise_id in exercise_ids]
    rows = _rows(IMAGES_SQL, IMAGE_COLUMNS, parameters, len(parameters))
    for image_id, exercise_id, alt_text_da, alt_text_en, width, height in rows:
        images[exercise_id].append(
            {
                "id": image_id,
                "alt_text": alt_text_en if english else alt_text_da,
                "width": width,
                "height": height,
                "urls": {size: exercise_image_url(image_id, size) for size in IMAGE_SIZES},
            }
        )
    return images


def _version_exercises(version_ids: Iterable[UUID], language: str) -> dict[UUID, list[dict[str, Any]]]:
    parameters = [sql.parameter(PlanExercise, "version", version_id) for version_id in version_ids]
    rows = _rows(EXERCISES_SQL, EXERCISE_COLUMNS, parameters, len(parameters))
    images = exercise_images(dict.fromkeys(row[2] for row in rows), language)
    by_version: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
    english = language == "en"
    for row in rows:
        plan_exercise_id, version_id, exercise_id, position, individual_instructions = row[:5]
        title_da, title_en, instructions_da, instructions_en, video_url = row[10:]
        by_version[version_id].append(
            {
                "plan_exercise_id": plan_exercise_id,
                "exercise_id": exercise_id,
                "position": position,
                "title": title_en if english else title_da,
                "instructions": instructions_en if english else instructions_da,
                "individual_instructions": individual_instructions,
                "video_url": video_url,
                **dosage_out(dict(zip(DOSAGE_FIELDS, row[5:10], strict=True))),
                "images": images.get(exercise_id, []),
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
        SLOT_COLUMNS,
        [
            sql.parameter(TrainingSlot, "citizen", citizen.pk),
            sql.parameter(TrainingSlot, "local_date", day),
            TrainingPlan.Status.ACTIVE.value,
            Status.CANCELLED.value,
        ],
    )
    exercises = _version_exercises(dict.fromkeys(slot[3] for slot in slots), language) if slots else {}
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
        items.append(
            {
                "id": slot_id,
                "training_plan_id": plan_id,
                "plan_title": plan_title,
                "plan_version_id": version_id,
                "plan_version_number": version_number,
                "scheduled_at": scheduled_at,
                "scheduled_local": scheduled_at.astimezone(ZoneInfo(version_zone)),
                "due_until": due_until,
                "status": status,
                "status_name": names.get(status, status),
                "session_log_id": session_log_id,
                "exercises": exercises.get(version_id, []),
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
