"""The events self-service emits, one clearly named function each, and whom each one reaches.

Services call them through ``transaction.on_commit`` once the change they announce is stored, or (the
periodic notices) last in the transaction that marks what they announce as notified. Each
loads what it needs by id, decides the recipients as they stand now and hands the notification to
``notifications.services.notify`` (inbox, websocket, push). Notifications carry ids and neutral text
only; the apps fetch the details over the API, access-checked. Every notification has a dedupe key, so
an event emitted twice reaches nobody twice. A delivery that fails is logged, never raised: the change
it announces is stored already and the caller must not see an error for it.

Alerts and escalations about a citizen reach the episode's contact person (and an active stand-in) and
the team's care staff on duty; when that is nobody, every care member of the team.
"""

import functools
import logging
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from backend.access import care_membership_filter
from backend.models import Membership
from backend.selectors import care_alert_recipients
from backend.timeutil import municipal_today
from notifications.services import notify
from selvbetjening.models import (
    CitizenRequest,
    Episode,
    EpisodeContact,
    GoalRating,
    NetworkGrant,
    QuestionnaireAssignment,
    SessionLog,
    TrainingAlert,
)
from selvbetjening.selectors.adherence import DEFAULT_WINDOW_DAYS, MAX_WINDOW_DAYS, Window, citizen_adherence
from selvbetjening.selectors.network import VIEW_PROGRESS, grant_in_force_filter

logger = logging.getLogger("selvbetjening.events")


def _emit(event_type: str, **ids: UUID | str) -> None:
    logger.info("event %s %s", event_type, " ".join(f"{name}={value}" for name, value in sorted(ids.items())))


def _delivered[**P](event_type: str) -> Callable[[Callable[P, None]], Callable[P, None]]:
    """Log the event, deliver it, and log (not raise) a delivery that failed."""

    def decorate(function: Callable[P, None]) -> Callable[P, None]:
        @functools.wraps(function)
        def deliver(*args: P.args, **kwargs: P.kwargs) -> None:
            _emit(event_type, **{name: str(value) for name, value in kwargs.items()})
            try:
                function(*args, **kwargs)
            except Exception:
                logger.exception("event %s was not delivered", event_type)

        return deliver

    return decorate


def _users(*user_ids: UUID | None) -> set[UUID]:
    return {user_id for user_id in user_ids if user_id is not None}


def contact_user_ids(episode: Episode) -> set[UUID]:
    """The users the citizen's contact goes to for ``episode``: the contact person and a stand-in whose
    period has not ended, while they hold a care role in the episode's team and can log in."""
    today = municipal_today()
    care_membership = Membership.objects.filter(
        care_membership_filter(), staff_id=OuterRef("staff_id"), team_id=episode.team_id
    )
    current = Q(role=EpisodeContact.Role.CONTACT_PERSON) | (
        Q(role=EpisodeContact.Role.STAND_IN) & (Q(until__isnull=True) | Q(until__gte=today))
    )
    return set(
        EpisodeContact.objects.filter(
            current, Exists(care_membership), episode=episode, ended_at__isnull=True, staff__user__is_active=True
        ).values_list("staff__user_id", flat=True)
    )


def streak_days(citizen: Any, today: date) -> int:
    """The citizen's current run of days with training, counted back from ``today``."""
    streak = 0
    for length in (DEFAULT_WINDOW_DAYS, MAX_WINDOW_DAYS):
        window = Window(today - timedelta(days=length - 1), today)
        streak = citizen_adherence(citizen, window).streak_days
        if streak < length:
            break
    return streak


@_delivered("goal.rated")
def goal_rated(*, goal_id: UUID, rating_id: UUID, citizen_id: UUID) -> None:
    """A goal got a new rating: staff rated it → the citizen is told; the citizen (or a relative) rated
    it → the contact person is told. The one who rated is never told."""
    rating = GoalRating.objects.select_related("goal__episode__citizen").get(pk=rating_id)
    episode = rating.goal.episode
    if rating.rater_role == GoalRating.RaterRole.STAFF:
        recipients = _users(episode.citizen.user_id)
    else:
        recipients = contact_user_ids(episode)
    notify(
        recipients=recipients - {rating.rated_by_id},
        kind="goal.rated",
        refs={"goal_id": goal_id, "rating_id": rating_id, "episode_id": episode.pk, "citizen_id": citizen_id},
        dedupe_key=f"goal.rated:{rating_id}",
    )


@_delivered("request.answered")
def request_answered(*, request_id: UUID, citizen_id: UUID) -> None:
    """Staff replied to a citizen's request: the citizen is told, once per answer."""
    request = CitizenRequest.objects.select_related("citizen").get(pk=request_id)
    answered = request.answered_at.isoformat() if request.answered_at else ""
    notify(
        recipients=_users(request.citizen.user_id),
        kind="request.answered",
        refs={"request_id": request_id},
        dedupe_key=f"request.answered:{request_id}:{answered}",
    )


def _tell_the_team_about(request: CitizenRequest, kind: str, dedupe_key: str) -> None:
    """The contact person (and stand-in) of the request's episode and the team's care staff on duty; every
    care member of the team when that is nobody."""
    named = contact_user_ids(request.episode) if request.episode is not None else set()
    notify(
        recipients=care_alert_recipients([request.team_id], named=named),
        kind=kind,
        refs={"request_id": request.pk, "citizen_id": request.citizen_id},
        dedupe_key=dedupe_key,
    )


@_delivered("request.created")
def request_created(*, request_id: UUID, team_id: UUID) -> None:
    """A citizen wrote a new request: the team is told at once (``_tell_the_team_about``), once."""
    request = CitizenRequest.objects.select_related("episode").get(pk=request_id)
    _tell_the_team_about(request, "request.created", f"request.created:{request_id}")


