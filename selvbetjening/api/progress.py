"""Care staff following training: a citizen's adherence, pain and goal trends; a team's caseload with
its traffic lights; training alerts to acknowledge and resolve."""

from fractions import Fraction
from typing import Any
from uuid import UUID

from ninja import Path, Query, Router

from backend.access import access_citizen, paginate_logged
from backend.actors import CARE
from backend.auth import AuthedRequest, UserBearer
from backend.models import Citizen
from selvbetjening.access import alerts as alert_access
from selvbetjening.models import Goal, TrainingAlert
from selvbetjening.schemas import progress as schemas
from selvbetjening.selectors import adherence as adherence_reads
from selvbetjening.selectors import caseload as caseload_reads
from selvbetjening.services import training_alerts as alert_services
from selvbetjening.texts import pick

CARE_STAFF = UserBearer(roles=CARE)
citizen_training = Router(tags=["staff: training progress"], auth=CARE_STAFF)
teams = Router(tags=["staff: training caseload"], auth=CARE_STAFF)
alerts = Router(tags=["staff: training alerts"], auth=CARE_STAFF)

ALERT_KIND_NAMES: dict[str, tuple[str, str]] = {
    TrainingAlert.Kind.PAIN_STOP: ("Smerte på stopniveau", "Pain at the stop level"),
    TrainingAlert.Kind.MISSED_TRAINING: ("Træning ikke gennemført flere gange i træk", "Training missed in a row"),
}
ALERT_STATUS_NAMES: dict[str, tuple[str, str]] = {
    TrainingAlert.Status.OPEN: ("Åben", "Open"),
    TrainingAlert.Status.ACKNOWLEDGED: ("Set", "Acknowledged"),
    TrainingAlert.Status.RESOLVED: ("Afsluttet", "Resolved"),
}


# --- Presenting ---------------------------------------------------------------------------------


def _figures(figures: adherence_reads.Figures) -> dict[str, Any]:
    return {
        "slots_due": figures.scheduled,
        "slots_filled": figures.filled,
        "slots_missed": figures.missed,
        "slots_upcoming": figures.upcoming,
        "adherence": figures.adherence,
        "sessions": figures.session_count,
        "ad_hoc_sessions": figures.ad_hoc_sessions,
        "pain_before_mean": figures.pain_before_mean,
        "pain_after_mean": figures.pain_after_mean,
        "effort_mean": figures.effort_mean,
    }


def _goal(goal: Goal) -> dict[str, Any]:
    return {
        "goal_id": goal.pk,
        "episode_id": goal.episode_id,
        "description": goal.description,
        "rank": goal.rank,
        "lifecycle_status": goal.lifecycle_status,
        "baseline_gas": goal.baseline_gas,
        "baseline_level": goal.baseline_level,
        "target_level": goal.target_level,
        "ratings": goal.window_ratings,  # type: ignore[attr-defined]
    }


def _mean(value: Fraction | None) -> float | None:
    return None if value is None else round(float(value), 2)


def _progress(citizen: Citizen, figures: adherence_reads.Adherence, goals: list[Goal]) -> dict[str, Any]:
    return {
        "citizen_id": citizen.pk,
        "name": citizen.full_name,
        "time_zone": citizen.time_zone,
        "from_date": figures.window.start,
        "to_date": figures.window.end,
        "summary": _figures(figures.total)
        | {"streak_slots": figures.streak_slots, "streak_days": figures.streak_days},
        "days": [_figures(day) | {"date": day.day, "session_values": day.sessions} for day in figures.days],
        "weeks": [
            _figures(week)
            | {
                "iso_year": week.iso_year,
                "iso_week": week.iso_week,
                "first_day": week.first_day,
                "last_day": week.last_day,
            }
            for week in figures.weeks
        ],
        "goals": [_goal(goal) for goal in goals],
    }


def _caseload_item(row: caseload_reads.CaseloadRow) -> dict[str, Any]:
    return {
        "citizen_id": row.citizen.pk,
        "name": row.citizen.full_name,
        "status": row.light,
        "status_reasons": row.reasons,
        "adherence": row.adherence,
        "slots_due": row.slots_due,
        "slots_filled": row.slots_filled,
        "pain_trend": row.pain_trend,
        "pain_mean_recent": _mean(row.pain_recent),
        "pain_mean_previous": _mean(row.pain_previous),
        "last_activity_at": row.last_activity,
        "open_alerts": row.open_alerts,
        "questionnaires_overdue": row.questionnaires_overdue,
        "requests_overdue": row.requests_overdue,
        "episode_ends_on": row.episode_ends_on,
    }


