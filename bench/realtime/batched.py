"""A prototype of the change the fan-out figures call for in notifications/consumers.py (not shipped code).

    uvicorn bench.realtime.batched:application ...     (the ``mestring-batched`` server of the benchmark)

``StreamConsumer`` checks, for every event and every socket, the socket's token (one database call) and,
for a team event, the staff member's teams (a second call), and records a personal notification as
delivered (a third). All of them go through ``database_sync_to_async``, which runs them one at a time on
one thread per process: a team event to 1,000 sockets is 2,000 calls in a row. Here the same three
module-level functions of ``notifications.consumers`` are replaced by coalescing ones: the calls made by
all sockets while one database call is in flight are answered by the next single call (one query for
all the tokens, one for all the memberships, one UPDATE for all the deliveries). Nothing is cached
across events: every event is still checked against the database, as DESIGN.md requires.

Channels 4.3's ``AsyncConsumer.dispatch`` also hops to that same thread before every message
(``aclose_old_connections``); the consumer's own database calls close old connections themselves
(``database_sync_to_async``), so ``StreamConsumer.dispatch`` here goes straight to the handler.
"""

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Any

from channels.db import database_sync_to_async

from backend.asgi import application  # noqa: F401 — sets Django up; re-exported for uvicorn


class Coalescer:
    """Answers every ``get`` asked while a load is in flight with the next load, one call for all keys."""

    def __init__(self, load: Callable[[list[Any]], dict[Any, Any]]) -> None:
        self.load = database_sync_to_async(load)
        self.pending: dict[Hashable, list[asyncio.Future[Any]]] = {}
        self.running = False

    async def get(self, key: Hashable) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending.setdefault(key, []).append(future)
        if not self.running:
            self.running = True
            asyncio.ensure_future(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self.pending:
                batch, self.pending = self.pending, {}
                try:
                    results = await self.load(list(batch))
                except Exception as error:  # noqa: BLE001 — handed to every caller of the batch
                    for futures in batch.values():
                        for future in futures:
                            if not future.done():
                                future.set_exception(error)
                    continue
                for key, futures in batch.items():
                    for future in futures:
                        if not future.done():
                            future.set_result(results.get(key))
        finally:
            self.running = False


def _actors(tokens: list[str]) -> dict[str, Any]:
    """``backend.auth.actor_for_access_token`` for many tokens in one query, reading only what it checks."""
    from django.utils import timezone

    from backend.actors import Actor
    from backend.auth import LAST_USED_RESOLUTION
    from backend.models import AppSession, Token, User
    from backend.tokens import ACCESS_PREFIX, hash_secret, looks_like

    hashes = {hash_secret(token): token for token in tokens if looks_like(token, ACCESS_PREFIX)}
    now = timezone.now()
    found: dict[str, Any] = {}
    stale: list[Any] = []
    rows = Token.objects.filter(
        token_hash__in=list(hashes),
        kind=Token.Kind.ACCESS,
        expires_at__gt=now,
        session__revoked_at__isnull=True,
        session__expires_at__gt=now,
        session__user__is_active=True,
    ).values_list("token_hash", "session_id", "session__audience", "session__last_used_at", "session__user_id")
    for token_hash, session_id, audience, last_used_at, user_id in rows:
        if now - last_used_at > LAST_USED_RESOLUTION:
            stale.append(session_id)
        user = User(pk=user_id, is_active=True)
        session = AppSession(pk=session_id, user=user, audience=audience, last_used_at=last_used_at)
        found[hashes[token_hash]] = Actor(user=user, session=session, audience=audience)
    if stale:
        AppSession.objects.filter(pk__in=stale).update(last_used_at=now)
    return found


def _care_teams(user_ids: list[Any]) -> dict[Any, set[str]]:
    """``notifications.selectors.care_team_ids`` for many staff members in one query."""
    from backend.actors import CARE, active_membership_filter
    from backend.models import Membership

    teams: dict[Any, set[str]] = {user_id: set() for user_id in user_ids}
    memberships = Membership.objects.filter(
        active_membership_filter(), staff__user_id__in=user_ids, role__in=CARE
    ).values_list("staff__user_id", "team_id")
    for user_id, team_id in memberships:
        teams[user_id].add(str(team_id))
    return teams


def _deliveries(pairs: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """``notifications.services.notifications_mark_delivered`` for many sockets in one UPDATE."""
    from django.utils import timezone

    from notifications.models import Notification

    by_id = dict((notification_id, user_id) for user_id, notification_id in pairs)
    Notification.objects.filter(
        pk__in=list(by_id), recipient_id__in=set(by_id.values()), delivered_at__isnull=True
    ).update(delivered_at=timezone.now())
    return {}


_actor_loader = Coalescer(_actors)
_team_loader = Coalescer(_care_teams)
_delivery_loader = Coalescer(_deliveries)


async def resolve_actor(token: str) -> Any:
    return await _actor_loader.get(token)


async def followable_team_ids(actor: Any) -> set[str]:
    from backend.models import AppSession

    if actor.audience == AppSession.Audience.CITIZEN:
        return set()
    teams: set[str] = await _team_loader.get(actor.user.pk)
    return teams


async def mark_delivered(*, user_id: Any, notification_ids: Iterable[Any]) -> None:
    await asyncio.gather(*(_delivery_loader.get((str(user_id), str(value))) for value in notification_ids if value))


async def dispatch(self: Any, message: dict[str, Any]) -> None:
    """``AsyncConsumer.dispatch`` without the thread hop of ``aclose_old_connections`` per message."""
    from channels.consumer import get_handler_name

    handler = getattr(self, get_handler_name(message), None)
    if handler is None:
        raise ValueError(f"No handler for message type {message['type']}")
    await handler(message)


def _install() -> None:
    from notifications import consumers

    consumers.StreamConsumer.dispatch = dispatch
    replacements: dict[str, Callable[..., Awaitable[Any]]] = {
        "resolve_actor": resolve_actor,
        "followable_team_ids": followable_team_ids,
        "mark_delivered": mark_delivered,
    }
    for name, replacement in replacements.items():
        setattr(consumers, name, replacement)


_install()
