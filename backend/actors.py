"""The principals a request can act as, and the roles they hold right now."""

from dataclasses import dataclass, field
from functools import cached_property

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q

from backend.access.declaration import DECLARATION, declared
from backend.access.rules import Moments
from backend.models import AppSession, Citizen, Membership, Relative, Staff, StaffRole, User

CITIZEN = "citizen"
RELATIVE = "relative"
STAFF_ROLES = frozenset(role.value for role in StaffRole)
# The roles an operation for care staff admits; who is care staff in a team is judged by the declaration.
CARE = DECLARATION.care_roles
IT = frozenset({StaffRole.IT.value})
ANALYST = frozenset({StaffRole.ANALYST.value})
ANY_USER = frozenset({CITIZEN, RELATIVE}) | STAFF_ROLES


def _related(user: User, name: str):
    try:
        return getattr(user, name)
    except ObjectDoesNotExist:
        return None


def active_membership_filter(prefix: str = "") -> Q:
    """Memberships in force today, in any role (``backend.access.declaration``)."""
    return declared().membership.q(prefix)


@dataclass(eq=False)
class Actor:
    """A logged-in person. Roles are read from the database on every request, never cached longer."""

    user: User
    session: AppSession | None = None
    audience: str = ""
    _memberships: list[Membership] | None = field(default=None, repr=False)

    @cached_property
    def citizen(self) -> Citizen | None:
        return _related(self.user, "citizen") if self.audience != AppSession.Audience.STAFF else None

    @cached_property
    def relative(self) -> Relative | None:
        return _related(self.user, "relative") if self.audience != AppSession.Audience.STAFF else None

    @cached_property
    def staff(self) -> Staff | None:
        return _related(self.user, "staff") if self.audience != AppSession.Audience.CITIZEN else None

    @cached_property
    def memberships(self) -> list[Membership]:
        if self._memberships is not None:
            return self._memberships
        if self.staff is None:
            return []
        return list(Membership.objects.filter(active_membership_filter(), staff=self.staff).select_related("team"))

    @cached_property
    def roles(self) -> frozenset[str]:
        roles = {membership.role for membership in self.memberships}
        if self.citizen is not None:
            roles.add(CITIZEN)
        if self.relative is not None:
            roles.add(RELATIVE)
        return frozenset(roles)

    def team_ids(self, roles: frozenset[str]) -> set:
        return {membership.team_id for membership in self.memberships if membership.role in roles}

    def care_memberships(self) -> list[Membership]:
        """The memberships that give care access now, as the access declaration judges them."""
        rule = declared().care_membership
        moments = Moments()
        return [membership for membership in self.memberships if rule.holds(membership, moments)]

    def care_team_ids(self) -> set:
        """The teams in which this person holds a care role now."""
        return {membership.team_id for membership in self.care_memberships()}

    @property
    def audit_role(self) -> str:
        """The role named in the access log: the most specific one this request acts in."""
        if self.audience == AppSession.Audience.CITIZEN:
            return CITIZEN if self.citizen is not None else RELATIVE
        for role in (StaffRole.TEAM_LEAD, StaffRole.THERAPIST, StaffRole.CARE_WORKER, StaffRole.IT, StaffRole.ANALYST):
            if role.value in self.roles:
                return role.value
        return "staff"

    @property
    def principal_id(self) -> str:
        return f"user:{self.user.pk}"
