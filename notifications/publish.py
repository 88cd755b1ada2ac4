"""Publishing stream events to the channel layer's groups from synchronous code, in one round trip.

With the Redis pub/sub layer (production), a batch of events goes out through one pipeline per Redis host,
from a synchronous client kept per process, to the channels the layer's subscribers listen on
(``<prefix>__group__<group>``, on the host the layer picks for that channel), serialised by the layer
itself. Sending them one ``group_send`` at a time costs a round trip each behind the layer's lock, which
was most of a reminder's publishing time. Any other layer (the embedded in-memory one) gets
``group_send`` per event. Within a group, events keep their order.

A Redis that does not answer fails the publish within ``SOCKET_TIMEOUT_SECONDS`` instead of holding the
request: the events are stored, and clients replay them (see ``notifications.consumers``).
"""

import asyncio
import threading
from collections import defaultdict
from typing import Any

import redis
from asgiref.sync import async_to_sync
from channels_redis.pubsub import RedisPubSubChannelLayer
from channels_redis.utils import _consistent_hash, decode_hosts
from django.conf import settings

SOCKET_TIMEOUT_SECONDS = 1.0
# What a host entry of the layer's configuration may say about the connection; the rest (an asyncio
# ``retry`` policy, say) belongs to the layer's own asyncio client.
CONNECTION_OPTIONS = frozenset(
    {"address", "host", "port", "db", "username", "password", "socket_timeout", "socket_connect_timeout", "ssl"}
)

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
    """Send to all groups at once, each group's events in order; raises the first group's failure."""
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
    """Send ``(group, message)`` pairs; raises when the layer could not take them."""
    if not messages:
        return
    if isinstance(layer, RedisPubSubChannelLayer) and _pipelined(layer, messages):
        return
    async_to_sync(_group_send_all)(layer, messages)
