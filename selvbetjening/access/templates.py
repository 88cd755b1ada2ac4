"""Programme templates: fetched for the staff of the municipality that made them."""

from uuid import UUID

from backend.actors import Actor
from backend.errors import NotFound
from selvbetjening.models import ProgrammeTemplate
from selvbetjening.selectors.templates import templates_visible_to, with_template_shape


def access_template(actor: Actor, template_id: UUID | str) -> ProgrammeTemplate:
    """A template of the actor's municipality; the same 404 whether missing or another municipality's."""
    try:
        return with_template_shape(templates_visible_to(actor)).get(pk=template_id)
    except (ProgrammeTemplate.DoesNotExist, ValueError) as exc:
        raise NotFound("No such programme template.") from exc
