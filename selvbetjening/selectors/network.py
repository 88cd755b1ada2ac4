"""The citizen's network: which grants are in force, and what they let a relative see."""

from uuid import UUID

from django.db.models import Q, QuerySet

from backend.access import access_citizen_for_change
from backend.access.declaration import declared
from backend.actors import Actor
from backend.audit import read_logged
from backend.errors import NotFound
from backend.models import Citizen
from selvbetjening.models import Encouragement, NetworkGrant, NetworkInvitation

# The scopes of a grant (the access declaration's ``grants.scopes``), by the names the callers use.
VIEW_PROGRESS = "view_progress"
RECEIVE_REMINDERS = "receive_reminders"
LOG_SESSIONS = "log_sessions"
SEND_ENCOURAGEMENT = "send_encouragement"


def grant_in_force_filter(prefix: str = "", scope: str | None = None) -> Q:
    """Grants in force (the access declaration's ``grants``), judged now: a revocation or expiry counts on
    the next request; those letting the relative use ``scope`` when one is given."""
    return declared().grants.rule(NetworkGrant, scope).q(prefix)


def grants_in_force_for(actor: Actor, scope: str | None = None) -> QuerySet[NetworkGrant]:
    """The relative's grants in force, those letting them use ``scope`` when one is given."""
    if actor.relative is None:
        return NetworkGrant.objects.none()
    return NetworkGrant.objects.filter(declared().grants.rule(NetworkGrant, scope).q(), relative=actor.relative)


def citizens_granted_to(actor: Actor, scope: str | None = None) -> QuerySet[Citizen]:
    """Citizens whose grant in force lets ``actor`` (a relative) use ``scope`` (any scope if None)."""
    return Citizen.objects.filter(pk__in=grants_in_force_for(actor, scope).values("citizen_id"))


def granted_citizens(actor: Actor) -> list[NetworkGrant]:
    """The relative's grants in force with their citizens, each citizen's read logged."""
    grants = list(grants_in_force_for(actor).select_related("citizen"))
    read_logged(actor, [grant.citizen_id for grant in grants], "network_grant")
    return grants


def grants_of_citizen(citizen: Citizen) -> QuerySet[NetworkGrant]:
    return NetworkGrant.objects.filter(citizen=citizen).select_related("relative__user").order_by("-created_at")


NETWORK_FOR_STAFF = 50


def network_for_staff(actor: Actor, citizen_id: UUID | str) -> list[NetworkGrant]:
    """The people the citizen has let in, newest first (at most 50), for care staff of a team caring for
    the citizen, to read: who, what they may do, until when, and whether the grant is revoked. The read is
    logged; 404 for a citizen the staff member may not see."""
    citizen = access_citizen_for_change(actor, citizen_id)
    if actor.staff is None:
        raise NotFound("No such citizen.")
    grants = list(grants_of_citizen(citizen)[:NETWORK_FOR_STAFF])
    read_logged(actor, [citizen], "network_grant", citizen.pk)
    return grants


def invitations_of_citizen(citizen: Citizen) -> QuerySet[NetworkInvitation]:
    return NetworkInvitation.objects.filter(citizen=citizen).order_by("-created_at")


def own_network(actor: Actor) -> tuple[list[NetworkGrant], list[NetworkInvitation]]:
    """The citizen's grants and open invitations, the read logged when there is any."""
    citizen = actor.citizen
    assert citizen is not None
    grants = list(grants_of_citizen(citizen))
    invitations = list(invitations_of_citizen(citizen))
    read_logged(actor, [citizen] if grants or invitations else [], "network_grant")
    return grants, invitations


def encouragements_visible_to(actor: Actor) -> QuerySet[Encouragement]:
    """The citizen's own encouragements, and those a relative wrote while a grant is in force."""
    visible = Q(pk__in=[])
    if actor.citizen is not None:
        visible |= Q(citizen=actor.citizen)
    if actor.relative is not None:
        visible |= Q(relative=actor.relative, citizen__in=citizens_granted_to(actor, SEND_ENCOURAGEMENT))
    return Encouragement.objects.filter(visible)
