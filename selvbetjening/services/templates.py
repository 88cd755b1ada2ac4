"""Programme templates therapists reuse: exercises with dosage and progression rules, and a usual schedule.

Templates hold no personal data, so changing them writes no access-log rows. They are never deleted:
plans made from one keep pointing to it, and a retired one (``is_active`` false) drops out of the list.
"""

from datetime import time
from typing import Any
from uuid import UUID

from django.db import transaction

from backend.actors import Actor
from backend.concurrency import require_version, save_with_version
from backend.errors import Forbidden, InvalidInput
from selvbetjening.models import Exercise, ProgrammeTemplate, ProgrammeTemplateItem
from selvbetjening.rules.dosage import MAX_EXERCISES, PRESCRIPTION_FIELDS, dosage_check, entry_complete
from selvbetjening.rules.schedule import validate_recurrence_rule
from selvbetjening.selectors.exercises import exercises_visible_to, staff_municipality_id

EDITABLE_FIELDS = ("title", "description", "recurrence_rule", "start_time", "is_active")
ITEM_FIELDS = ("instructions", *PRESCRIPTION_FIELDS)


def _recurrence_rule_checked(rule: str) -> str:
    """The usual schedule in its normal form, or empty; 422 naming ``recurrence_rule`` if it cannot be a
    plan's schedule."""
    if not rule.strip():
        return ""
    return validate_recurrence_rule(rule)


def _items_checked(
    *, by: Actor, items: list[dict[str, Any]], kept_exercise_ids: frozenset[UUID] = frozenset()
) -> list[ProgrammeTemplateItem]:
    """Unsaved items in the order given. Each exercise must be one the staff member sees and not retired
    (unless the template already held it), and appear once."""
    if not items:
        raise InvalidInput("items", "must hold at least one exercise.")
    if len(items) > MAX_EXERCISES:
        raise InvalidInput("items", f"may hold at most {MAX_EXERCISES} exercises.")
    wanted = {item["exercise_id"] for item in items}
    visible: dict[UUID, Exercise] = {
        exercise.pk: exercise for exercise in exercises_visible_to(by).filter(pk__in=wanted)
    }
    first_position: dict[UUID, int] = {}
    checked: list[ProgrammeTemplateItem] = []
    for position, item in enumerate(items):
        prefix = f"items.{position}"
        exercise = visible.get(item["exercise_id"])
        if exercise is None:
            raise InvalidInput(f"{prefix}.exercise_id", "is not an exercise you can use.")
        if not exercise.is_active and exercise.pk not in kept_exercise_ids:
            raise InvalidInput(f"{prefix}.exercise_id", "is retired.")
        if exercise.pk in first_position:
            raise InvalidInput(
                f"{prefix}.exercise_id", f"is already in the programme as items.{first_position[exercise.pk]}."
            )
        first_position[exercise.pk] = position
        complete = entry_complete(item)
        dosage_check(complete, prefix=prefix)
        checked.append(
            ProgrammeTemplateItem(
                exercise=exercise, position=position, instructions=item.get("instructions") or "", **complete
            )
        )
    return checked


def _template_rules(template: ProgrammeTemplate) -> None:
    if not template.title.strip():
        raise InvalidInput("title", "must not be empty.")
    template.recurrence_rule = _recurrence_rule_checked(template.recurrence_rule)


@transaction.atomic
def template_create(
    *,
    by: Actor,
    title: str,
    items: list[dict[str, Any]],
    description: str = "",
    recurrence_rule: str = "",
    start_time: time | None = None,
) -> ProgrammeTemplate:
    """A template of the care staff member's municipality, with its items in the order given."""
    municipality_id = staff_municipality_id(by)
    if municipality_id is None:
        raise Forbidden("Only care staff can make programme templates.")
    template = ProgrammeTemplate(
        municipality_id=municipality_id,
        title=title,
        description=description,
        recurrence_rule=recurrence_rule,
        start_time=start_time,
        created_by=by.user,
    )
    _template_rules(template)
    checked = _items_checked(by=by, items=items)
    template.save()
    for item in checked:
        item.template = template
    ProgrammeTemplateItem.objects.bulk_create(checked)
    return template


@transaction.atomic
def template_update(
    *,
    template: ProgrammeTemplate,
    by: Actor,
    version: int,
    changes: dict[str, Any],
    items: list[dict[str, Any]] | None = None,
) -> ProgrammeTemplate:
    """Change a template if nobody else changed it since ``version`` was read (409 otherwise).

    ``items``, when given, replaces every item. ``is_active`` false retires the template.
    """
    require_version(template, version)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput(sorted(unknown)[0], "cannot be changed.")
    for name, value in changes.items():
        setattr(template, name, value)
    _template_rules(template)
    checked = None
    if items is not None:
        held = frozenset(template.items.values_list("exercise_id", flat=True))
        checked = _items_checked(by=by, items=items, kept_exercise_ids=held)
    save_with_version(template, expected_version=version, update_fields=list(changes))
    if checked is not None:
        template.items.all().delete()
        for item in checked:
            item.template = template
        ProgrammeTemplateItem.objects.bulk_create(checked)
    return template
