"""Logging what a read reveals, once per citizen, before the data leaves."""

from collections.abc import Iterable

from backend.actors import Actor
from backend.audit import access_log_record
from backend.models import AccessLogEntry, Citizen


def log_read(
    actor: Actor,
    citizens: Iterable[Citizen],
    resource_type: str,
    resource_id: object = "",
    *,
    action: str = AccessLogEntry.Action.READ,
) -> None:
    """One row per citizen; ``action`` is ``export`` for a read that hands the data on in a whole."""
    unique = list({citizen.pk: citizen for citizen in citizens}.values())
    access_log_record(
        actor=actor,
        citizens=unique,
        resource_type=resource_type,
        action=action,
        resource_id=str(resource_id) if resource_id and len(unique) == 1 else "",
    )
