"""Questionnaires sent to citizens, and the catalogue they are chosen from."""

from uuid import UUID

from django.db.models import Q, QuerySet

from backend.access import citizens_visible_to
from backend.actors import Actor
from backend.audit import read_logged
from backend.errors import NotFound
from backend.timeutil import municipal_today
from selvbetjening.models import QuestionnaireAssignment, QuestionnaireVersion
from selvbetjening.rules.questionnaires import open_q, upcoming_q


def assignments_visible_to(actor: Actor) -> QuerySet[QuestionnaireAssignment]:
    """The citizen's own, and those of citizens in a staff member's teams' care. Relatives: none."""
    return QuestionnaireAssignment.objects.filter(citizen__in=citizens_visible_to(actor))


def _shaped(queryset: QuerySet[QuestionnaireAssignment]) -> QuerySet[QuestionnaireAssignment]:
    return queryset.select_related("version__questionnaire", "citizen", "response")


def access_assignment_for_change(actor: Actor, assignment_id: UUID | str) -> QuestionnaireAssignment:
    """A questionnaire ``actor`` may see, for a write whose service logs it; not found otherwise."""
    try:
        return _shaped(assignments_visible_to(actor)).get(pk=assignment_id)
    except (QuestionnaireAssignment.DoesNotExist, ValueError) as exc:
        raise NotFound("No such questionnaire.") from exc


def access_assignment(
    actor: Actor, assignment_id: UUID | str, *, reads: str = "questionnaire"
) -> QuestionnaireAssignment:
    """A questionnaire ``actor`` may see, its read logged; not found otherwise."""
    assignment = access_assignment_for_change(actor, assignment_id)
    read_logged(actor, [assignment.citizen_id], reads, assignment.pk)
    return assignment


def assignments_in_state(
    queryset: QuerySet[QuestionnaireAssignment], state: str
) -> QuerySet[QuestionnaireAssignment]:
    """``due``: waiting and open to answer today; ``upcoming``: waiting, not yet open;
    ``answered``: answered."""
    today = municipal_today()
    conditions = {
        "due": open_q(today),
        "upcoming": upcoming_q(today),
        "answered": Q(status=QuestionnaireAssignment.Status.ANSWERED),
    }
    return _shaped(queryset.filter(conditions[state]))


def current_versions() -> QuerySet[QuestionnaireVersion]:
    return QuestionnaireVersion.objects.filter(is_current=True, questionnaire__is_active=True).select_related(
        "questionnaire"
    )


def current_version_of(key: str) -> QuestionnaireVersion:
    version = current_versions().filter(questionnaire__key=key).first()
    if version is None:
        raise NotFound("No such questionnaire.")
    return version
