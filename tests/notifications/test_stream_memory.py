"""What a closed socket leaves behind in the websocket process: nothing, on the in-memory layer and on the Redis
pub/sub layer (the latter on the PostgreSQL + Redis pass; it skips on the embedded one).

The process runs with full garbage collections kept from starting on their own (``config.asgi``), so objects of
a connection that outlived a young collection while it was open and end up in a reference cycle were kept for
good once it closed. Where the collector is off below, as good as what ``config.asgi`` sets, the hub's own
collection after a wave of closes is all that may free them.
"""

import asyncio
import base64
import gc
import os
import socket
import threading
import weakref
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict
from typing import Any

import pytest
import uvicorn
import uvloop
from asgiref.sync import sync_to_async

from config.asgi import application
from notifications import consumers, stream_hub
from notifications.channel_layer import PROBE_GROUP_PREFIX
from tests import factories
from tests.notifications.conftest import login
from tests.notifications.test_channel_layer import eventually

pytestmark = pytest.mark.django_db(transaction=True)

SOCKETS = 60
# More objects left per closed socket than this is a leak: uvicorn's cycle alone is about 30.
OBJECTS_PER_CLOSED_SOCKET = 3


@pytest.fixture
def quick_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    """Groups left and garbage collected at once, after a wave of ``SOCKETS`` closes."""
    monkeypatch.setattr(stream_hub, "GROUP_LINGER_SECONDS", 0.0)
    monkeypatch.setattr(stream_hub, "COLLECT_AFTER_CLOSED", SOCKETS)
    monkeypatch.setattr(stream_hub, "COLLECT_DELAY_SECONDS", 0.05)


@pytest.fixture
def collector_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


async def access_tokens(count: int) -> list[str]:
    def make() -> list[str]:
        return [login(factories.CitizenFactory().user).access_token for _ in range(count)]

    return await sync_to_async(make)()


class Opened(consumers.StreamSocket):
    """A stream socket that can be followed after it has gone."""

    __slots__ = ()
    made: list["weakref.ref[consumers.StreamSocket]"] = []

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        Opened.made.append(weakref.ref(self))


def held_for_streams(hub: stream_hub.StreamHub) -> dict[str, Any]:
    """Everything of the hub and of its channel layer on the hub's loop that names a stream group or holds a
    socket (the layer's own round-trip group aside)."""

    def streams(names: Any) -> list[str]:
        return [name for name in names if PROBE_GROUP_PREFIX not in name]

    return {
        "hub groups": list(hub.sockets),
        "receiver groups": streams(hub.receiver.groups()),
        **{f"layer {kind}": streams(names) for kind, names in asdict(hub.receiver.held()).items()},
        "deliveries": hub.deliveries.pairs,
        "access checks": list(hub.access.pending),
        "background tasks": list(hub.background),
        "stalled": hub.stalled or {},
    }


class Connections:
    """Sockets opened through the ASGI application in this process, as uvicorn hands them on."""

    def __init__(self) -> None:
        self.inputs: list[asyncio.Queue[dict[str, Any]]] = []
        self.runs: list[asyncio.Future[None]] = []

    async def open(self, token: str, **scope_extra: Any) -> None:
        into: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        out: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        scope = {
            "type": "websocket",
            "path": "/ws/v1/",
            "raw_path": b"/ws/v1/",
            "query_string": b"",
            "headers": [(b"authorization", f"Bearer {token}".encode())],
            "subprotocols": ["mestring.v1"],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8002),
            **scope_extra,
        }
        self.runs.append(asyncio.ensure_future(application(scope, into.get, out.put)))
        await into.put({"type": "websocket.connect"})
        assert (await asyncio.wait_for(out.get(), 15))["type"] == "websocket.accept"
        assert (await asyncio.wait_for(out.get(), 15))["type"] == "websocket.send"
        self.inputs.append(into)

    async def close_all(self) -> None:
        for into in self.inputs:
            await into.put({"type": "websocket.disconnect", "code": 1000})
        await asyncio.wait_for(asyncio.gather(*self.runs), 15)
        self.inputs.clear()
        self.runs.clear()


