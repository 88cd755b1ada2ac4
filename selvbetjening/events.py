"""The events self-service emits, one clearly named function each.

Services call them through ``transaction.on_commit`` once the change they announce is stored. They
are the points where ``notifications.services`` will be called when the notifications issue wires
delivery (inbox, websocket, push); until then they only log the event's type and ids — never text,
names or health data, the same rule that holds for push payloads.
"""

import logging
from uuid import UUID

logger = logging.getLogger("selvbetjening.events")


def _emit(event_type: str, **ids: UUID | str) -> None:
    logger.info("event %s %s", event_type, " ".join(f"{name}={value}" for name, value in sorted(ids.items())))


def goal_rated(*, goal_id: UUID, rating_id: UUID, citizen_id: UUID) -> None:
    """A goal got a new rating: the contact person (and the citizen, when staff rated) are told."""
    _emit("goal.rated", goal_id=goal_id, rating_id=rating_id, citizen_id=citizen_id)


def request_answered(*, request_id: UUID, citizen_id: UUID) -> None:
    """Staff replied to a citizen's request: the citizen is told."""
    _emit("request.answered", request_id=request_id, citizen_id=citizen_id)


def request_overdue(*, request_id: UUID, team_id: UUID) -> None:
    """A request passed its response deadline unanswered: the team and contact person are told."""
    _emit("request.overdue", request_id=request_id, team_id=team_id)


def questionnaire_due(*, assignment_id: UUID, citizen_id: UUID) -> None:
    """A questionnaire became due: the citizen is asked to answer it."""
    _emit("questionnaire.due", assignment_id=assignment_id, citizen_id=citizen_id)


def episode_ending_soon(*, episode_id: UUID, citizen_id: UUID, contact_person_id: UUID | str) -> None:
    """An episode's planned end is near: the citizen and the contact person are told."""
    _emit(
        "episode.ending_soon",
        episode_id=episode_id,
        citizen_id=citizen_id,
        contact_person_id=contact_person_id,
    )


def session_logged(*, session_log_id: UUID, citizen_id: UUID, plan_id: UUID, team_id: UUID) -> None:
    """A training session was logged: the citizen is encouraged, relatives with the grant cheered,
    and the team's live view shows it."""
    _emit("session.logged", session_log_id=session_log_id, citizen_id=citizen_id, plan_id=plan_id, team_id=team_id)


def training_alert_raised(*, alert_id: UUID, citizen_id: UUID, contact_person_id: UUID | str) -> None:
    """A session reported pain at the stop level: the contact person (and the team) must look at it."""
    _emit("training_alert.raised", alert_id=alert_id, citizen_id=citizen_id, contact_person_id=contact_person_id)
