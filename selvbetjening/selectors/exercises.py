"""The exercise library: who sees which exercises, search and filters, and the query shape responses need.

Care staff see the shared library (no municipality) and their own municipality's exercises, never
another municipality's. Exercises hold no personal data, so reading them writes no access-log rows.
"""

from collections.abc import Iterable
from typing import Literal
from uuid import UUID

from django.db.models import Q, QuerySet

from backend.actors import Actor
from selvbetjening.models import Exercise
from selvbetjening.models.exercises import search_text_of

Scope = Literal["all", "shared", "own"]
MAX_SEARCH_TERMS = 6


def staff_municipality_id(actor: Actor) -> UUID | None:
    """The municipality a care staff member works for; None for anyone without an active care role."""
    if actor.staff is None or not actor.care_team_ids():
        return None
    return actor.staff.municipality_id


def exercises_visible_to(actor: Actor) -> QuerySet[Exercise]:
    """Care staff: the shared library and their municipality's own exercises. Anyone else: none."""
    municipality_id = staff_municipality_id(actor)
    if municipality_id is None:
        return Exercise.objects.none()
    return Exercise.objects.filter(Q(municipality__isnull=True) | Q(municipality_id=municipality_id))


def with_exercise_shape(queryset: QuerySet[Exercise]) -> QuerySet[Exercise]:
    """Everything an exercise response shows: its pictures, in one extra query whatever the row count."""
    return queryset.prefetch_related("images")


def exercises_search(
    queryset: QuerySet[Exercise],
    *,
    text: str | None = None,
    body_areas: Iterable[str] = (),
    equipment: Iterable[str] = (),
    difficulties: Iterable[int] = (),
    scope: Scope = "all",
    include_retired: bool = False,
) -> QuerySet[Exercise]:
    """Narrow ``queryset``: every word of ``text`` must occur (any case) in a Danish or English title or
    instructions; each filter given keeps the exercises matching one of its values."""
    if not include_retired:
        queryset = queryset.filter(is_active=True)
    if scope == "shared":
        queryset = queryset.filter(municipality__isnull=True)
    elif scope == "own":
        queryset = queryset.filter(municipality__isnull=False)
    for term in (text or "").split()[:MAX_SEARCH_TERMS]:
        queryset = queryset.filter(search_text__contains=search_text_of(term))
    if body_areas := list(body_areas):
        queryset = queryset.filter(body_area__in=body_areas)
    if equipment := list(equipment):
        queryset = queryset.filter(equipment__in=equipment)
    if difficulties := list(difficulties):
        queryset = queryset.filter(difficulty__in=difficulties)
    return queryset