@_delivered("request.overdue")
def request_overdue(*, request_id: UUID, team_id: UUID) -> None:
    """A request passed its response deadline unanswered: the team is told (``_tell_the_team_about``), once per
    deadline."""
    request = CitizenRequest.objects.select_related("episode").get(pk=request_id)
    _tell_the_team_about(request, "request.overdue", f"request.overdue:{request_id}:{request.respond_by.isoformat()}")


@_delivered("questionnaire.due")
def questionnaire_due(*, assignment_id: UUID, citizen_id: UUID) -> None:
    """A questionnaire became due: the citizen is asked to answer it."""
    assignment = QuestionnaireAssignment.objects.select_related("citizen").get(pk=assignment_id)
    notify(
        recipients=_users(assignment.citizen.user_id),
        kind="questionnaire.due",
        refs={"assignment_id": assignment_id},
        dedupe_key=f"questionnaire.due:{assignment_id}",
    )


@_delivered("episode.ending_soon")
def episode_ending_soon(*, episode_id: UUID, citizen_id: UUID, contact_person_id: UUID | str) -> None:
    """An episode's planned end is near: the citizen and the contact person are told, once per end date."""
    episode = Episode.objects.select_related("citizen").get(pk=episode_id)
    notify(
        recipients=_users(episode.citizen.user_id) | contact_user_ids(episode),
        kind="episode.ending_soon",
        refs={"episode_id": episode_id, "citizen_id": citizen_id},
        params={"end_date": episode.planned_end_date},
        dedupe_key=f"episode.ending_soon:{episode_id}:{episode.planned_end_date.isoformat()}",
    )


def _encourage_and_cheer(*, citizen_id: UUID, session_log_id: UUID) -> None:
    """The citizen's encouragement with their streak and the cheer asked of the relatives whose grant lets
    them follow progress (not the one who logged the session), each once a day (the citizen's day), naming
    ``session_log_id``."""
    log = SessionLog.objects.select_related("citizen").get(pk=session_log_id)
    citizen = log.citizen
    today = timezone.now().astimezone(ZoneInfo(citizen.time_zone)).date()
    notify(
        recipients=_users(citizen.user_id),
        kind="session.encouragement",
        refs={"session_log_id": session_log_id},
        params={"count": max(streak_days(citizen, today), 1)},
        dedupe_key=f"session.encouragement:{citizen_id}:{today.isoformat()}",
    )
    relatives = set(
        NetworkGrant.objects.filter(
            grant_in_force_filter(scope=VIEW_PROGRESS), citizen_id=citizen_id, relative__user__is_active=True
        ).values_list("relative__user_id", flat=True)
    )
    notify(
        recipients=relatives - {log.logged_by_id},
        kind="session.cheer",
        refs={"citizen_id": citizen_id, "session_log_id": session_log_id},
        dedupe_key=f"session.cheer:{citizen_id}:{today.isoformat()}",
    )


def _team_session_event(
    citizen_id: UUID, session_log_id: UUID, plan_id: UUID, team_id: UUID, *, dedupe_key: str
) -> None:
    """The team's live view is told of a session logged (no inbox rows for the team)."""
    notify(
        recipients=[],
        kind="session.logged",
        refs={"citizen_id": citizen_id, "session_log_id": session_log_id, "plan_id": plan_id},
        team_ids=[team_id],
        dedupe_key=dedupe_key,
    )


@_delivered("session.logged")
def session_logged(*, session_log_id: UUID, citizen_id: UUID, plan_id: UUID, team_id: UUID) -> None:
    """A training session was logged: the citizen is encouraged with their streak, relatives whose grant
    lets them follow progress are asked to cheer (not the one who logged it), and the team's live view
    gets the event (no inbox rows for the team).

    Encouragement and cheers come once a day (the citizen's day), for the first session logged that day:
    a second session the same day, or a week of sessions synced at once, does not repeat them.
    """
    _encourage_and_cheer(citizen_id=citizen_id, session_log_id=session_log_id)
    _team_session_event(citizen_id, session_log_id, plan_id, team_id, dedupe_key=f"session.logged:{session_log_id}")


@_delivered("sessions.logged")
def sessions_logged(*, session_log_ids: list[UUID], citizen_id: UUID, team_plans: dict[UUID, UUID]) -> None:
    """A batch of sessions (an offline phone's queue, in the order they were done) was stored: what
    ``session_logged`` does for one session, once for the batch. The citizen's encouragement and the
    relatives' cheer name the latest session (once a day, as for one), and each team's live view gets one
    event naming the latest session and the plan (``team_plans``: team id → plan id)."""
    if not session_log_ids:
        return
    latest = session_log_ids[-1]
    _encourage_and_cheer(citizen_id=citizen_id, session_log_id=latest)
    for team_id, plan_id in team_plans.items():
        _team_session_event(citizen_id, latest, plan_id, team_id, dedupe_key=f"session.logged:{latest}:{team_id}")


@_delivered("training_alert.raised")
def training_alert_raised(*, alert_id: UUID, citizen_id: UUID, contact_person_id: UUID | str) -> None:
    """A training alert (pain at the stop level, or a run of missed slots): the contact person and the
    team's care staff on duty must look at it (every care member of the team when that is nobody); the
    team's live view shows it."""
    alert = TrainingAlert.objects.select_related("episode").get(pk=alert_id)
    episode = alert.episode
    notify(
        recipients=care_alert_recipients([episode.team_id], named=contact_user_ids(episode)),
        kind="training_alert.raised",
        refs={"alert_id": alert_id, "citizen_id": citizen_id},
        team_ids=[episode.team_id],
        dedupe_key=f"training_alert.raised:{alert_id}",
    )
