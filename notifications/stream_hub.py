"""One hub per process between the channel layer and the open websockets (``notifications.consumers``).

The hub, not each socket, listens to the channel layer (``notifications.channel_layer.GroupReceiver``): it
joins a group (``user.<id>``, ``team.<id>``) once for all of the process's sockets in it and leaves it some
seconds after the last one has gone. It knows a socket only as a ``HubMember``; it imports nothing above it.
What arrives is handled in batches. Every event is checked against the database before a socket gets
it: the hub reads the access version (``backend.models.AccessVersion``, raised by the database in the
same transaction as any change that can end access), and a socket whose last check was made at that
version, today, within ``RECHECK_SECONDS`` and before its login runs out gets the frame on that check;
every other socket with an event waiting is checked in statements of ``CHECK_CHUNK``
(``stream_checks.access_checks``: token still valid, care role in the team still held). So no permission
outlives a change (DESIGN.md), and an event to many sockets costs one small query while nothing changes.
Each allowed socket gets the frame, encoded once per event, and queues it when its client does not keep
up, so that it does not stall the others.

Deliveries of personal notifications are recorded from a process-wide buffer flushed every
``DELIVERY_FLUSH_SECONDS`` (and when a socket closes), in one ``UPDATE``.

With the Redis pub/sub layer the hub is also told when the layer's subscriber connection comes back after
Redis was gone: events published meanwhile were lost to pub/sub, so every socket with something newer in
the database replays it from the last event it sent (the database is the outbox, ``notifications.replay``).
A Redis that hangs instead (stopped, or cut off by a partition) keeps its connections open and says
nothing, so while sockets are open the hub also sends a message round the layer every
``STREAM_LAYER_PROBE_SECONDS`` and waits ``STREAM_LAYER_PROBE_TIMEOUT_SECONDS`` for it. One that does not
come back marks the layer stalled: the sockets' positions are noted, new sockets are told to try again
later, and once a round trip succeeds again every socket replays from the position noted (or its own, if
older). Events sent live after the layer came back and before the replay are not sent again.

A closed socket leaves objects in reference cycles behind in the server below it (uvicorn's HTTP protocol
and its parser, the connection's transport, about 1.3 KiB a socket), which only a full collection of the
cyclic garbage collector frees. The websocket process keeps full collections from running on their own
(``config.asgi``: they paused thousands of open sockets), so objects that outlived a young collection while
their socket was open stayed for good. The hub runs a full collection instead, a second after as many
sockets have closed as a quarter of its groups, and at least ``COLLECT_AFTER_CLOSED``: a pause only after
churn, of a length in proportion to the sockets that closed since the last one.
"""

import asyncio
import contextvars
import gc
import json
import logging
import time
import weakref
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from backend.auth import LAST_USED_RESOLUTION
from backend.timeutil import municipal_today
from notifications.channel_layer import GroupReceiver
from notifications.replay import streams_with_events_after
from notifications.stream_checks import (
    Access,
    access_checks,
    access_checks_with_head,
    access_version,
    deliveries_record,
)
from notifications.streams import STREAM_EVENT, team_group

logger = logging.getLogger(__name__)

DELIVERY_FLUSH_SECONDS = 0.25
# Sockets checked per statement when one batch of events goes to many: the next statement runs while the
# sockets of this one get their frames.
CHECK_CHUNK = 250
# A socket's check is made again at least this often, whatever the access version says: it also marks the
# session used, as a request to the API does.
RECHECK_SECONDS = LAST_USED_RESOLUTION.total_seconds()
GROUP_LINGER_SECONDS = 5.0
# Sockets closed before the hub runs a full garbage collection (a quarter of its groups, if more), and the
# wait after the last of them, so that a wave of closes is collected once.
COLLECT_AFTER_CLOSED = 1000
COLLECT_DELAY_SECONDS = 1.0


def layer_probe_seconds() -> float:
    """How often the hub checks, with a round trip, that the channel layer answers while sockets are open."""
    return float(getattr(settings, "STREAM_LAYER_PROBE_SECONDS", 2.0))


def layer_probe_timeout_seconds() -> float:
    """How long a round trip may take before the layer counts as stalled."""
    return float(getattr(settings, "STREAM_LAYER_PROBE_TIMEOUT_SECONDS", 2.0))


check_access = database_sync_to_async(access_checks)
read_access_version = database_sync_to_async(access_version)
check_access_with_head = database_sync_to_async(access_checks_with_head)
record_deliveries = database_sync_to_async(deliveries_record)
missed_streams = database_sync_to_async(streams_with_events_after)


