"""Reads shared by the platform's own endpoints. They own the query shape and log what they reveal."""

from typing import Any

from backend import i18n
from backend.access import citizens_visible_to
from backend.actors import Actor
from backend.audit import access_log_record
from backend.models import AccessLogEntry, CareRelation, Citizen
from backend.pagination import paginate

Action = AccessLogEntry.Action


def me_for(actor: Actor) -> dict[str, Any]:
    citizen = actor.citizen
    if citizen is not None:
        access_log_record(actor=actor, citizens=[citizen], resource_type="profile", action=Action.READ)
    return {
        "id": actor.user.pk,
        "display_name": actor.user.display_name,
        "audience": actor.audience,
        "roles": [{"code": role, "name": i18n.name(role)} for role in sorted(actor.roles)],
        "citizen": citizen,
        "memberships": [
            {
                "team_id": membership.team_id,
                "team_name": membership.team.name,
                "role": membership.role,
                "role_name": i18n.name(membership.role),
                "valid_from": membership.valid_from,
                "valid_to": membership.valid_to,
            }
            for membership in actor.memberships
        ],
    }


def access_log_page(
    *, citizen: Citizen, cursor: str | None, limit: int, include_own: bool
) -> tuple[list[AccessLogEntry], str | None]:
    entries = AccessLogEntry.objects.filter(citizen=citizen)
    if not include_own and citizen.user_id is not None:
        entries = entries.exclude(actor_id=citizen.user_id)
    return paginate(entries, cursor=cursor, limit=limit, order=("-at", "-id"))


def citizens_page(actor: Actor, *, cursor: str | None, limit: int) -> tuple[list[Citizen], str | None]:
    citizens, next_cursor = paginate(
        citizens_visible_to(actor), cursor=cursor, limit=limit, order=("family_name", "given_name", "id")
    )
    access_log_record(actor=actor, citizens=citizens, resource_type="citizen_summary", action=Action.READ)
    return citizens, next_cursor


def citizen_detail(actor: Actor, citizen: Citizen) -> dict[str, Any]:
    relations = list(CareRelation.objects.filter(citizen=citizen).select_related("team"))
    access_log_record(actor=actor, citizens=[citizen], resource_type="citizen", action=Action.READ)
    return {
        **{
            field: getattr(citizen, field)
            for field in (
                "id",
                "given_name",
                "family_name",
                "address_line",
                "postcode",
                "city",
                "phone",
                "language",
                "time_zone",
                "deceased_on",
            )
        },
        "care_relations": [
            {
                "id": relation.id,
                "team_id": relation.team_id,
                "team_name": relation.team.name,
                "purpose": relation.purpose,
                "valid_from": relation.valid_from,
                "valid_to": relation.valid_to,
            }
            for relation in relations
        ],
    }
