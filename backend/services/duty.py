"""Going on and off duty for a team."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from backend.actors import Actor
from backend.errors import InvalidInput
from backend.models import Duty, Team

DEFAULT_DUTY = timedelta(hours=12)
MAX_DUTY = timedelta(hours=24)


def _until(until: datetime | None, now: datetime) -> datetime:
    if until is None:
        return now + DEFAULT_DUTY
    if until.tzinfo is None or until.utcoffset() is None:
        raise InvalidInput("until", "must include a time zone offset.")
    if until <= now:
        raise InvalidInput("until", "must be in the future.")
    if until > now + MAX_DUTY:
        raise InvalidInput("until", f"must be at most {MAX_DUTY.total_seconds() / 3600:.0f} hours ahead.")
    return until


@transaction.atomic
def duty_start(*, actor: Actor, team: Team, until: datetime | None = None) -> Duty:
    """Put the caller on duty for ``team`` (one they hold a care role in) until ``until``, 12 hours from now
    by default and at most 24. Calling it again while on duty moves the end; after a duty ended it starts
    a new one."""
    assert actor.staff is not None
    now = timezone.now()
    end = _until(until, now)
    duty = Duty.objects.select_for_update().filter(staff=actor.staff, team=team).first()
    if duty is None:
        return Duty.objects.create(staff=actor.staff, team=team, started_at=now, until=end)
    if duty.until <= now:
        duty.started_at = now
    duty.until = end
    duty.save(update_fields=["started_at", "until"])
    return duty


def duty_end(*, actor: Actor, team: Team) -> None:
    """Take the caller off duty for ``team``; nothing happens when they were not on duty."""
    Duty.objects.filter(staff=actor.staff, team=team).delete()
