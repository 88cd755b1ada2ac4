"""Care staff following training: a citizen's adherence, pain and goal trends; a team's caseload with
its traffic lights; training alerts to acknowledge and resolve."""

from uuid import UUID

from ninja import Path, Query, Router

from backend.access import access_citizen, paginate_logged
from backend.actors import CARE
from backend.auth import AuthedRequest, UserBearer
from selvbetjening.access import alerts as alert_access
from selvbetjening.presenters.progress import alert_out, caseload_item_out, progress_out
from selvbetjening.schemas import progress as schemas
from selvbetjening.selectors import adherence as adherence_reads
from selvbetjening.selectors import caseload as caseload_reads
from selvbetjening.services import training_alerts as alert_services

CARE_STAFF = UserBearer(roles=CARE)
citizen_training = Router(tags=["staff: training progress"], auth=CARE_STAFF)
teams = Router(tags=["staff: training caseload"], auth=CARE_STAFF)
alerts = Router(tags=["staff: training alerts"], auth=CARE_STAFF)


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
    return progress_out(citizen, figures, goals)


# --- A team's caseload --------------------------------------------------------------------------


@teams.get(
    "/caseload",
    response=schemas.CaseloadPageOut,
    summary="The team's citizens with an active training plan, with adherence, pain trend and a traffic light",
)
def team_caseload(request: AuthedRequest, team_id: Path[UUID], query: Query[schemas.CaseloadQuery]):
    team, page = caseload_reads.team_caseload_for(
        request.auth,
        team_id,
        sort=query.sort,
        cursor=query.cursor,
        limit=query.limit,
        contact_person=query.contact_person,
        reason=query.reason,
    )
    return {
        "team_id": team.pk,
        "team_name": team.name,
        "computed_at": page.moments.now,
        "items": [caseload_item_out(row) for row in page.rows],
        "next_cursor": page.next_cursor,
    }


# --- Training alerts ----------------------------------------------------------------------------


@alerts.get("", response=schemas.TrainingAlertPageOut, summary="Training alerts of my teams' citizens")
def list_training_alerts(request: AuthedRequest, query: Query[schemas.TrainingAlertQuery]):
    queryset = caseload_reads.training_alerts_for_staff(
        request.auth, statuses=list(query.status), citizen_id=query.citizen_id
    )
    items, next_cursor = paginate_logged(
        request.auth,
        queryset,
        reads="training_alert",
        citizen_of=lambda alert: alert.citizen_id,
        cursor=query.cursor,
        limit=query.limit,
    )
    return {"items": [alert_out(item) for item in items], "next_cursor": next_cursor}


@alerts.post(
    "/{uuid:alert_id}/acknowledge",
    response=schemas.TrainingAlertOut,
    summary="I have seen it (again: no change; resolved: 409)",
)
def acknowledge_training_alert(request: AuthedRequest, alert_id: UUID):
    alert = alert_access.access_training_alert_for_change(request.auth, alert_id)
    alert_services.training_alert_acknowledge(alert=alert, by=request.auth)
    return alert_out(alert_access.access_training_alert(request.auth, alert_id))


@alerts.post("/{uuid:alert_id}/resolve", response=schemas.TrainingAlertOut, summary="Resolve with a note (final)")
def resolve_training_alert(request: AuthedRequest, alert_id: UUID, payload: schemas.TrainingAlertResolveIn):
    alert = alert_access.access_training_alert_for_change(request.auth, alert_id)
    alert_services.training_alert_resolve(alert=alert, by=request.auth, note=payload.note)
    return alert_out(alert_access.access_training_alert(request.auth, alert_id))


ROUTERS = [
    ("/citizens/{uuid:citizen_id}/training", citizen_training),
    ("/teams/{uuid:team_id}", teams),
    ("/staff/training-alerts", alerts),
]
