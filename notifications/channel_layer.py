"""The one module that knows the channel layers from the inside: Channels' ``InMemoryChannelLayer`` (the
embedded mode and the tests) and channels_redis's ``RedisPubSubChannelLayer`` (production), written against
channels-redis 4.3.0, the version ``pyproject.toml`` pins. Everything else uses the operations below:

- ``GroupReceiver``: the process's hub joins a group once, under a channel of its own whose messages go
  straight to a callback (no queue and no reading task per group), leaves it, and watches the health of
  the Redis subscriber connection: whether it is up, and a callback when it is back after Redis was gone
  (and the layer has subscribed again). ``round_trip`` sends a message to a group of the process's own and
  waits, bounded, for it to come back: a Redis that hangs (stopped, or cut off by a partition) keeps its
  connections open, so only a round trip tells it from one that answers.
- ``publish``: many messages to many groups from synchronous code; with the pub/sub layer in one pipeline
  per Redis host, through a synchronous client kept per process, to the channels the layer's subscribers
  listen on (``<prefix>__group__<group>``, on the host the layer picks for that channel), serialised by the
  layer itself. Sending them one ``group_send`` at a time costs a round trip each behind the layer's lock,
  which was most of a reminder's publishing time. Any other layer gets ``group_send`` per message. Within a
  group, messages keep their order. A Redis that does not answer fails the publish within
  ``SOCKET_TIMEOUT_SECONDS`` instead of holding the caller.
- ``GroupReceiver.held()``: what the layer holds on the receiver's loop (channels, groups and, with Redis,
  subscriptions), by name: what tests look at to see that nothing outlives the sockets that asked for it.
"""

import asyncio
import logging
import threading
import uuid
import weakref
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import redis
from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer
from channels_redis.utils import _consistent_hash, decode_hosts
from django.conf import settings

logger = logging.getLogger(__name__)

SOCKET_TIMEOUT_SECONDS = 1.0
# What a host entry of the layer's configuration may say about the connection; the rest (an asyncio
# ``retry`` policy, say) belongs to the layer's own asyncio client.
CONNECTION_OPTIONS = frozenset(
    {"address", "host", "port", "db", "username", "password", "socket_timeout", "socket_connect_timeout", "ssl"}
)
RECEIVER_CHANNEL_PREFIX = "stream-hub."
PROBE_GROUP_PREFIX = "stream-hub-probe."
PROBE_MESSAGE_TYPE = "stream.probe"

type Arrive = Callable[[str, Any], None]
type Reconnected = Callable[[], Awaitable[None]]


# --- Receiving: the process hub's groups ------------------------------------------------------------------


class _InMemoryListener:
    """Stands in for a channel's queue in ``InMemoryChannelLayer.channels``: each message is handed on."""

    __slots__ = ("arrive", "group")

    def __init__(self, arrive: Arrive, group: str) -> None:
        self.arrive, self.group = arrive, group

    def put_nowait(self, item: tuple[float, dict[str, Any]]) -> None:
        self.arrive(self.group, item[1])

    def empty(self) -> bool:
        return True

    def full(self) -> bool:
        return False


class _PubSubListener:
    """Stands in for a channel's queue in the Redis pub/sub layer: the raw message is read and handed on."""

    __slots__ = ("arrive", "deserialize", "group")

    def __init__(self, arrive: Arrive, deserialize: Callable[[bytes], Any], group: str) -> None:
        self.arrive, self.deserialize, self.group = arrive, deserialize, group

    def put_nowait(self, data: bytes) -> None:
        try:
            message = self.deserialize(data)
        except Exception:
            logger.warning("Dropped a channel-layer message that could not be read.")
            return
        self.arrive(self.group, message)


@dataclass(frozen=True)
class Held:
    """What a channel layer holds on one event loop, by the layer's own names (with the Redis layer's
    prefix): the channels it keeps a queue or a listener for, the groups it knows members of and, on the
    Redis pub/sub layer, the Redis channels its subscriber connections are subscribed to (none in memory)."""

    channels: list[str]
    groups: list[str]
    subscriptions: list[str]


