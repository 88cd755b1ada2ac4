"""Reads shared by the platform's own endpoints. They own the query shape and log what they reveal."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from backend import i18n
from backend.access import care_membership_filter, citizens_visible_to
from backend.actors import IT, Actor, active_membership_filter
from backend.audit import read_logged
from backend.models import AccessLogEntry, CareRelation, Citizen, Duty, Membership, Team
from backend.pagination import paginate

Action = AccessLogEntry.Action


def me_for(actor: Actor) -> dict[str, Any]:
    citizen = actor.citizen
    if citizen is not None:
        read_logged(actor, [citizen], "profile")
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
        "session_expires_at": actor.session.expires_at if actor.session is not None else None,
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
    read_logged(actor, citizens, "citizen_summary")
    return citizens, next_cursor


def citizen_detail(actor: Actor, citizen: Citizen) -> dict[str, Any]:
    """A citizen's profile; ``citizen`` comes from ``access_citizen``, which logged the read."""
    relations = list(CareRelation.objects.filter(citizen=citizen).select_related("team"))
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


# --- On duty, and whom a team's alerts reach ---------------------------------------------------

MAX_ON_DUTY = 100


def duties_in_force(now: datetime | None = None) -> QuerySet[Duty]:
    """Duties that count right now: ``until`` still ahead, an active user, and a care role in the team
    today. Judged on every read, so a duty ends at ``until`` and with the membership without a sweep."""
    care_membership = Membership.objects.filter(
        care_membership_filter(), staff_id=OuterRef("staff_id"), team_id=OuterRef("team_id")
    )
    return Duty.objects.filter(Exists(care_membership), until__gt=now or timezone.now(), staff__user__is_active=True)


def duties_of(actor: Actor) -> list[Duty]:
    """The caller's own duties in force, soonest end first."""
    if actor.staff is None:
        return []
    return list(duties_in_force().filter(staff=actor.staff).select_related("team").order_by("until", "id"))


def team_on_duty(team: Team) -> list[Duty]:
    """The team's care staff on duty now, with their names."""
    return list(duties_in_force().filter(team=team).select_related("staff__user").order_by("until", "id")[:MAX_ON_DUTY])


def on_duty_user_ids(team_ids: Iterable[Any], now: datetime | None = None) -> set[UUID]:
    """The users on duty now in any of the teams."""
    return set(duties_in_force(now).filter(team_id__in=list(team_ids)).values_list("staff__user_id", flat=True))


def care_member_user_ids(team_ids: Iterable[Any]) -> set[UUID]:
    """The active users holding a care role today in any of the teams."""
    return set(
        Membership.objects.filter(
            care_membership_filter(), team_id__in=list(team_ids), staff__user__is_active=True
        ).values_list("staff__user_id", flat=True)
    )


MAX_TEAM_MEMBERS = 500


@dataclass(frozen=True)
class TeamMember:
    staff_id: UUID
    user_id: UUID
    display_name: str
    title: str
    role: str
    on_duty_until: datetime | None


def team_directory(team: Team) -> list[TeamMember]:
    """The team's care staff today (one entry per person and care role), by name, with who is on duty: whom
    to name as contact person or stand-in. Two queries, whatever the team's size."""
    memberships = list(
        Membership.objects.filter(care_membership_filter(), team=team, staff__user__is_active=True)
        .select_related("staff__user")
        .order_by("staff__user__display_name", "role", "staff_id")[:MAX_TEAM_MEMBERS]
    )
    duty_until = dict(duties_in_force().filter(team=team).values_list("staff_id", "until"))
    return [
        TeamMember(
            staff_id=membership.staff_id,
            user_id=membership.staff.user_id,
            display_name=membership.staff.user.display_name,
            title=membership.staff.title,
            role=membership.role,
            on_duty_until=duty_until.get(membership.staff_id),
        )
        for membership in memberships
    ]


def it_staff_user_ids(municipality_id: Any) -> set[UUID]:
    """The active users holding the IT role today in the municipality."""
    return set(
        Membership.objects.filter(
            active_membership_filter(),
            role__in=IT,
            staff__municipality_id=municipality_id,
            staff__user__is_active=True,
        ).values_list("staff__user_id", flat=True)
    )


def care_alert_recipients(team_ids: Iterable[Any], *, named: Iterable[UUID] = ()) -> set[UUID]:
    """Whom an alert about the teams' citizens reaches: the ``named`` users (a contact person) and the
    teams' care staff on duty; when that is nobody, every care member of the teams."""
    team_ids = list(team_ids)
    recipients = set(named) | on_duty_user_ids(team_ids)
    return recipients or care_member_user_ids(team_ids)
