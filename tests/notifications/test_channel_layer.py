"""The channel-layer adapter on both layers the stream runs on: the in-memory layer (embedded mode) and the
Redis pub/sub layer against a real Redis (production's configuration, pointed at ``REDIS_URL``).

The Redis cases skip on the embedded pass (no ``DATABASE_URL``) and fail on the PostgreSQL + Redis pass when
``REDIS_URL`` is missing: there they are the only check of the adapter against the layer it was written for.
"""

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import asdict
from typing import Any
from urllib.parse import urlsplit

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers, get_channel_layer

from notifications import channel_layer, stream_hub
from notifications.channel_layer import GroupReceiver
from tests.notifications.conftest import pubsub_settings, redis_url

WAIT_SECONDS = 10.0


@pytest.fixture
def redis_layer(settings: Any) -> Iterator[Any]:
    pubsub_settings(settings, redis_url())
    channel_layers.backends.clear()
    yield get_channel_layer()
    channel_layers.backends.clear()


class Arrivals:
    """What a receiver was handed, and a way to wait for it."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, Any]] = []
        self.changed = asyncio.Event()

    def __call__(self, group: str, message: Any) -> None:
        self.messages.append((group, message))
        self.changed.set()

    async def until(self, count: int) -> list[tuple[str, Any]]:
        async with asyncio.timeout(WAIT_SECONDS):
            while len(self.messages) < count:
                self.changed.clear()
                await self.changed.wait()
        return self.messages


async def nothing_happens() -> None:
    return None


async def eventually(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"not within {WAIT_SECONDS} s: {what}"
        await asyncio.sleep(0.02)


def held_for(receiver: GroupReceiver, group: str) -> dict[str, int]:
    """How many of the channels, groups and subscriptions the layer holds name ``group``."""
    return {kind: sum(group in name for name in names) for kind, names in asdict(receiver.held()).items()}


def event(number: int) -> dict[str, Any]:
    return {"type": "stream.event", "event_id": number}


# --- Joining and leaving groups as the process hub ---------------------------------------------------------


class Member:
    """An open socket as far as joining and leaving goes."""

    is_open = True


async def test_the_hub_joins_a_group_once_for_its_sockets_and_leaves_it_after_the_last(layer, monkeypatch):
    monkeypatch.setattr(stream_hub, "GROUP_LINGER_SECONDS", 0.0)
    hub = stream_hub.StreamHub(layer)
    arrivals = hub.receiver.arrive = Arrivals()
    group = f"user.{uuid.uuid4()}"
    first, second = Member(), Member()
    assert await hub.join(group, first)
    assert await hub.join(group, second)
    assert hub.receiver.groups() == [group]
    assert hub.available()

    await layer.group_send(group, event(1))
    assert await arrivals.until(1) == [(group, event(1))]

    hub.leave(group, first)
    await asyncio.sleep(0.05)
    assert group in hub.receiver, "left while a socket was still in the group"
    hub.leave(group, second)
    await eventually(lambda: group not in hub.receiver, "the group left after its last socket")
    await layer.group_send(group, event(2))
    await asyncio.sleep(0.3)
    assert arrivals.messages == [(group, event(1))]
    assert hub.task is not None
    hub.task.cancel()


async def test_a_receiver_gets_only_the_groups_it_is_in(layer):
    arrivals = Arrivals()
    receiver = GroupReceiver(layer, arrivals, nothing_happens)
    joined, other = f"team.{uuid.uuid4()}", f"team.{uuid.uuid4()}"
    assert held_for(receiver, joined) == {"channels": 0, "groups": 0, "subscriptions": 0}
    await receiver.join(joined)
    await receiver.join(joined)
    # One channel of the receiver's in the group; with Redis, one subscription to the group's Redis channel.
    subscriptions = 1 if receiver.is_pubsub else 0
    assert held_for(receiver, joined) == {"channels": 1, "groups": 1, "subscriptions": subscriptions}
    assert held_for(receiver, other) == {"channels": 0, "groups": 0, "subscriptions": 0}
    await layer.group_send(other, event(1))
    await layer.group_send(joined, event(2))
    assert await arrivals.until(1) == [(joined, event(2))]
    await receiver.leave(joined)
    await receiver.leave(joined)
    assert receiver.groups() == []
    assert held_for(receiver, joined) == {"channels": 0, "groups": 0, "subscriptions": 0}
    await layer.group_send(joined, event(3))
    await asyncio.sleep(0.3)
    assert arrivals.messages == [(joined, event(2))]


def test_a_receiver_refuses_a_layer_it_was_not_written_for():
    async def make() -> None:
        GroupReceiver(object(), Arrivals(), nothing_happens)

    with pytest.raises(TypeError):
        asyncio.run(make())


# --- Publishing many messages at once ----------------------------------------------------------------------


async def test_a_published_batch_reaches_the_receiver_in_order_per_group(layer):
    arrivals = Arrivals()
    receiver = GroupReceiver(layer, arrivals, nothing_happens)
    user, team = f"user.{uuid.uuid4()}", f"team.{uuid.uuid4()}"
    await receiver.join(user)
    await receiver.join(team)
    messages = [(user if number % 3 else team, event(number)) for number in range(1, 31)]
    await sync_to_async(channel_layer.publish)(layer, messages)
    received = await arrivals.until(len(messages))
    assert sorted(message["event_id"] for _, message in received) == list(range(1, 31))
    for group in (user, team):
        assert [message for name, message in received if name == group] == [
            message for name, message in messages if name == group
        ]


async def test_a_published_batch_reaches_every_channel_of_the_groups_in_order(redis_layer):
    user_group, team_group = f"user.{uuid.uuid4()}", f"team.{uuid.uuid4()}"
    channel = await redis_layer.new_channel()
    await redis_layer.group_add(user_group, channel)
    await redis_layer.group_add(team_group, channel)
    messages = [(user_group if index % 3 else team_group, event(index)) for index in range(1, 31)]
    await sync_to_async(channel_layer.publish)(redis_layer, messages)
    received = [await redis_layer.receive(channel) for _ in messages]
    assert sorted(message["event_id"] for message in received) == list(range(1, 31))
    for group in (user_group, team_group):
        sent = [message["event_id"] for name, message in messages if name == group]
        assert [message["event_id"] for message in received if message["event_id"] in sent] == sent
    await redis_layer.group_discard(user_group, channel)
    await redis_layer.group_discard(team_group, channel)


def test_a_redis_that_is_gone_fails_the_publish_and_the_client_is_bounded_by_a_timeout(settings):
    redis_url()
    # A port bound and not listening refuses connections, and no other process can take it meanwhile.
    with socket.socket() as gone:
        gone.bind(("127.0.0.1", 0))
        port = gone.getsockname()[1]
        pubsub_settings(settings, f"redis://127.0.0.1:{port}/0")
        channel_layers.backends.clear()
        with pytest.raises(Exception):  # noqa: B017 — redis-py's ConnectionError, whatever its subclass
            channel_layer.publish(get_channel_layer(), [("user.nobody", event(1))])
    [options] = [
        client.connection_pool.connection_kwargs
        for client in channel_layer._clients.values()
        if client.connection_pool.connection_kwargs.get("port") == port
    ]
    configured = settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]
    for name in ("socket_timeout", "socket_connect_timeout"):
        assert options[name] == configured.get(name, channel_layer.SOCKET_TIMEOUT_SECONDS) <= 1.0
    channel_layers.backends.clear()


# --- The health of the Redis subscriber connection --------------------------------------------------------


class RedisProxy:
    """A TCP proxy on loopback in front of the test's Redis that can drop every connection, refuse new ones
    while Redis is "gone", and let them through again."""

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self.host, self.port, self.database = parts.hostname or "127.0.0.1", parts.port or 6379, parts.path
        self.listen_port = 0
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []
        self.pipes: set[asyncio.Task[None]] = set()
        self.flowing = asyncio.Event()
        self.flowing.set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.listen_port}{self.database}"

    async def open(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.listen_port, reuse_address=True)
        self.listen_port = self.server.sockets[0].getsockname()[1]

    async def drop(self) -> None:
        """Redis is gone: every connection is cut and none is accepted until ``open``."""
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.transport.abort()
        self.writers.clear()
        await self.server.wait_closed()
        self.server = None

    def hang(self) -> None:
        """Redis hangs (stopped, a partition): every connection stays open and nothing goes through."""
        self.flowing.clear()

    def wake(self) -> None:
        self.flowing.set()

    async def close(self) -> None:
        self.wake()
        if self.server is not None:
            await self.drop()
        for pipe in list(self.pipes):
            pipe.cancel()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(self.host, self.port)
        self.writers += [writer, upstream_writer]
        pipes = [
            asyncio.ensure_future(self._pipe(reader, upstream_writer)),
            asyncio.ensure_future(self._pipe(upstream_reader, writer)),
        ]
        self.pipes.update(pipes)
        await asyncio.gather(*pipes, return_exceptions=True)
        self.pipes.difference_update(pipes)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self.flowing.wait()
                writer.write(data)
                await writer.drain()
        finally:
            writer.transport.abort()


@pytest.fixture
async def proxy() -> AsyncIterator[RedisProxy]:
    proxy = RedisProxy(redis_url())
    await proxy.open()
    yield proxy
    await proxy.close()


async def test_a_dropped_subscriber_connection_is_noticed_and_its_return_reported(proxy, settings):
    pubsub_settings(settings, proxy.url)
    channel_layers.backends.clear()
    layer = get_channel_layer()
    arrivals = Arrivals()
    reconnected = asyncio.Event()

    async def on_reconnect() -> None:
        reconnected.set()

    receiver = GroupReceiver(layer, arrivals, on_reconnect)
    group = f"user.{uuid.uuid4()}"
    await receiver.join(group)
    assert receiver.is_connected()

    await proxy.drop()
    await eventually(lambda: not receiver.is_connected(), "the dropped subscriber connection noticed")
    assert not reconnected.is_set()

    await proxy.open()
    async with asyncio.timeout(WAIT_SECONDS):
        await reconnected.wait()
    assert receiver.is_connected()
    # Subscribed again before the report: what is published now arrives.
    await sync_to_async(channel_layer.publish)(layer, [(group, event(1))])
    assert await arrivals.until(1) == [(group, event(1))]
    await layer.flush()
    channel_layers.backends.clear()


# --- A round trip through the layer: what tells a hung Redis from one that answers -------------------------


async def test_a_round_trip_through_the_layer_comes_back(layer):
    receiver = GroupReceiver(layer, Arrivals(), nothing_happens)
    assert await receiver.round_trip(WAIT_SECONDS)
    assert await receiver.round_trip(WAIT_SECONDS)
    assert receiver.groups() == [], "the probe's own group is not one of the stream's"
    await layer.flush()


async def test_a_hung_redis_fails_the_round_trip_though_no_connection_closes(proxy, settings):
    pubsub_settings(settings, proxy.url)
    channel_layers.backends.clear()
    layer = get_channel_layer()
    arrivals = Arrivals()
    receiver = GroupReceiver(layer, arrivals, nothing_happens)
    group = f"user.{uuid.uuid4()}"
    await receiver.join(group)
    assert await receiver.round_trip(WAIT_SECONDS)

    proxy.hang()
    assert not await receiver.round_trip(0.5)
    assert not await receiver.round_trip(0.5)
    assert receiver.is_connected(), "a hang closes no connection: only the round trip tells"

    proxy.wake()
    deadline = time.monotonic() + WAIT_SECONDS
    while not await receiver.round_trip(1.0):
        assert time.monotonic() < deadline, "the round trip did not succeed again after the hang"
    # The subscription held through the hang: what is published now arrives.
    await sync_to_async(channel_layer.publish)(layer, [(group, event(1))])
    assert (group, event(1)) in await arrivals.until(1)
    await layer.flush()
    channel_layers.backends.clear()
