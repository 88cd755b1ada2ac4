"""Effect's access functions: a theory of change fetched for staff of its municipality."""

from uuid import UUID

from backend.actors import Actor
from backend.errors import NotFound
from effekt.models import TheoryOfChange
from effekt.selectors import theories_visible_to


def access_theory_of_change(actor: Actor, theory_id: UUID) -> TheoryOfChange:
    try:
        return theories_visible_to(actor).prefetch_related("outcomes").get(pk=theory_id)
    except TheoryOfChange.DoesNotExist as exc:
        raise NotFound("No such theory of change.") from exc
