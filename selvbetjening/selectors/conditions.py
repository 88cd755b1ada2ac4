"""The municipality's FSIII condition code list as the goal forms offer it."""

from uuid import UUID

from django.db.models import QuerySet

from selvbetjening.models import Condition, Goal


def conditions_active() -> QuerySet[Condition]:
    return Condition.objects.filter(active=True).order_by("area", "display")


def conditions_by_area() -> list[tuple[str, list[Condition]]]:
    """The active conditions grouped by FSIII area (the areas in their order), each group by name."""
    grouped: dict[str, list[Condition]] = {value: [] for value in Goal.Area.values}
    for condition in conditions_active():
        grouped[condition.area].append(condition)
    return [(area, items) for area, items in grouped.items() if items]


def condition_unlisted(code: UUID) -> bool:
    """True if the municipality keeps a code list and the code is not an active condition on it; with
    no list loaded every code is accepted, as before the list existed."""
    return Condition.objects.exists() and not conditions_active().filter(code=code).exists()