def detached[T](coroutine: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    """A task in a context of its own: it may be started from a callback of the channel layer, whose
    context can hold an ``async_to_sync`` executor that has finished since (asgiref then refuses)."""
    return asyncio.get_running_loop().create_task(coroutine, context=contextvars.Context())


class AccessCoalescer:
    """``check(token_hash, team_ids)`` for connects, subscribes and pings: every check asked while one is
    in flight is answered by the next single statement."""

    def __init__(self) -> None:
        self.pending: dict[str, tuple[set[str], list[asyncio.Future[tuple[Access | None, int]]]]] = {}
        self.running = False

    async def check(self, token_hash: str, team_ids: Iterable[str] = ()) -> tuple[Access | None, int]:
        future: asyncio.Future[tuple[Access | None, int]] = asyncio.get_running_loop().create_future()
        teams, futures = self.pending.setdefault(token_hash, (set(), []))
        teams.update(team_ids)
        futures.append(future)
        if not self.running:
            self.running = True
            detached(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self.pending:
                batch, self.pending = self.pending, {}
                try:
                    found, head = await check_access_with_head({key: teams for key, (teams, _) in batch.items()})
                except Exception as error:  # noqa: BLE001 — handed to every caller of the batch
                    for _, futures in batch.values():
                        for future in futures:
                            if not future.done():
                                future.set_exception(error)
                    continue
                for key, (_, futures) in batch.items():
                    for future in futures:
                        if not future.done():
                            future.set_result((found.get(key), head))
        finally:
            self.running = False


class DeliveryBuffer:
    """(user id, notification id) pairs shown on a socket, recorded in one statement every few hundred ms."""

    def __init__(self) -> None:
        self.pairs: list[tuple[str, str]] = []
        self.flushing: asyncio.Future[None] | None = None
        self.timer: asyncio.TimerHandle | None = None

    def add(self, user_id: str, notification_id: Any) -> None:
        if not notification_id:
            return
        self.pairs.append((user_id, str(notification_id)))
        if self.timer is None and self.flushing is None:
            loop = asyncio.get_running_loop()
            self.timer = loop.call_later(DELIVERY_FLUSH_SECONDS, self._start)

    def _start(self) -> None:
        self.timer = None
        if self.flushing is None:
            self.flushing = detached(self._flush_all())

    async def flush(self) -> None:
        """Record everything buffered so far (and wait for a flush already under way)."""
        while self.pairs or self.flushing is not None:
            if self.flushing is None:
                if self.timer is not None:
                    self.timer.cancel()
                    self.timer = None
                self.flushing = detached(self._flush_all())
            await asyncio.shield(self.flushing)

    async def _flush_all(self) -> None:
        try:
            while self.pairs:
                batch, self.pairs = self.pairs, []
                try:
                    await record_deliveries(batch)
                except Exception as error:  # noqa: BLE001 — the inbox still shows them as not delivered
                    logger.warning("could not record %d websocket deliveries (%s)", len(batch), type(error).__name__)
        finally:
            self.flushing = None


@dataclass(frozen=True, slots=True)
class CheckHeld:
    """A socket's last access check: what it found, for which teams, at which access version and day."""

    access: Access
    teams: frozenset[str]
    version: int
    day: date
    at: float  # time.monotonic()

    def holds(self, teams: set[str], version: int, day: date, fresh_after: float, now: Any) -> bool:
        return (
            self.version == version
            and self.day == day
            and self.at > fresh_after
            and self.access.valid_until > now
            and teams <= self.teams
        )


class HubMember(Protocol):
    """What the hub needs of an open websocket (``notifications.consumers.HubMember``)."""

    is_open: bool
    user_id: str
    token_hash: str
    cursor: int
    checked: CheckHeld | None

    def followed(self) -> set[str]: ...

    def deliver(self, group: str, message: dict[str, Any], text: str, access: Access | None) -> None: ...

    def close_try_again_later(self) -> None: ...

    def hold(self) -> None: ...

    async def release(self) -> None: ...

    async def recover(self, after: int) -> None: ...


class StreamHub:
    """The process's listener on the channel layer for one event loop; see the module docstring."""

    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self.loop = asyncio.get_running_loop()
        self.sockets: dict[str, set[HubMember]] = {}
        self.receiver = GroupReceiver(layer, self.arrive, self._layer_reconnected)
        self.membership_lock = asyncio.Lock()
        self.incoming: list[tuple[str, dict[str, Any]]] = []
        self.wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.sweep: asyncio.TimerHandle | None = None
        self.access = AccessCoalescer()
        self.deliveries = DeliveryBuffer()
        self.background: set[asyncio.Task[Any]] = set()
        self.watch: asyncio.Task[None] | None = None
        # While the layer is stalled: each open socket's position when that was noticed.
        self.stalled: dict[HubMember, int] | None = None
        self.recovering = asyncio.Lock()
        self.closed_since_collection = 0
        self.collection: asyncio.TimerHandle | None = None

    # --- Groups ---------------------------------------------------------------------------------------

    async def join(self, group: str, socket: HubMember) -> bool:
        """Put the socket in a group; False when the channel layer cannot be reached."""
        if group not in self.receiver:
            try:
                async with self.membership_lock:
                    await self.receiver.join(group)
            except Exception as error:
                logger.warning("could not join a stream group (%s)", type(error).__name__)
                return False
        self.sockets.setdefault(group, set()).add(socket)
        if self.task is None:
            self.task = detached(self._run())
        if self.watch is None:
            self.watch = detached(self._watch_layer())
        return True

    def leave(self, group: str, socket: HubMember) -> None:
        members = self.sockets.get(group)
        if members is None:
            return
        members.discard(socket)
        if not members:
            del self.sockets[group]
            if self.sweep is None:
                self.sweep = self.loop.call_later(GROUP_LINGER_SECONDS, self._start_sweep)

    def closed(self) -> None:
        """A socket of this hub has gone; see the module docstring for the collection this may start."""
        self.closed_since_collection += 1
        due = max(COLLECT_AFTER_CLOSED, len(self.sockets) // 4)
        if self.collection is None and self.closed_since_collection >= due:
            self.collection = self.loop.call_later(COLLECT_DELAY_SECONDS, self._collect)

    def _collect(self) -> None:
        self.collection = None
        self.closed_since_collection = 0
        started = time.perf_counter()
        found = gc.collect()
        logger.info(
            "collected %d objects left by closed sockets in %.0f ms", found, (time.perf_counter() - started) * 1000
        )

    def _start_sweep(self) -> None:
        self.sweep = None
        self._spawn(self._sweep())

    async def _sweep(self) -> None:
        """Leave, at the layer, the groups no socket of the process is in any more."""
        async with self.membership_lock:
            for group in [name for name in self.receiver.groups() if name not in self.sockets]:
                if group in self.sockets:
                    continue
                try:
                    await self.receiver.leave(group)
                except Exception as error:  # noqa: BLE001 — the subscription goes with the connection
                    logger.warning("could not leave a stream group (%s)", type(error).__name__)

    def available(self) -> bool:
        """False while the layer's subscriber connection is known to be down (Redis gone) or the layer does
        not answer a round trip (Redis hung)."""
        return self.stalled is None and self.receiver.is_connected()

    # --- Outage and recovery (Redis pub/sub) -------------------------------------------------------------

    def _open_sockets(self) -> set[HubMember]:
        return {socket for members in self.sockets.values() for socket in members if socket.is_open}

    async def _layer_reconnected(self) -> None:
        """Redis is back and the layer has subscribed again: whatever was published meanwhile is lost to
        pub/sub, so each socket holds its live events and replays what it missed from the database."""
        self._replay_missed("reconnected")

    async def _watch_layer(self) -> None:
        """While sockets are open (or the layer is stalled), a round trip every few seconds; see the module
        docstring."""
        while True:
            await asyncio.sleep(layer_probe_seconds())
            if not self.sockets and self.stalled is None:
                continue
            answered = await self.receiver.round_trip(layer_probe_timeout_seconds())
            if not answered and self.stalled is None:
                self.stalled = {socket: socket.cursor for socket in self._open_sockets()}
                logger.warning(
                    "channel layer did not answer within %.1fs: %d sockets will replay once it does",
                    layer_probe_timeout_seconds(),
                    len(self.stalled),
                )
            elif answered and self.stalled is not None:
                self._replay_missed("answers again")

    def _replay_missed(self, why: str) -> None:
        """Every open socket holds its live events now and, one recovery at a time, replays what it missed
        since its position (the one noted when the layer stalled, if older)."""
        sockets = self._open_sockets()
        if not sockets:
            self.stalled = None
            return
        logger.warning("channel layer %s: %d sockets replay what they missed", why, len(sockets))
        for socket in sockets:
            socket.hold()
        self._spawn(self._recover(sockets))

    async def _recover(self, sockets: set[HubMember]) -> None:
        async with self.recovering:
            # Read under the lock: a recovery before this one has moved the sockets on past what it replayed.
            noted, self.stalled = self.stalled or {}, None
            cursors = {socket: min(socket.cursor, noted.get(socket, socket.cursor)) for socket in sockets}
            try:
                user_ids, team_ids = await missed_streams(min(cursors.values()))
            except Exception as error:  # noqa: BLE001
                logger.warning(
                    "could not read the missed streams (%s): every socket replays",
                    type(error).__name__,
                    exc_info=True,
                )
                user_ids = team_ids = None
            replays = []
            for socket, after in cursors.items():
                missed = (
                    user_ids is None
                    or team_ids is None
                    or socket.user_id in user_ids
                    or any(team_id in team_ids for team_id in socket.followed())
                )
                replays.append(socket.recover(after) if missed else socket.release())
            await asyncio.gather(*replays, return_exceptions=True)

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        task = detached(coroutine)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    # --- Events ----------------------------------------------------------------------------------------

    def arrive(self, group: str, message: Any) -> None:
        self.incoming.append((group, message))
        self.wake.set()

    async def _run(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.incoming:
                batch, self.incoming = self.incoming, []
                try:
                    await self._handle(batch)
                except Exception:
                    logger.exception("stream hub: a batch of events failed")

    async def _handle(self, batch: list[tuple[str, Any]]) -> None:
        targets: list[tuple[HubMember, str, dict[str, Any]]] = []
        requests: dict[str, set[str]] = {}
        for group, message in batch:
            if not isinstance(message, dict) or message.get("type") != STREAM_EVENT:
                logger.warning("Dropped a channel-layer message that is not a stream event.")
                continue
            if not isinstance(message.get("payload"), dict):
                logger.warning("Dropped a stream event without a payload object.")
                continue
            team_id = message.get("team_id")
            if team_id is not None and group != team_group(team_id):
                logger.warning("Dropped a team event sent to another group.")
                continue
            for socket in self.sockets.get(group, ()):
                if socket.is_open:
                    targets.append((socket, group, message))
                    teams = requests.setdefault(socket.token_hash, set())
                    if team_id is not None:
                        teams.add(team_id)
        if not targets:
            return
        try:
            # Read before any check: a change committed after this read raises the version again.
            version = await read_access_version()
        except Exception as error:  # noqa: BLE001 — without a check nothing is forwarded; the app resumes
            self._close_unchecked({target[0] for target in targets}, error)
            return
        texts: dict[int, str] = {}

        def deliver(socket: HubMember, group: str, message: dict[str, Any], access: Access | None) -> None:
            text = texts.get(id(message))
            if text is None:
                text = texts[id(message)] = json.dumps(message["payload"])
            socket.deliver(group, message, text, access)

        day = municipal_today()
        now = timezone.now()
        fresh_after = time.monotonic() - RECHECK_SECONDS
        by_token: dict[str, list[tuple[HubMember, str, dict[str, Any]]]] = {}
        for socket, group, message in targets:
            held = socket.checked
            if held is not None and held.holds(requests[socket.token_hash], version, day, fresh_after, now):
                deliver(socket, group, message, held.access)
            else:
                by_token.setdefault(socket.token_hash, []).append((socket, group, message))
        if not by_token:
            return
        # The other sockets' checks go in statements of CHECK_CHUNK tokens, each sent while the sockets of
        # the previous one get their frames. A socket's events all wait on its own token's chunk, in order.
        tokens = list(by_token)
        chunks = [tokens[start : start + CHECK_CHUNK] for start in range(0, len(tokens), CHECK_CHUNK)]
        checking = asyncio.ensure_future(check_access({token: requests[token] for token in chunks[0]}))
        for index, chunk in enumerate(chunks):
            try:
                found = await checking
            except Exception as error:  # noqa: BLE001 — without a check nothing is forwarded; the app resumes
                unchecked = {target[0] for token in tokens[index * CHECK_CHUNK :] for target in by_token[token]}
                self._close_unchecked(unchecked, error)
                return
            if index + 1 < len(chunks):
                checking = asyncio.ensure_future(check_access({token: requests[token] for token in chunks[index + 1]}))
            checked_at = time.monotonic()
            for token in chunk:
                access = found.get(token)
                held = None
                if access is not None:
                    held = CheckHeld(access, frozenset(requests[token]), version, day, checked_at)
                for socket, group, message in by_token[token]:
                    socket.checked = held
                    deliver(socket, group, message, access)

    def _close_unchecked(self, sockets: set[HubMember], error: Exception) -> None:
        logger.warning("could not check %d sockets (%s): closed to resume", len(sockets), type(error).__name__)
        for socket in sockets:
            socket.close_try_again_later()


_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, StreamHub]" = weakref.WeakKeyDictionary()


def hub_for(layer: Any) -> StreamHub:
    """The hub of the running event loop for this channel layer (a new layer, as in tests, gets a new hub)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None or hub.layer is not layer:
        hub = _hubs[loop] = StreamHub(layer)
    return hub
