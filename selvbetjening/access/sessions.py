"""Session logs: fetched for the one who may see or change them, the read logged."""

from uuid import UUID

from backend.actors import Actor
from backend.audit import read_logged
from backend.errors import NotFound
from selvbetjening.models import SessionLog
from selvbetjening.selectors.sessions import session_logs_visible_to, with_session_log_shape


def access_session_log_for_change(actor: Actor, session_log_id: UUID | str) -> SessionLog:
    """A session log ``actor`` may see, for a write whose service logs it; not found otherwise."""
    try:
        return with_session_log_shape(session_logs_visible_to(actor)).select_related("citizen").get(pk=session_log_id)
    except (SessionLog.DoesNotExist, ValueError) as exc:
        raise NotFound("No such session log.") from exc


def access_session_log(actor: Actor, session_log_id: UUID | str, *, reads: str = "session_log") -> SessionLog:
    """A session log ``actor`` may see, its read logged; not found otherwise."""
    log = access_session_log_for_change(actor, session_log_id)
    read_logged(actor, [log.citizen_id], reads, log.pk)
    return log
