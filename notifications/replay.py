"""Replay of the live stream from the database, the outbox of every stream event: what a client missed
after the last event id it saw, and, after a channel-layer outage, whose streams got events meanwhile.

Stream event ids are handed out in commit order (``notifications.services``), so every event up to the
newest id a read sees is visible to it: a replay up to that id leaves no gap before the live events.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Max, Min, Q
from django.utils import timezone

from notifications.models import StreamEvent

REPLAY_MAX_EVENTS = 1000
REPLAY_MAX_AGE = timedelta(days=7)


@dataclass
class Backlog:
    """The events a client missed, or ``resync`` when they cannot all be replayed (too many, too old)."""

    head: int
    events: list[StreamEvent] = field(default_factory=list)
    resync: bool = False


def stream_backlog(*, user_id: Any | None, team_ids: set[str], after: int, now: datetime | None = None) -> Backlog:
    """Every event after ``after`` in the user's stream and the teams', in id order, up to a bound.

    ``head`` is the newest event id of the whole table when the backlog was read: because ids are
    handed out in commit order, every event up to it is visible to this read. A cursor from before the
    replay window (or from another database) asks the client to resynchronise over the API instead.
    """
    bounds = StreamEvent.objects.aggregate(head=Max("id"), first=Min("id"))
    head = bounds["head"] or 0
    if after > head:
        return Backlog(head=head, resync=True)
    if after == head:
        return Backlog(head=head)
    if after < (bounds["first"] or 1) - 1:
        return Backlog(head=head, resync=True)  # events after the cursor may have been purged
    first_missed = StreamEvent.objects.filter(id__gt=after).order_by("id").values_list("created_at", flat=True)[:1]
    cutoff = (now or timezone.now()) - REPLAY_MAX_AGE
    if any(created_at < cutoff for created_at in first_missed):
        return Backlog(head=head, resync=True)
    streams = Q(team_id__in=team_ids) if team_ids else Q(pk__in=[])
    if user_id is not None:
        streams |= Q(user_id=user_id)
    events = list(StreamEvent.objects.filter(streams, id__gt=after).order_by("id")[: REPLAY_MAX_EVENTS + 1])
    if len(events) > REPLAY_MAX_EVENTS:
        return Backlog(head=head, resync=True)
    return Backlog(head=max(head, events[-1].id) if events else head, events=events)


def streams_with_events_after(after: int) -> tuple[set[str], set[str]]:
    """The user ids and team ids with a stream event after ``after``: whose sockets missed something."""
    user_ids: set[str] = set()
    team_ids: set[str] = set()
    for user_id, team_id in StreamEvent.objects.filter(id__gt=after).values_list("user_id", "team_id").distinct():
        if user_id is not None:
            user_ids.add(str(user_id))
        if team_id is not None:
            team_ids.add(str(team_id))
    return user_ids, team_ids
