"""Citizens as care staff see them: only those an active care relation puts in their teams' care."""

from uuid import UUID

from ninja import Query, Router

from backend import cpr
from backend.access import access_citizen, access_citizen_by_cpr
from backend.actors import CARE
from backend.auth import AuthedRequest, UserBearer
from backend.errors import InvalidInput
from backend.schemas import CitizenLookupIn, CitizenOut, CitizenPageOut, PageQuery
from backend.selectors import citizen_detail, citizens_page

router = Router(tags=["citizens"], auth=UserBearer(roles=CARE))


@router.get("", response=CitizenPageOut, summary="Citizens in my teams' care")
def list_citizens(request: AuthedRequest, query: Query[PageQuery]):
    items, next_cursor = citizens_page(request.auth, cursor=query.cursor, limit=query.limit)
    return {"items": items, "next_cursor": next_cursor}


@router.get("/{uuid:citizen_id}", response=CitizenOut, summary="One citizen's profile and care relations")
def get_citizen(request: AuthedRequest, citizen_id: UUID):
    actor = request.auth
    return citizen_detail(actor, access_citizen(actor, citizen_id))


@router.post("/lookup", response=CitizenOut, summary="Find a citizen in my teams' care by CPR number")
def lookup_citizen(request: AuthedRequest, payload: CitizenLookupIn):
    actor = request.auth
    try:
        number = cpr.CprNumber.parse(payload.cpr)
    except cpr.InvalidCpr as exc:
        raise InvalidInput("cpr", str(exc)) from exc
    return citizen_detail(actor, access_citizen_by_cpr(actor, number))
