"""Questionnaire assignments: fetched for the one who may see or answer them, the read logged."""

from uuid import UUID

from backend.actors import Actor
from backend.audit import read_logged
from backend.errors import NotFound
from selvbetjening.models import QuestionnaireAssignment
from selvbetjening.selectors.questionnaires import assignments_visible_to, with_assignment_shape


def access_assignment_for_change(actor: Actor, assignment_id: UUID | str) -> QuestionnaireAssignment:
    """A questionnaire ``actor`` may see, for a write whose service logs it; not found otherwise."""
    try:
        return with_assignment_shape(assignments_visible_to(actor)).get(pk=assignment_id)
    except (QuestionnaireAssignment.DoesNotExist, ValueError) as exc:
        raise NotFound("No such questionnaire.") from exc


def access_assignment(
    actor: Actor, assignment_id: UUID | str, *, reads: str = "questionnaire"
) -> QuestionnaireAssignment:
    """A questionnaire ``actor`` may see, its read logged; not found otherwise."""
    assignment = access_assignment_for_change(actor, assignment_id)
    read_logged(actor, [assignment.citizen_id], reads, assignment.pk)
    return assignment
