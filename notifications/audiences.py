"""Audiences: people a reminder names by their role instead of one by one, resolved on the day it falls due
(``it_staff:<municipality id>``: everyone holding the IT role in a team of the municipality)."""

from typing import Any
from uuid import UUID

from backend.actors import active_membership_filter
from backend.models import Membership, StaffRole
from notifications.refs import as_uuid

IT_STAFF_AUDIENCE = "it_staff"
AUDIENCES = frozenset({IT_STAFF_AUDIENCE})


def it_staff_audience(municipality_id: Any) -> str:
    """Everyone holding the IT role in a team of the municipality on the day the reminder falls due."""
    return f"{IT_STAFF_AUDIENCE}:{as_uuid(municipality_id)}"


def audience_known(audience: str) -> bool:
    return audience.partition(":")[0] in AUDIENCES


def audience_members(audience: str) -> list[UUID]:
    """The users an audience stands for today."""
    name, _, value = audience.partition(":")
    if name == IT_STAFF_AUDIENCE:
        try:
            municipality_id = UUID(value)
        except ValueError:
            return []
        return list(
            Membership.objects.filter(
                active_membership_filter(),
                role=StaffRole.IT,
                team__unit__municipality_id=municipality_id,
                staff__user__is_active=True,
            )
            .values_list("staff__user_id", flat=True)
            .distinct()
        )
    return []
