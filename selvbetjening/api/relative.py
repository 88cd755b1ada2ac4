"""Relatives and volunteers: only the citizens who granted them access, only what was granted."""

from uuid import UUID

from ninja import Query, Router, Status

from backend.auth import AuthedRequest
from backend.pagination import paginate
from backend.ratelimit import client_address
from selvbetjening import schemas
from selvbetjening.access import network as network_access
from selvbetjening.api.auth import relative_auth
from selvbetjening.presenters import progress as progress_present
from selvbetjening.selectors import network as network_reads
from selvbetjening.selectors.progress import progress_episodes_for_relative
from selvbetjening.services import network as network_services

router = Router(tags=["relative"], auth=relative_auth())


@router.post("/invitations/accept", response={201: schemas.GrantedCitizenOut}, summary="Accept an invitation code")
def accept_invitation(request: AuthedRequest, payload: schemas.AcceptIn):
    grant = network_services.invitation_accept(
        by=request.auth, code=payload.code, client_address=client_address(request)
    )
    return Status(
        201,
        {
            "grant_id": grant.pk,
            "citizen_id": grant.citizen_id,
            "given_name": grant.citizen.given_name,
            "scopes": grant.scopes,
            "valid_until": grant.valid_until,
        },
    )


@router.get(
    "/citizens",
    response=schemas.GrantedCitizenListOut,
    summary="The citizens who let me in, and what I may do",
)
def granted_citizens(request: AuthedRequest):
    grants = network_reads.granted_citizens(request.auth)
    items = [
        {
            "grant_id": grant.pk,
            "citizen_id": grant.citizen_id,
            "given_name": grant.citizen.given_name,
            "scopes": grant.scopes,
            "valid_until": grant.valid_until,
        }
        for grant in grants
    ]
    return {"items": items}


@router.get(
    "/citizens/{uuid:citizen_id}/progress",
    response=schemas.ProgressOut,
    summary="Courses and goals (view progress)",
)
def citizen_progress(request: AuthedRequest, citizen_id: UUID):
    citizen = network_access.access_citizen_for_relative(
        request.auth, citizen_id, network_reads.VIEW_PROGRESS, reads="progress"
    )
    return progress_present.relative_progress(citizen, progress_episodes_for_relative(request.auth, citizen))


@router.post(
    "/citizens/{uuid:citizen_id}/encouragements",
    response={201: schemas.EncouragementOut},
    summary="Send encouragement (send encouragement)",
)
def send_encouragement(request: AuthedRequest, citizen_id: UUID, payload: schemas.EncouragementIn):
    citizen = network_access.access_citizen_for_relative_change(
        request.auth, citizen_id, network_reads.SEND_ENCOURAGEMENT
    )
    return Status(201, network_services.encouragement_send(by=request.auth, citizen=citizen, text=payload.text))


@router.get(
    "/citizens/{uuid:citizen_id}/encouragements",
    response=schemas.EncouragementPageOut,
    summary="Encouragements I sent (send encouragement)",
)
def sent_encouragements(request: AuthedRequest, citizen_id: UUID, query: Query[schemas.PageQuery]):
    citizen = network_access.access_citizen_for_relative(
        request.auth, citizen_id, network_reads.SEND_ENCOURAGEMENT, reads="encouragement"
    )
    queryset = network_reads.encouragements_visible_to(request.auth).filter(citizen=citizen)
    items, next_cursor = paginate(queryset, cursor=query.cursor, limit=query.limit)
    return {"items": items, "next_cursor": next_cursor}


ROUTERS = [("/relative", router)]
