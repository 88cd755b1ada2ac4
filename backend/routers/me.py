"""The caller's own account: profile, roles, logged-in devices, access log and data export."""

import json
from typing import Literal
from uuid import UUID

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from backend import i18n
from backend.actors import ANY_USER, CITIZEN
from backend.auth import AuthedRequest, person_auth
from backend.errors import NotFound
from backend.schemas import AccessLogPageOut, MeOut, SessionsOut
from backend.selectors import access_log_page, me_for
from backend.services.export import citizen_export, citizen_export_as
from backend.services.identity import session_revoke, sessions_of

router = Router(tags=["me"], auth=person_auth(ANY_USER))


class ExportQuery(Schema):
    format: Literal["json", "fhir"] = Field(
        default="json",
        description="`json` (default): everything, as JSON. `fhir`: the record as a FHIR R4 Bundle "
        "(`application/fhir+json`).",
    )


class AccessLogQuery(Schema):
    cursor: str | None = None
    limit: int = 50
    include_own: bool = False


@router.get("", response=MeOut, summary="The caller's profile and roles")
def me(request: AuthedRequest):
    return me_for(request.auth)


@router.get("/sessions", response=SessionsOut, summary="Devices and browsers the caller is logged in on")
def sessions(request: AuthedRequest):
    actor = request.auth
    items = list(sessions_of(actor.user, current=actor.session))
    return {"items": items}


@router.delete("/sessions/{uuid:session_id}", response={204: None}, summary="Sign out one device")
def sign_out_session(request: AuthedRequest, session_id: UUID):
    actor = request.auth
    session = sessions_of(actor.user).filter(pk=session_id).first()
    if session is None:
        raise NotFound("No such session.")
    session_revoke(session=session)
    return Status(204, None)


@router.get(
    "/access-log",
    response=AccessLogPageOut,
    auth=person_auth(frozenset({CITIZEN})),
    summary="Who looked at or changed my data, when and why",
)
def access_log(request: AuthedRequest, query: Query[AccessLogQuery]):
    actor = request.auth
    assert actor.citizen is not None
    entries, next_cursor = access_log_page(
        citizen=actor.citizen, cursor=query.cursor, limit=query.limit, include_own=query.include_own
    )
    items = [
        {
            "at": entry.at,
            "actor_name": entry.actor_name,
            "actor_role": entry.actor_role,
            "actor_role_name": i18n.name(entry.actor_role),
            "action": entry.action,
            "action_name": i18n.name(entry.action),
            "purpose": entry.purpose,
            "purpose_name": i18n.name(entry.purpose),
            "resource_type": entry.resource_type,
            "resource_id": entry.resource_id,
        }
        for entry in entries
    ]
    return {"items": items, "next_cursor": next_cursor}


@router.get(
    "/export",
    auth=person_auth(frozenset({CITIZEN})),
    summary="Everything the platform holds about me, as JSON or as a FHIR R4 Bundle",
    response={200: dict},
    openapi_extra={
        "responses": {
            "200": {
                "description": "`format=json` (the default): the platform's own JSON; `format=fhir`: a FHIR R4 "
                "Bundle of type collection, as `application/fhir+json`.",
                "content": {
                    "application/json": {"schema": {"type": "object"}},
                    "application/fhir+json": {"schema": {"type": "object"}},
                },
            }
        }
    },
)
def export(request: AuthedRequest, query: Query[ExportQuery]):
    if query.format == "json":
        return citizen_export(actor=request.auth)
    content_type, body = citizen_export_as(actor=request.auth, name=query.format)
    return HttpResponse(json.dumps(body, cls=DjangoJSONEncoder), content_type=content_type)