def _alert(alert: TrainingAlert) -> dict[str, Any]:
    exercise = alert.exercise
    contact = alert.contact_person
    return {
        "id": alert.pk,
        "citizen_id": alert.citizen_id,
        "citizen_name": alert.citizen.full_name,
        "episode_id": alert.episode_id,
        "team_id": alert.episode.team_id,
        "plan_id": alert.plan_id,
        "plan_title": alert.plan.title,
        "session_log_id": alert.session_log_id,
        "performed_at": alert.session_log.performed_at if alert.session_log else None,
        "missed_slots": alert.missed_slots,
        "exercise_id": alert.exercise_id,
        "exercise_title": pick(exercise.title_da, exercise.title_en) if exercise else None,
        "kind": alert.kind,
        "kind_name": pick(*ALERT_KIND_NAMES.get(alert.kind, (alert.kind, alert.kind))),
        "pain": alert.pain,
        "status": alert.status,
        "status_name": pick(*ALERT_STATUS_NAMES[alert.status]),
        "contact_person_name": contact.user.display_name if contact else None,
        "created_at": alert.created_at,
        "acknowledged_at": alert.acknowledged_at,
        "acknowledged_by_name": alert.acknowledged_by.display_name if alert.acknowledged_by else None,
        "resolved_at": alert.resolved_at,
        "resolved_by_name": alert.resolved_by.display_name if alert.resolved_by else None,
        "resolution_note": alert.resolution_note,
    }


# --- A citizen's progress -----------------------------------------------------------------------


@citizen_training.get(
    "/progress",
    response=schemas.CitizenProgressOut,
    summary="A citizen's training: adherence per day and week, pain and effort, goal ratings",
)
def citizen_progress(request: AuthedRequest, citizen_id: Path[UUID], query: Query[schemas.ProgressQuery]):
    citizen = access_citizen(request.auth, citizen_id, reads="training_progress")
    window = adherence_reads.window_for(query.from_, query.to)
    figures = adherence_reads.citizen_adherence(citizen, window)
    goals = adherence_reads.goal_trends(request.auth, citizen, window)
    return _progress(citizen, figures, goals)


# --- A team's caseload --------------------------------------------------------------------------


@teams.get(
    "/caseload",
    response=schemas.CaseloadPageOut,
    summary="The team's citizens with an active training plan, with adherence, pain trend and a traffic light",
)
def team_caseload(request: AuthedRequest, team_id: Path[UUID], query: Query[schemas.CaseloadQuery]):
    team, page = caseload_reads.team_caseload_for(
        request.auth, team_id, sort=query.sort, cursor=query.cursor, limit=query.limit,
        contact_person=query.contact_person, reason=query.reason,
    )
    return {
        "team_id": team.pk,
        "team_name": team.name,
        "computed_at": page.moments.now,
        "items": [_caseload_item(row) for row in page.rows],
        "next_cursor": page.next_cursor,
    }


# --- Training alerts ----------------------------------------------------------------------------


@alerts.get("", response=schemas.TrainingAlertPageOut, summary="Training alerts of my teams' citizens")
def list_training_alerts(request: AuthedRequest, query: Query[schemas.TrainingAlertQuery]):
    queryset = caseload_reads.training_alerts_for_staff(
        request.auth, statuses=list(query.status), citizen_id=query.citizen_id
    )
    items, next_cursor = paginate_logged(
        request.auth, queryset, reads="training_alert", citizen_of=lambda alert: alert.citizen_id,
        cursor=query.cursor, limit=query.limit,
    )
    return {"items": [_alert(item) for item in items], "next_cursor": next_cursor}


@alerts.post(
    "/{uuid:alert_id}/acknowledge",
    response=schemas.TrainingAlertOut,
    summary="I have seen it (again: no change; resolved: 409)",
)
def acknowledge_training_alert(request: AuthedRequest, alert_id: UUID):
    alert = alert_access.access_training_alert_for_change(request.auth, alert_id)
    alert_services.training_alert_acknowledge(alert=alert, by=request.auth)
    return _alert(alert_access.access_training_alert(request.auth, alert_id))


@alerts.post(
    "/{uuid:alert_id}/resolve", response=schemas.TrainingAlertOut, summary="Resolve with a note (final)"
)
def resolve_training_alert(request: AuthedRequest, alert_id: UUID, payload: schemas.TrainingAlertResolveIn):
    alert = alert_access.access_training_alert_for_change(request.auth, alert_id)
    alert_services.training_alert_resolve(alert=alert, by=request.auth, note=payload.note)
    return _alert(alert_access.access_training_alert(request.auth, alert_id))


ROUTERS = [
    ("/citizens/{uuid:citizen_id}/training", citizen_training),
    ("/teams/{uuid:team_id}", teams),
    ("/staff/training-alerts", alerts),
]
