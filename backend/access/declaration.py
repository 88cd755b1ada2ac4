"""Who may see what, declared once.

Every path that decides access reads this declaration: the ORM filters of the API and the pages
(``backend.access``), the hand-written statements of the token lookup, the websocket hub's checks and the
caseload, the cookie logins and token refreshes (``backend.access.login_valid``), the role gates of the API
and the staff pages (``backend.actors.CARE``), the access log's role and purpose (``backend.audit``), a
relative's grants (bound to the app's model by ``Grants.rule``), and the database triggers that end the
hub's held checks (``backend.access.triggers``, compared with the database by a system check). Changing a
rule here changes all of them: a new care role is one more ``Role`` in ``roles``.
"""

from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property

from django.db.models import Model

from backend.access.rules import (
    NOW,
    Condition,
    Rule,
    after,
    among,
    equals,
    in_force,
    is_null,
    not_equals,
    open_or_after,
)
from backend.models import AccessLogEntry, AppSession, CareRelation, Membership, Staff, StaffRole, Token, User

CITIZEN = "citizen"
RELATIVE = "relative"
Purpose = AccessLogEntry.Purpose


@dataclass(frozen=True)
class Role:
    """A role a person acts in: its ``name`` (as memberships and the access log write it), the ``purpose``
    the access log gives its reads and writes, whether it gives ``care`` access in the teams it is held in,
    and whether it is held ``in_team`` (through a membership) or by being a citizen or a relative."""

    name: str
    purpose: str
    care: bool = False
    in_team: bool = True


@dataclass(frozen=True)
class Grants:
    """What a relative's grant from a citizen allows: the grant is in force while its ``conditions`` hold,
    and lets the relative do each of the ``scopes`` the citizen ticked (a boolean field ``can_<scope>``).

    The grants are kept by an app; the kernel declares the rule over their fields, and ``rule`` binds it to
    the app's model."""

    conditions: tuple[Condition, ...]
    scopes: tuple[str, ...]

    def scope_field(self, scope: str) -> str:
        if scope not in self.scopes:
            raise ValueError(f"Unknown grant scope {scope!r}.")
        return f"can_{scope}"

    def rule(self, model: type[Model], scope: str | None = None) -> Rule:
        """Grants of ``model`` in force, and letting the relative use ``scope`` when one is given."""
        extra = (equals(self.scope_field(scope), True),) if scope is not None else ()
        return Rule(model, self.conditions + extra, keys=("citizen", "relative"), grants=True)

    def ticked(self, row: object) -> list[str]:
        """The scopes a grant (or an invitation to one) lets the relative use, in the declared order."""
        return [scope for scope in self.scopes if getattr(row, self.scope_field(scope))]


@dataclass(frozen=True)
class AccessDeclaration:
    """The rules of access.

    - A login is valid while its access ``token``, its ``session`` and its ``user`` all hold.
    - A login acts in teams while ``team_login`` holds of its session (a citizen's login acts in none).
    - A staff member (``staff``) acts in a team through a ``membership`` in force; a ``care_membership``
      (one in a role that gives care, in force) gives care access to the citizens the team has a
      ``care_relation`` with.
    - ``roles``: every role, most specific first; the access log names a request by the first role the
      person holds in it and gives that role's purpose.
    - ``grants``: what a relative's grant allows, and while.
    """

    token: Rule
    session: Rule
    user: Rule
    team_login: Rule
    staff: Rule
    membership: Rule
    roles: tuple[Role, ...]
    care_relation: Rule
    grants: Grants

    @cached_property
    def care_roles(self) -> frozenset[str]:
        return frozenset(role.name for role in self.roles if role.care)

    @cached_property
    def team_roles(self) -> frozenset[str]:
        """The roles held through a membership of a team (staff roles)."""
        return frozenset(role.name for role in self.roles if role.in_team)

    @cached_property
    def role_names(self) -> frozenset[str]:
        return frozenset(role.name for role in self.roles)

    @cached_property
    def purposes(self) -> Mapping[str, str]:
        """Each role's purpose in the access log."""
        return {role.name: role.purpose for role in self.roles}

    def logged_role(self, held: Collection[str], *, in_team: bool) -> str | None:
        """The role the access log names a request by: the most specific of ``held`` among the team roles
        (``in_team``) or the others; None when there is none."""
        return next((role.name for role in self.roles if role.in_team == in_team and role.name in held), None)

    def acts_in_teams(self, session: AppSession) -> bool:
        """Whether a login (its session, saved or not) acts in teams, as ``team_login`` judges it."""
        return self.team_login.holds(session)

    @cached_property
    def care_membership(self) -> Rule:
        return self.membership.with_conditions(among("role", self.care_roles))

    def watched(self) -> tuple[Rule, ...]:
        """The rules the websocket hub's held checks rely on, in the order they are joined."""
        rules = (self.token, self.session, self.user, self.team_login, self.staff, self.care_membership)
        return tuple(rule for rule in rules if rule.watched)


DECLARATION = AccessDeclaration(
    token=Rule(
        Token,
        (equals("kind", Token.Kind.ACCESS.value), after("expires_at", NOW)),
        keys=("session", "token_hash"),
        watched=True,
    ),
    session=Rule(
        AppSession, (is_null("revoked_at"), after("expires_at", NOW)), keys=("user", "audience"), watched=True
    ),
    user=Rule(User, (equals("is_active", True),), watched=True),
    team_login=Rule(AppSession, (not_equals("audience", AppSession.Audience.CITIZEN.value),), watched=True),
    staff=Rule(Staff, keys=("user",), watched=True),
    membership=Rule(Membership, in_force(), keys=("staff", "team"), grants=True, watched=True),
    roles=(
        Role(StaffRole.TEAM_LEAD.value, Purpose.FOLLOW_UP.value, care=True),
        Role(StaffRole.THERAPIST.value, Purpose.CARE.value, care=True),
        Role(StaffRole.CARE_WORKER.value, Purpose.CARE.value, care=True),
        Role(StaffRole.IT.value, Purpose.DEVICE_INSTALLATION.value),
        Role(StaffRole.ANALYST.value, Purpose.FOLLOW_UP.value),
        Role(CITIZEN, Purpose.OWN_USE.value, in_team=False),
        Role(RELATIVE, Purpose.RELATIVE_SUPPORT.value, in_team=False),
    ),
    care_relation=Rule(CareRelation, in_force(), keys=("citizen", "team"), grants=True),
    grants=Grants(
        conditions=(is_null("revoked_at"), open_or_after("valid_until", NOW)),
        scopes=("view_progress", "receive_reminders", "log_sessions", "send_encouragement"),
    ),
)

_declared = DECLARATION


def declared() -> AccessDeclaration:
    """The declaration in force."""
    return _declared


@contextmanager
def declaration_replaced(declaration: AccessDeclaration) -> Iterator[AccessDeclaration]:
    """Judge access by another declaration for a while: how a test proves that every path follows it."""
    global _declared
    previous, _declared = _declared, declaration
    try:
        yield declaration
    finally:
        _declared = previous