class GroupReceiver:
    """A process's membership of channel-layer groups on the running event loop: each group joined once,
    every message of it passed to ``arrive(group, message)`` as it comes, and ``reconnected()`` awaited when
    the Redis subscriber connection comes back after an outage (whatever was published meanwhile is lost to
    pub/sub). Works with ``InMemoryChannelLayer`` and ``RedisPubSubChannelLayer`` only."""

    def __init__(self, layer: Any, arrive: Arrive, reconnected: Reconnected) -> None:
        if not isinstance(layer, InMemoryChannelLayer | RedisPubSubChannelLayer):
            raise TypeError(f"The stream needs the in-memory or the Redis pub/sub channel layer, not {type(layer)}.")
        self.layer = layer
        self.is_pubsub = isinstance(layer, RedisPubSubChannelLayer)
        self.arrive = arrive
        self.reconnected = reconnected
        self.loop = asyncio.get_running_loop()
        self.joined: dict[str, str] = {}  # group -> the receiver's channel in it
        self.watched: weakref.WeakSet[Any] = weakref.WeakSet()
        # The process's own group for round trips, joined on the first one; the probes waiting for their echo.
        self.probe_group = f"{PROBE_GROUP_PREFIX}{uuid.uuid4().hex}"
        self.probe_joined = False
        self.probes: dict[str, asyncio.Future[None]] = {}

    def __contains__(self, group: str) -> bool:
        return group in self.joined

    def groups(self) -> list[str]:
        return list(self.joined)

    async def join(self, group: str) -> None:
        """Receive the group's messages from now on; raises when the layer cannot be reached."""
        if group in self.joined:
            return
        self.joined[group] = await self._subscribe(group, self.arrive)

    async def _subscribe(self, group: str, arrive: Arrive) -> str:
        name = f"{RECEIVER_CHANNEL_PREFIX}{group}"
        if self.is_pubsub:
            loop_layer = self.layer._get_layer()
            name = f"{loop_layer.prefix}{name}"
            loop_layer.channels[name] = _PubSubListener(arrive, self.layer.deserialize, group)
            try:
                await self.layer.group_add(group, name)
            except BaseException:
                loop_layer.channels.pop(name, None)
                raise
            self._watch(loop_layer)
        else:
            self.layer.channels[name] = _InMemoryListener(arrive, group)
            await self.layer.group_add(group, name)
        return name

    async def round_trip(self, timeout: float) -> bool:
        """Whether a message sent through the layer now comes back to this process within ``timeout``
        seconds: the publishing and the subscribing connection both answer. Never raises; a send still
        waiting at the timeout is cancelled (redis-py then drops that connection)."""
        nonce = uuid.uuid4().hex
        echo: asyncio.Future[None] = self.loop.create_future()
        self.probes[nonce] = echo
        try:
            async with asyncio.timeout(timeout):
                if not self.probe_joined:
                    await self._subscribe(self.probe_group, self._probe_arrived)
                    self.probe_joined = True
                await self.layer.group_send(self.probe_group, {"type": PROBE_MESSAGE_TYPE, "nonce": nonce})
                await echo
        except Exception as error:  # noqa: BLE001 — a timeout or a refused connection: no answer
            logger.debug("channel-layer round trip failed (%s)", type(error).__name__)
            return False
        finally:
            self.probes.pop(nonce, None)
        return True

    def _probe_arrived(self, group: str, message: Any) -> None:
        nonce = message.get("nonce") if isinstance(message, dict) else None
        echo = self.probes.get(nonce) if isinstance(nonce, str) else None
        if echo is not None and not echo.done():
            echo.set_result(None)

    async def leave(self, group: str) -> None:
        """Receive nothing more from the group (nothing when not joined); raises when the layer cannot be
        reached, and the group is left all the same (a subscription goes with its connection)."""
        name = self.joined.pop(group, None)
        if name is None:
            return
        channels = self.layer._get_layer().channels if self.is_pubsub else self.layer.channels
        channels.pop(name, None)
        await self.layer.group_discard(group, name)

    def is_connected(self) -> bool:
        """False while the layer's subscriber connection is known to be down (Redis gone)."""
        if not self.is_pubsub:
            return True
        loop_layer = self.layer._layers.get(self.loop)
        if loop_layer is None:
            return True
        for shard in loop_layer._shards:
            pubsub = getattr(shard, "_pubsub", None)
            connection = getattr(pubsub, "connection", None)
            if connection is not None and not connection.is_connected:
                return False
        return True

    def held(self) -> Held:
        """What the layer holds on this receiver's loop, for every channel and group, not this receiver's
        only (the in-memory layer is one for all loops). It only reads, and copies each name list at once, so a
        test may call it from a thread other than the loop's."""
        if not self.is_pubsub:
            return Held(channels=list(self.layer.channels), groups=list(self.layer.groups), subscriptions=[])
        loop_layer = self.layer._layers.get(self.loop)
        if loop_layer is None:
            return Held(channels=[], groups=[], subscriptions=[])
        return Held(
            channels=list(loop_layer.channels),
            groups=list(loop_layer.groups),
            subscriptions=[name for shard in loop_layer._shards for name in list(shard._subscribed_to)],
        )

    def _watch(self, loop_layer: Any) -> None:
        """Be told when a shard's subscriber connection connects again; redis-py then subscribes again first
        (its own callback was registered before), and keeps only a weak reference to ``_connected``."""
        for shard in loop_layer._shards:
            connection = getattr(getattr(shard, "_pubsub", None), "connection", None)
            if connection is not None and connection not in self.watched:
                connection.register_connect_callback(self._connected)
                self.watched.add(connection)

    async def _connected(self, connection: Any) -> None:
        await self.reconnected()


