"""On duty: care staff mark themselves on duty for a team, and see who is on duty in their teams."""

from datetime import datetime
from uuid import UUID

from ninja import Field, Router, Schema, Status

from backend.access import access_care_team
from backend.actors import CARE
from backend.auth import AuthedRequest, UserBearer
from backend.schemas import InSchema
from backend.selectors import duties_of, team_on_duty
from backend.services.duty import duty_end, duty_start

router = Router(tags=["duty"], auth=UserBearer(roles=CARE))


class DutyIn(InSchema):
    until: datetime | None = Field(
        default=None,
        description="When the duty ends, with a time zone offset; 12 hours from now when left out, at most 24.",
    )


class DutyOut(Schema):
    team_id: UUID
    team_name: str = Field(alias="team.name")
    started_at: datetime
    until: datetime


class DutiesOut(Schema):
    items: list[DutyOut]


class OnDutyOut(Schema):
    staff_id: UUID
    user_id: UUID = Field(alias="staff.user_id")
    display_name: str = Field(alias="staff.user.display_name")
    started_at: datetime
    until: datetime


class OnDutyListOut(Schema):
    items: list[OnDutyOut]


@router.get("/me/duty", response=DutiesOut, summary="The teams I am on duty for")
def my_duties(request: AuthedRequest):
    return {"items": duties_of(request.auth)}


@router.put("/me/duty/{uuid:team_id}", response=DutyOut, summary="Go on duty for one of my teams")
def go_on_duty(request: AuthedRequest, team_id: UUID, payload: DutyIn):
    team = access_care_team(request.auth, team_id)
    return duty_start(actor=request.auth, team=team, until=payload.until)


@router.delete("/me/duty/{uuid:team_id}", response={204: None}, summary="Go off duty for one of my teams")
def go_off_duty(request: AuthedRequest, team_id: UUID):
    duty_end(actor=request.auth, team=access_care_team(request.auth, team_id))
    return Status(204, None)


@router.get("/teams/{uuid:team_id}/on-duty", response=OnDutyListOut, summary="Who is on duty in my team")
def on_duty(request: AuthedRequest, team_id: UUID):
    return {"items": team_on_duty(access_care_team(request.auth, team_id))}
