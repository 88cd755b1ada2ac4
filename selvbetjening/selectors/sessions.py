"""Session logs: who sees them, the plans a session may be logged against, and the query shape of a response."""

from uuid import UUID

from django.db.models import QuerySet

from backend.access import citizens_visible_to
from backend.actors import Actor
from backend.errors import NotFound
from backend.models import Citizen
from selvbetjening.models import SessionLog, TrainingPlan


def session_logs_visible_to(actor: Actor) -> QuerySet[SessionLog]:
    """A citizen: their own logs; staff: the logs of citizens in their teams' care."""
    return SessionLog.objects.filter(citizen__in=citizens_visible_to(actor))


def with_session_log_shape(queryset: QuerySet[SessionLog]) -> QuerySet[SessionLog]:
    """Everything ``presenters.sessions.session_log`` reads, in two queries whatever the number of logs."""
    return queryset.select_related("plan_version", "slot").prefetch_related("exercises")


def session_log_shaped(session_log_id: UUID) -> SessionLog:
    """A log just written, read again with the response's query shape."""
    return with_session_log_shape(SessionLog.objects.all()).get(pk=session_log_id)


def session_logs_shaped(session_log_ids: list[UUID]) -> dict[UUID, SessionLog]:
    """Logs just written or found again (a batch's), read with the response's query shape, by id."""
    return {log.pk: log for log in with_session_log_shape(SessionLog.objects.filter(pk__in=session_log_ids))}


def plan_for_logging(citizen: Citizen, training_plan_id: UUID | str) -> TrainingPlan:
    """One of ``citizen``'s plans, whatever its status (a retry after the plan ended still finds its log);
    404 when the plan is someone else's or does not exist."""
    try:
        return TrainingPlan.objects.select_related("episode", "citizen").get(pk=training_plan_id, citizen=citizen)
    except (TrainingPlan.DoesNotExist, ValueError) as exc:
        raise NotFound("No such training plan.") from exc
