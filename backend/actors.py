"""The principals a request can act as, and the roles they hold right now."""

from collections.abc import Callable, Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import cached_property

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q

from backend.access.declaration import CITIZEN, DECLARATION, RELATIVE, AccessDeclaration, declared
from backend.access.rules import Moments
from backend.models import AppSession, Citizen, Membership, Relative, Staff, StaffRole, User

__all__ = ["ANALYST", "ANY_USER", "CARE", "CITIZEN", "IT", "RELATIVE", "STAFF_ROLES", "Actor", "DeclaredRoles"]


class DeclaredRoles(frozenset[str]):
    """Roles as the access declaration in force names them (``of`` reads them from it), judged at each use.

    A gate made once, at import (``UserBearer(roles=CARE)``, ``staff_page(CARE)``), thereby admits what the
    declaration in force says when a request arrives, also when a test replaces the declaration. It is a
    frozenset holding the module declaration's roles, for code that takes it as one. Membership, iteration,
    comparison, the set methods and the operators (also with a frozenset on the left, which gives way to
    this subclass's reflected operator) ask the declaration in force: a function call and an attribute per
    use. What CPython copies from a set's own table (``set(CARE)``, ``{*CARE}``, a mutable ``set`` on the
    left of an operator) gets the module declaration's roles: ``CARE.now()`` gives those in force.
    """

    __slots__ = ("_of",)
    _of: Callable[[AccessDeclaration], frozenset[str]]

    def __new__(cls, of: Callable[[AccessDeclaration], frozenset[str]]) -> "DeclaredRoles":
        roles = super().__new__(cls, of(DECLARATION))
        roles._of = of
        return roles

    def now(self) -> frozenset[str]:
        """The roles the declaration in force names."""
        return self._of(declared())

    def __contains__(self, role: object) -> bool:
        return role in self._of(declared())

    def __iter__(self) -> Iterator[str]:
        return iter(self._of(declared()))

    def __len__(self) -> int:
        return len(self._of(declared()))

    def __repr__(self) -> str:
        return f"DeclaredRoles({sorted(self.now())!r})"

    def __eq__(self, other: object) -> bool:
        return self._of(declared()) == other

    def __ne__(self, other: object) -> bool:
        return self._of(declared()) != other

    def __hash__(self) -> int:
        return hash(self._of(declared()))

    def __reduce__(self) -> tuple[type[frozenset[str]], tuple[frozenset[str]]]:
        return frozenset, (self.now(),)

    # Reflected too: a frozenset on the left gives way to a subclass's reflected operator.
    def __and__(self, other: AbstractSet[str]) -> frozenset[str]:  # type: ignore[override]
        return self._of(declared()) & frozenset(other)

    __rand__ = __and__

    def __or__(self, other: AbstractSet[str]) -> frozenset[str]:  # type: ignore[override]
        return self._of(declared()) | frozenset(other)

    __ror__ = __or__

    def __sub__(self, other: AbstractSet[str]) -> frozenset[str]:  # type: ignore[override]
        return self._of(declared()) - frozenset(other)

    def __rsub__(self, other: AbstractSet[str]) -> frozenset[str]:
        return frozenset(other) - self._of(declared())

    def __xor__(self, other: AbstractSet[str]) -> frozenset[str]:  # type: ignore[override]
        return self._of(declared()) ^ frozenset(other)

    __rxor__ = __xor__

    def __le__(self, other: AbstractSet[object]) -> bool:
        return self._of(declared()) <= frozenset(other)

    def __lt__(self, other: AbstractSet[object]) -> bool:
        return self._of(declared()) < frozenset(other)

    def __ge__(self, other: AbstractSet[object]) -> bool:
        return self._of(declared()) >= frozenset(other)

    def __gt__(self, other: AbstractSet[object]) -> bool:
        return self._of(declared()) > frozenset(other)

    def isdisjoint(self, other: Iterable[object]) -> bool:
        return self._of(declared()).isdisjoint(other)

    def issubset(self, other: Iterable[object]) -> bool:
        return self._of(declared()).issubset(other)

    def issuperset(self, other: Iterable[object]) -> bool:
        return self._of(declared()).issuperset(other)

    def union[S](self, *others: Iterable[S]) -> frozenset[str | S]:
        return self._of(declared()).union(*others)

    def intersection(self, *others: Iterable[object]) -> frozenset[str]:
        return self._of(declared()).intersection(*others)

    def difference(self, *others: Iterable[object]) -> frozenset[str]:
        return self._of(declared()).difference(*others)

    def symmetric_difference[S](self, other: Iterable[S]) -> frozenset[str | S]:
        return self._of(declared()).symmetric_difference(other)

    def copy(self) -> frozenset[str]:
        return self.now()


def _care_roles(declaration: AccessDeclaration) -> frozenset[str]:
    return declaration.care_roles


def _team_roles(declaration: AccessDeclaration) -> frozenset[str]:
    return declaration.team_roles


def _role_names(declaration: AccessDeclaration) -> frozenset[str]:
    return declaration.role_names


# The roles held through a team membership, and those an operation for care staff admits: as declared.
STAFF_ROLES = DeclaredRoles(_team_roles)
CARE = DeclaredRoles(_care_roles)
IT = frozenset({StaffRole.IT.value})
ANALYST = frozenset({StaffRole.ANALYST.value})
ANY_USER = DeclaredRoles(_role_names)


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
    def acts_in_teams(self) -> bool:
        """Whether this login acts in teams at all (the declaration's ``team_login``: a citizen's does not)."""
        session = self.session if self.session is not None else AppSession(audience=self.audience)
        return declared().acts_in_teams(session)

    @cached_property
    def citizen(self) -> Citizen | None:
        return _related(self.user, "citizen") if self.audience != AppSession.Audience.STAFF else None

    @cached_property
    def relative(self) -> Relative | None:
        return _related(self.user, "relative") if self.audience != AppSession.Audience.STAFF else None

    @cached_property
    def staff(self) -> Staff | None:
        return _related(self.user, "staff") if self.acts_in_teams else None

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
        """The role named in the access log: the most specific one this request acts in, in the declaration's
        order of roles; a login acting in no team is a relative's when it is not a citizen's."""
        logged = declared().logged_role(self.roles, in_team=self.acts_in_teams)
        if logged is not None:
            return logged
        return "staff" if self.acts_in_teams else RELATIVE

    @property
    def principal_id(self) -> str:
        return f"user:{self.user.pk}"
