"""Questionnaires sent to citizens, and the catalogue they are chosen from."""

from django.db.models import Q, QuerySet

from backend.access import citizens_visible_to
from backend.actors import Actor
from backend.errors import NotFound
from backend.timeutil import municipal_today
from selvbetjening.models import QuestionnaireAssignment, QuestionnaireVersion
from selvbetjening.rules.questionnaires import open_q, upcoming_q


def assignments_visible_to(actor: Actor) -> QuerySet[QuestionnaireAssignment]:
    """The citizen's own, and those of citizens in a staff member's teams' care. Relatives: none."""
    return QuestionnaireAssignment.objects.filter(citizen__in=citizens_visible_to(actor))


def with_assignment_shape(queryset: QuerySet[QuestionnaireAssignment]) -> QuerySet[QuestionnaireAssignment]:
    return queryset.select_related("version__questionnaire", "citizen", "response")


def assignments_in_state(queryset: QuerySet[QuestionnaireAssignment], state: str) -> QuerySet[QuestionnaireAssignment]:
    """``due``: waiting and open to answer today; ``upcoming``: waiting, not yet open;
    ``answered``: answered."""
    today = municipal_today()
    conditions = {
        "due": open_q(today),
        "upcoming": upcoming_q(today),
        "answered": Q(status=QuestionnaireAssignment.Status.ANSWERED),
    }
    return with_assignment_shape(queryset.filter(conditions[state]))


def current_versions() -> QuerySet[QuestionnaireVersion]:
    return QuestionnaireVersion.objects.filter(is_current=True, questionnaire__is_active=True).select_related(
        "questionnaire"
    )


def current_version_of(key: str) -> QuestionnaireVersion:
    version = current_versions().filter(questionnaire__key=key).first()
    if version is None:
        raise NotFound("No such questionnaire.")
    return version
