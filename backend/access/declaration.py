"""Who may see what, declared once.

Every path that decides access reads this declaration: the ORM filters of the API and the pages
(``backend.access``), the hand-written statements of the token lookup, the websocket hub's checks and the
caseload, and the database triggers that end the hub's held checks (``backend.access.triggers``, compared
with the database by a system check). Changing a rule here changes all of them.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property

from backend.access.rules import NOW, Rule, after, among, equals, in_force, is_null
from backend.models import AppSession, CareRelation, Membership, Staff, StaffRole, Token, User


@dataclass(frozen=True)
class AccessDeclaration:
    """The rules of access.

    - A login is valid while its access ``token``, its ``session`` and its ``user`` all hold.
    - A staff member (``staff``) acts in a team through a ``membership`` in force; a ``care_membership``
      (a care role in force) gives care access to the citizens the team has a ``care_relation`` with.
    """

    token: Rule
    session: Rule
    user: Rule
    staff: Rule
    membership: Rule
    care_roles: frozenset[str]
    care_relation: Rule

    @cached_property
    def care_membership(self) -> Rule:
        return self.membership.with_conditions(among("role", self.care_roles))

    def watched(self) -> tuple[Rule, ...]:
        """The rules the websocket hub's held checks rely on, in the order they are joined."""
        return tuple(
            rule for rule in (self.token, self.session, self.user, self.staff, self.care_membership) if rule.watched
        )


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
    staff=Rule(Staff, keys=("user",), watched=True),
    membership=Rule(Membership, in_force(), keys=("staff", "team"), grants=True, watched=True),
    care_roles=frozenset({StaffRole.CARE_WORKER.value, StaffRole.THERAPIST.value, StaffRole.TEAM_LEAD.value}),
    care_relation=Rule(CareRelation, in_force(), keys=("citizen", "team"), grants=True),
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
