"""The citizen's network: a citizen fetched for a relative by the scope of their grant, and grants and
invitations fetched for the citizen, the read logged."""

from collections.abc import Callable
from uuid import UUID

from django.db.models import Model, QuerySet

from backend.actors import Actor
from backend.audit import read_logged
from backend.errors import NotFound
from backend.models import Citizen
from selvbetjening.models import NetworkGrant, NetworkInvitation
from selvbetjening.selectors.network import citizens_granted_to, grants_of_citizen, invitations_of_citizen


def access_citizen_for_relative_change(actor: Actor, citizen_id: UUID | str, scope: str) -> Citizen:
    """The citizen, if a grant in force lets ``actor`` use ``scope``, for a write whose service logs it;
    404 otherwise."""
    try:
        return citizens_granted_to(actor, scope).get(pk=citizen_id)
    except (Citizen.DoesNotExist, ValueError) as exc:
        raise NotFound("No such citizen.") from exc


def access_citizen_for_relative(actor: Actor, citizen_id: UUID | str, scope: str, *, reads: str) -> Citizen:
    """The citizen, if a grant in force lets ``actor`` use ``scope``, the read of ``reads`` logged; 404
    otherwise."""
    citizen = access_citizen_for_relative_change(actor, citizen_id, scope)
    read_logged(actor, [citizen], reads, citizen.pk)
    return citizen


def _own[M: Model](actor: Actor, of_citizen: Callable[[Citizen], QuerySet[M]], pk: UUID) -> M | None:
    """One of the calling citizen's own rows (``of_citizen`` gives them); None for anyone else's."""
    return None if actor.citizen is None else of_citizen(actor.citizen).filter(pk=pk).first()


def access_grant(actor: Actor, grant_id: UUID) -> NetworkGrant:
    """A grant the calling citizen gave."""
    grant = _own(actor, grants_of_citizen, grant_id)
    if grant is None:
        raise NotFound("No such grant.")
    return grant


def access_invitation(actor: Actor, invitation_id: UUID) -> NetworkInvitation:
    """An invitation the calling citizen sent."""
    invitation = _own(actor, invitations_of_citizen, invitation_id)
    if invitation is None:
        raise NotFound("No such invitation.")
    return invitation
