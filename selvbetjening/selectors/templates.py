"""Programme templates: care staff see and change their own municipality's, never another's."""

from django.db.models import Prefetch, QuerySet

from backend.actors import Actor
from selvbetjening.models import ProgrammeTemplate, ProgrammeTemplateItem
from selvbetjening.selectors.exercises import staff_municipality_id

MAX_SEARCH_TERMS = 6


def templates_visible_to(actor: Actor) -> QuerySet[ProgrammeTemplate]:
    """Care staff: their municipality's templates. Anyone else: none."""
    municipality_id = staff_municipality_id(actor)
    if municipality_id is None:
        return ProgrammeTemplate.objects.none()
    return ProgrammeTemplate.objects.filter(municipality_id=municipality_id)


def with_template_shape(queryset: QuerySet[ProgrammeTemplate]) -> QuerySet[ProgrammeTemplate]:
    """Everything a template response shows (author, items, their exercises and pictures), in a fixed
    number of queries whatever the row count."""
    items = ProgrammeTemplateItem.objects.select_related("exercise").prefetch_related("exercise__images")
    return queryset.select_related("created_by").prefetch_related(Prefetch("items", queryset=items))


def templates_search(
    queryset: QuerySet[ProgrammeTemplate], *, text: str | None = None, include_retired: bool = False
) -> QuerySet[ProgrammeTemplate]:
    """Narrow ``queryset``: every word of ``text`` must occur (any case) in the title."""
    if not include_retired:
        queryset = queryset.filter(is_active=True)
    for term in (text or "").split()[:MAX_SEARCH_TERMS]:
        queryset = queryset.filter(title__icontains=term)
    return queryset