async def test_closed_sockets_leave_nothing_in_the_hub_or_the_channel_layer(
    layer: Any, quick_hub: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(consumers, "StreamSocket", Opened)
    Opened.made.clear()
    connections = Connections()
    for token in await access_tokens(SOCKETS):
        await connections.open(token)
    hub = stream_hub._hubs[asyncio.get_running_loop()]
    assert len(hub.sockets) == SOCKETS
    assert hub.layer is layer

    await connections.close_all()
    await eventually(lambda: not any(held_for_streams(hub).values()), "nothing of the closed sockets held")
    gc.collect()
    assert len(Opened.made) == SOCKETS
    assert [ref for ref in Opened.made if ref() is not None] == []


class Cycle:
    """Stands in for what the server below keeps of a connection in a reference cycle."""

    def __init__(self) -> None:
        self.itself = self


async def test_what_closed_connections_left_in_reference_cycles_is_freed_after_a_wave_of_closes(
    layer: Any, quick_hub: None, collector_off: None
) -> None:
    connections = Connections()
    cycles = []
    for token in await access_tokens(SOCKETS):
        cycle = Cycle()
        cycles.append(weakref.ref(cycle))
        await connections.open(token, server_connection=cycle)
    del cycle
    assert all(ref() is not None for ref in cycles)

    await connections.close_all()
    await eventually(lambda: all(ref() is None for ref in cycles), "the closed connections' cycles freed")


def objects_tracked() -> int:
    return len(gc.get_objects())


class Server:
    """uvicorn as deployed (``--ws websockets-sansio``, uvloop) with the ASGI application, on its own loop."""

    def __init__(self) -> None:
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        config = uvicorn.Config(
            application, lifespan="off", log_config=None, log_level="warning", ws="websockets-sansio"
        )
        self.server = uvicorn.Server(config)
        self.loop = uvloop.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_until_complete, args=(self.server.serve(sockets=[self.listener]),), daemon=True
        )

    async def __aenter__(self) -> "Server":
        self.thread.start()
        await eventually(lambda: self.server.started, "the server started")
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.should_exit = True
        await asyncio.to_thread(self.thread.join, 10)
        self.listener.close()

    def hub(self) -> stream_hub.StreamHub:
        return stream_hub._hubs[self.loop]


class Handshake:
    """A client on a raw connection: its upgrade request is sent all but its last line, so that the server
    holds its HTTP protocol object until ``finish``."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def start(cls, port: int, token: str) -> "Handshake":
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            (
                "GET /ws/v1/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\nSec-WebSocket-Version: 13\r\n"
                f"Authorization: Bearer {token}\r\n"
            ).encode()
        )
        await writer.drain()
        return cls(reader, writer)

    async def finish(self) -> None:
        """The last line: the socket opens, and its first frame is the hello."""
        self.writer.write(b"\r\n")
        received = b""
        while b"hello" not in received:
            chunk = await asyncio.wait_for(self.reader.read(4096), 15)
            assert chunk, received
            received += chunk
        assert received.startswith(b"HTTP/1.1 101")

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def settled(hub: stream_hub.StreamHub) -> None:
    await eventually(lambda: not any(held_for_streams(hub).values()), "nothing of the closed sockets held")
    await eventually(lambda: hub.closed_since_collection == 0, "the closed sockets collected")


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    async with Server() as running:
        yield running


async def test_a_server_that_opened_and_closed_sockets_holds_no_more_objects_than_before(
    layer: Any, quick_hub: None, server: Server, collector_off: None
) -> None:
    tokens = await access_tokens(SOCKETS)
    before = 0
    for wave in range(3):
        handshakes = [await Handshake.start(server.port, token) for token in tokens]
        await eventually(lambda: len(server.server.server_state.connections) >= SOCKETS, "every connection accepted")
        # What the young collections of a busy process do to the objects of a connection whose handshake is
        # under way: they go on to the oldest generation, which only a full collection looks at.
        gc.collect()
        for handshake in handshakes:
            await handshake.finish()
        for handshake in handshakes:
            await handshake.close()
        del handshake, handshakes
        await settled(server.hub())
        # The first wave makes what the process keeps (database connection, the hub, the layer's connections).
        if wave == 0:
            before = objects_tracked()

    left = objects_tracked() - before
    assert left <= 2 * SOCKETS * OBJECTS_PER_CLOSED_SOCKET, f"{left} objects left by {2 * SOCKETS} closed sockets"