# --- Publishing many messages at once -----------------------------------------------------------------------

_clients: dict[tuple[int, str], redis.Redis] = {}
_clients_lock = threading.Lock()


def _client(index: int, host: dict[str, Any]) -> redis.Redis:
    """This process's client for the layer's ``index``-th host, made on first use with short timeouts."""
    key = (index, repr(sorted(host.items())))
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            options: dict[str, Any] = {
                "socket_connect_timeout": SOCKET_TIMEOUT_SECONDS,
                "socket_timeout": SOCKET_TIMEOUT_SECONDS,
            }
            options.update({name: value for name, value in host.items() if name in CONNECTION_OPTIONS})
            address = options.pop("address", None)
            client = redis.Redis.from_url(address, **options) if address else redis.Redis(**options)
            _clients[key] = client
        return client


def _layer_config() -> tuple[list[dict[str, Any]], str] | None:
    layers: dict[str, dict[str, Any]] = settings.CHANNEL_LAYERS
    config: dict[str, Any] = layers["default"].get("CONFIG", {})
    hosts = decode_hosts(config.get("hosts"))
    if any("master_name" in host for host in hosts):
        return None  # Sentinel: left to the layer
    return hosts, config.get("prefix", "asgi")


def _pipelined(layer: RedisPubSubChannelLayer, messages: list[tuple[str, dict[str, Any]]]) -> bool:
    found = _layer_config()
    if found is None:
        return False
    hosts, prefix = found
    by_host: dict[int, list[tuple[str, bytes]]] = defaultdict(list)
    for group, message in messages:
        channel = f"{prefix}__group__{group}"
        by_host[_consistent_hash(channel, len(hosts))].append((channel, layer.serialize(message)))
    for index, items in by_host.items():
        pipe = _client(index, hosts[index]).pipeline(transaction=False)
        for channel, data in items:
            pipe.publish(channel, data)
        pipe.execute()
    return True


async def _group_send_in_order(layer: Any, group: str, messages: list[dict[str, Any]]) -> None:
    for message in messages:
        await layer.group_send(group, message)


async def _group_send_all(layer: Any, messages: list[tuple[str, dict[str, Any]]]) -> None:
    """Send to all groups at once, each group's messages in order; raises the first group's failure."""
    by_group: dict[str, list[dict[str, Any]]] = {}
    for group, message in messages:
        by_group.setdefault(group, []).append(message)
    outcomes = await asyncio.gather(
        *(_group_send_in_order(layer, group, items) for group, items in by_group.items()), return_exceptions=True
    )
    failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    if failures:
        raise failures[0]


def publish(layer: Any, messages: list[tuple[str, dict[str, Any]]]) -> None:
    """Send ``(group, message)`` pairs from synchronous code; raises when the layer could not take them."""
    if not messages:
        return
    if isinstance(layer, RedisPubSubChannelLayer) and _pipelined(layer, messages):
        return
    async_to_sync(_group_send_all)(layer, messages)
