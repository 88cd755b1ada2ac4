"""The exercise library and programme templates as the API shows them (from rows the selectors loaded;
nothing here queries)."""

from typing import Any

from backend.i18n import language
from selvbetjening.media import exercise_image_url
from selvbetjening.models import Exercise, ExerciseImage, ProgrammeTemplate, ProgrammeTemplateItem
from selvbetjening.services.exercises import IMAGE_FIELDS
from selvbetjening.services.templates import ITEM_FIELDS
from selvbetjening.texts import EXERCISE_ENGLISH, pick


def _name(kind: str, value: Any, danish: str) -> str:
    return EXERCISE_ENGLISH[kind].get(value, danish) if language() == "en" else danish


def image_out(image: ExerciseImage) -> dict[str, Any]:
    return {
        "id": image.id,
        "position": image.position,
        "alt_text": pick(image.alt_text_da, image.alt_text_en or image.alt_text_da),
        "alt_text_da": image.alt_text_da,
        "alt_text_en": image.alt_text_en,
        "width": image.width,
        "height": image.height,
        "urls": {size: exercise_image_url(image.id, size) for size in IMAGE_FIELDS},
    }


def exercise_out(exercise: Exercise) -> dict[str, Any]:
    """An exercise in the request's language, with both languages' texts and its pictures' URLs.
    The pictures must be prefetched (``with_exercise_shape``)."""
    return {
        "id": exercise.id,
        "version": exercise.version,
        "slug": exercise.slug,
        "is_shared": exercise.municipality_id is None,
        "municipality_id": exercise.municipality_id,
        "title": pick(exercise.title_da, exercise.title_en or exercise.title_da),
        "title_da": exercise.title_da,
        "title_en": exercise.title_en,
        "instructions": pick(exercise.instructions_da, exercise.instructions_en or exercise.instructions_da),
        "instructions_da": exercise.instructions_da,
        "instructions_en": exercise.instructions_en,
        "body_area": exercise.body_area,
        "body_area_name": _name("body_area", exercise.body_area, exercise.get_body_area_display()),
        "equipment": exercise.equipment,
        "equipment_name": _name("equipment", exercise.equipment, exercise.get_equipment_display()),
        "difficulty": exercise.difficulty,
        "difficulty_name": _name("difficulty", exercise.difficulty, exercise.get_difficulty_display()),
        "video_url": exercise.video_url,
        "is_active": exercise.is_active,
        "images": [image_out(image) for image in exercise.images.all()],
        "updated_at": exercise.updated_at,
    }


def exercise_brief_out(exercise: Exercise) -> dict[str, Any]:
    """The exercise as a line of a programme or plan; its pictures must be prefetched."""
    first = next(iter(exercise.images.all()), None)
    return {
        "id": exercise.id,
        "title": pick(exercise.title_da, exercise.title_en or exercise.title_da),
        "body_area": exercise.body_area,
        "equipment": exercise.equipment,
        "difficulty": exercise.difficulty,
        "is_active": exercise.is_active,
        "thumbnail_url": exercise_image_url(first.id, "thumbnail") if first else None,
    }


def item_out(item: ProgrammeTemplateItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "position": item.position,
        "exercise": exercise_brief_out(item.exercise),
        **{name: getattr(item, name) for name in ITEM_FIELDS},
    }


def template_out(template: ProgrammeTemplate) -> dict[str, Any]:
    """A template with its items; author, items and their exercises must be loaded (``with_template_shape``)."""
    return {
        "id": template.id,
        "version": template.version,
        "title": template.title,
        "description": template.description,
        "recurrence_rule": template.recurrence_rule,
        "start_time": template.start_time,
        "is_active": template.is_active,
        "created_by_name": template.created_by.display_name,
        "created_at": template.created_at,
        "updated_at": template.updated_at,
        "items": [item_out(item) for item in template.items.all()],
    }
