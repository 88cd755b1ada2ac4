"""Who may see which citizen: decided here and nowhere else, and logged where it is decided.

The rules are declared once in ``backend.access.declaration``; this module turns them into the querysets
and look-ups the apps use. Staff see a citizen while one of their teams has a care relation in force with
the citizen and they hold a care role in force in that team; a citizen sees themself. What may not be seen
is reported exactly like what does not exist. Whether a login loaded outside the token lookup (a browser's
cookie, a refresh token) may still be used, and whether a relative's grant is in force, are judged here by
the same declaration.

Reading citizen data writes its access-log row here (``read_logged``), inside the function that fetched
it, before the data can leave: ``access_citizen`` and every app's ``access_<entity>`` log the read they
serve, and a list logs each citizen on its page. A citizen is logged once per request, whichever function
reached them first.
"""

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.db.models import Model, Q, QuerySet

from backend.access.declaration import declared
from backend.access.rules import Moments
from backend.errors import NotFound
from backend.models import AppSession, Citizen, Membership, Staff, Team, User
from backend.pagination import paginate

if TYPE_CHECKING:  # backend.actors reads the declaration of this package
    from backend.actors import Actor
    from backend.cpr import CprNumber


# --- Logins ------------------------------------------------------------------------------------------


def login_valid(session: AppSession, moments: Moments | None = None) -> bool:
    """Whether a login (its session, with its user) may be used now, as the declaration judges it: the same
    rule the token lookup and the websocket hub's checks obey in SQL, for a login loaded by other means
    (a browser's cookie, a refresh token)."""
    declaration = declared()
    moments = moments or Moments()
    return declaration.session.holds(session, moments) and declaration.user.holds(session.user, moments)


def user_may_log_in(user: User) -> bool:
    """Whether a new login may be started for ``user``: the declaration's user rule holds."""
    return declared().user.holds(user)


def login_ended_by_change(session: AppSession) -> bool:
    """Whether the login was ended by a change (signed out, its user deactivated) rather than by time alone:
    the declaration's conditions that are not judged against a moment fail."""
    declaration = declared()
    return not (declaration.session.timeless().holds(session) and declaration.user.timeless().holds(session.user))


def active_care_relation_filter(prefix: str = "care_relations__") -> Q:
    """Care relations in force today, as a filter from the model ``prefix`` leads from."""
    return declared().care_relation.q(prefix)


def care_membership_filter(prefix: str = "") -> Q:
    """Memberships that hold a care role in force today."""
    return declared().care_membership.q(prefix)


def is_active_care_member(staff: Staff, team: Team) -> bool:
    return Membership.objects.filter(care_membership_filter(), staff=staff, team=team).exists()


def access_care_team(actor: "Actor", team_id: UUID | str) -> Team:
    """A team the caller holds a care role in today; any other team is not found, like a missing one."""
    for membership in actor.care_memberships():
        if str(membership.team_id) == str(team_id):
            return membership.team
    raise NotFound("No such team.")


def citizens_visible_to(actor: "Actor") -> QuerySet[Citizen]:
    visible = Q(pk__in=[])
    team_ids = actor.care_team_ids()
    if team_ids:
        cared_for = Citizen.objects.filter(active_care_relation_filter(), care_relations__team_id__in=team_ids).values(
            "pk"
        )
        visible |= Q(pk__in=cared_for)
    if actor.citizen is not None:
        visible |= Q(pk=actor.citizen.pk)
    return Citizen.objects.filter(visible)


def access_citizen_for_change(actor: "Actor", citizen_id: UUID | str) -> Citizen:
    """The citizen, if ``actor`` may see them, for a write or an export whose service logs it; not found
    otherwise."""
    try:
        return citizens_visible_to(actor).get(pk=citizen_id)
    except (Citizen.DoesNotExist, ValueError) as exc:
        raise NotFound("No such citizen.") from exc


def access_citizen_by_cpr(actor: "Actor", number: "CprNumber", *, reads: str = "citizen") -> Citizen:
    """The citizen with this CPR number, found by its keyed hash, if ``actor`` may see them; logged."""
    from backend.audit import read_logged
    from backend.cpr import keyed_hash

    citizen = citizens_visible_to(actor).filter(cpr_hash=keyed_hash(number)).first()
    if citizen is None:
        raise NotFound("No such citizen.")
    read_logged(actor, [citizen], reads, citizen.pk)
    return citizen


def access_citizen(
    actor: "Actor", citizen_id: UUID | str, *, reads: str = "citizen", purpose: str | None = None
) -> Citizen:
    """The citizen, if ``actor`` may see them, with the read of ``reads`` logged; not found otherwise."""
    citizen = access_citizen_for_change(actor, citizen_id)
    from backend.audit import read_logged

    read_logged(actor, [citizen], reads, citizen.pk, purpose=purpose)
    return citizen


def paginate_logged[M: Model](
    actor: "Actor",
    queryset: QuerySet[M],
    *,
    reads: str,
    citizen_of: Callable[[M], Any],
    cursor: str | None,
    limit: int | None,
    order: Sequence[str] = ("-created_at", "-id"),
) -> tuple[list[M], str | None]:
    """One page of a list of citizen data (``backend.pagination.paginate``), with each citizen on the page
    logged as reading ``reads``; ``citizen_of`` gives an item's citizen or citizen id (from what the
    queryset already loads, so the page costs no extra query)."""
    from backend.audit import read_logged

    items, next_cursor = paginate(queryset, cursor=cursor, limit=limit, order=order)
    read_logged(actor, [citizen_of(item) for item in items], reads)
    return items, next_cursor


# --- What a relative's grants let them see ---------------------------------------------------------

GrantedCitizens = Callable[["Actor"], QuerySet[Citizen]]
_granted: list[GrantedCitizens] = []


def on_granted_citizens(provider: GrantedCitizens) -> None:
    """Register the app that keeps relatives' grants: ``provider(actor)`` gives the citizens whose grant to
    ``actor`` is in force now (any scope)."""
    if provider not in _granted:
        _granted.append(provider)


def citizen_ids_granted_to(actor: "Actor") -> set[UUID]:
    """The citizens a relative's grants in force let them follow now; empty for anyone else."""
    if actor.relative is None:
        return set()
    return {citizen_id for provider in _granted for citizen_id in provider(actor).values_list("pk", flat=True)}


def grant_in_force(grant: Model, moments: Moments | None = None) -> bool:
    """Whether a relative's grant (loaded) is in force now, as the declaration's grants say."""
    return declared().grants.rule(type(grant)).holds(grant, moments)


def grant_scopes(row: object) -> list[str]:
    """The scopes a grant, or an invitation to one, lets the relative use, in the declared order."""
    return declared().grants.ticked(row)
