"""The citizen's network: invitations, grants and encouragements."""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.access.declaration import declared
from backend.actors import Actor
from backend.audit import access_log_record
from backend.errors import Conflict, InvalidInput, NotFound
from backend.models import AccessLogEntry, Citizen, Relative
from backend.ratelimit import failure_count, failure_limit_check
from backend.tokens import hash_secret
from selvbetjening.models import Encouragement, NetworkGrant, NetworkInvitation
from selvbetjening.services.slot_reminders import citizen_slot_reminders_reconcile

Action = AccessLogEntry.Action
INVITATION_TTL = timedelta(days=7)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10


def _normalised(code: str) -> str:
    return "".join(character for character in code.upper() if character.isalnum())


def _new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def _scope_fields(scopes: list[str]) -> dict[str, bool]:
    if not scopes:
        raise InvalidInput("scopes", "choose at least one thing the person may do.")
    grants = declared().grants
    unknown = set(scopes) - set(grants.scopes)
    if unknown:
        raise InvalidInput("scopes", f"unknown scope {sorted(unknown)[0]}.")
    return {grants.scope_field(scope): scope in scopes for scope in grants.scopes}


def _future(valid_until: datetime | None, field: str) -> None:
    if valid_until is not None and valid_until <= timezone.now():
        raise InvalidInput(field, "must be in the future.")


def _log(actor: Actor, citizen: Citizen, resource_type: str, action: str, resource_id: object) -> None:
    access_log_record(
        actor=actor,
        citizens=[citizen],
        resource_type=resource_type,
        action=action,
        resource_id=str(resource_id),
    )


@transaction.atomic
def invitation_create(
    *,
    by: Actor,
    citizen: Citizen,
    label: str,
    kind: str,
    scopes: list[str],
    grant_valid_until: datetime | None,
) -> tuple[NetworkInvitation, str]:
    """An invitation and its one-time code (returned once, stored only as a hash)."""
    fields = _scope_fields(scopes)
    _future(grant_valid_until, "grant_valid_until")
    code = _new_code()
    invitation = NetworkInvitation.objects.create(
        citizen=citizen,
        label=label,
        kind=kind,
        code_hash=hash_secret(_normalised(code)),
        grant_valid_until=grant_valid_until,
        expires_at=timezone.now() + INVITATION_TTL,
        **fields,
    )
    _log(by, citizen, "network_invitation", Action.CREATE, invitation.pk)
    return invitation, code


@transaction.atomic
def invitation_withdraw(*, invitation: NetworkInvitation, by: Actor) -> None:
    if invitation.accepted_at is None and invitation.withdrawn_at is None:
        invitation.withdrawn_at = timezone.now()
        invitation.save(update_fields=["withdrawn_at"])
        _log(by, invitation.citizen, "network_invitation", Action.DELETE, invitation.pk)


def _open_grants_revoke(citizen: Citizen, relative: Relative, now: datetime) -> None:
    NetworkGrant.objects.filter(citizen=citizen, relative=relative, revoked_at__isnull=True).update(revoked_at=now)


def invitation_accept(*, by: Actor, code: str, client_address: str = "unknown") -> NetworkGrant:
    """The invitee (logged in as a relative) accepts; an earlier open grant to the same citizen is
    replaced. An unknown, used, withdrawn or expired code is the same 404; losing a race with another
    invitation to the same pair being accepted is a 409 ``grant_accepted_concurrently``.

    Codes are short enough to read aloud, so guessing is limited: after ``RATE_LIMIT_PER_ACCOUNT``
    wrong codes in a minute from one person, or ``RATE_LIMIT_PER_ADDRESS`` from one client address,
    further tries get 429 until the minute is over."""
    keys = {"invitation-user": str(by.user.pk), "invitation-address": client_address}
    limits = {"invitation-user": settings.RATE_LIMIT_PER_ACCOUNT, "invitation-address": settings.RATE_LIMIT_PER_ADDRESS}
    for scope, key in keys.items():
        failure_limit_check(scope=scope, key=key, limit=limits[scope])
    try:
        return _invitation_accept(by=by, code=code)
    except NotFound:
        for scope, key in keys.items():
            failure_count(scope=scope, key=key, limit=limits[scope])
        raise


@transaction.atomic
def _invitation_accept(*, by: Actor, code: str) -> NetworkGrant:
    relative = by.relative
    assert relative is not None
    invitation = (
        NetworkInvitation.objects.select_for_update(of=("self",))
        .select_related("citizen")
        .filter(
            code_hash=hash_secret(_normalised(code)),
            accepted_at__isnull=True,
            withdrawn_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .first()
    )
    if invitation is None:
        raise NotFound("No such invitation, or it has expired.")
    citizen = invitation.citizen
    if citizen.user_id == by.user.pk:
        raise InvalidInput("code", "you cannot accept your own invitation.")
    now = timezone.now()
    _open_grants_revoke(citizen, relative, now)
    try:
        with transaction.atomic():
            grant = NetworkGrant.objects.create(
                citizen=citizen,
                relative=relative,
                invitation=invitation,
                label=invitation.label,
                valid_until=invitation.grant_valid_until,
                **_scope_fields(declared().grants.ticked(invitation)),
            )
    except IntegrityError as exc:
        # Another invitation from the same citizen was accepted at the same moment.
        raise Conflict(
            "Another invitation from this person was accepted at the same time; reload.",
            code="grant_accepted_concurrently",
        ) from exc
    invitation.accepted_at = now
    invitation.accepted_by = relative
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    citizen_slot_reminders_reconcile(citizen_id=citizen.pk)
    _log(by, citizen, "network_grant", Action.CREATE, grant.pk)
    return grant


@transaction.atomic
def grant_update(
    *,
    grant: NetworkGrant,
    by: Actor,
    scopes: list[str] | None,
    valid_until: datetime | None,
    clear_valid_until: bool,
) -> NetworkGrant:
    """The citizen narrows or widens a grant, or changes its expiry; effective on the next request."""
    if grant.revoked_at is not None:
        raise Conflict("The grant is revoked.", code="grant_revoked")
    fields: list[str] = []
    if scopes is not None:
        for name, value in _scope_fields(scopes).items():
            setattr(grant, name, value)
            fields.append(name)
    if clear_valid_until:
        grant.valid_until = None
        fields.append("valid_until")
    elif valid_until is not None:
        _future(valid_until, "valid_until")
        grant.valid_until = valid_until
        fields.append("valid_until")
    grant.save(update_fields=fields)
    citizen_slot_reminders_reconcile(citizen_id=grant.citizen_id)
    _log(by, grant.citizen, "network_grant", Action.UPDATE, grant.pk)
    return grant


@transaction.atomic
def grant_revoke(*, grant: NetworkGrant, by: Actor) -> None:
    """Revoke a grant; the relative's very next request no longer sees anything through it."""
    if grant.revoked_at is None:
        grant.revoked_at = timezone.now()
        grant.save(update_fields=["revoked_at"])
        citizen_slot_reminders_reconcile(citizen_id=grant.citizen_id)
        _log(by, grant.citizen, "network_grant", Action.DELETE, grant.pk)


@transaction.atomic
def encouragement_send(*, by: Actor, citizen: Citizen, text: str) -> Encouragement:
    relative = by.relative
    assert relative is not None
    encouragement = Encouragement.objects.create(
        citizen=citizen, relative=relative, author_name=by.user.display_name, text=text
    )
    _log(by, citizen, "encouragement", Action.CREATE, encouragement.pk)
    return encouragement
