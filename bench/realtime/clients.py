"""A load client holding many websocket connections, driven by the harness over stdin/stdout.

    python -m bench.realtime.clients      (one JSON command a line in, one JSON answer a line out)

Commands:

- ``{"op": "connect", "targets": [[port, token, query], ...], "concurrency": N}``: open the
  connections, at most N handshakes in flight (N = len(targets) opens them all at once). Each must
  be accepted and send its first frame (``hello``; with a ``team_id`` in the query also
  ``subscribed``). Answers how many succeeded and failed (by reason), and how long it took.
- ``{"op": "record"}``: from now on, note the arrival time of every frame (``time.monotonic()``,
  which is the same clock in every process of the machine).
- ``{"op": "collect", "expect": N, "timeout": S, "event_id": E}``: wait until N frames with an
  ``event_id`` (with ``event_id`` E, when given) have arrived, or S seconds; answer
  ``[[event_id, arrival], ...]`` and stop recording.
- ``{"op": "close"}``: close every connection; ``{"op": "quit"}``.

Connections are made with the ``websockets`` client (no compression unless ``--deflate``), the way an
app's socket library does, with the same keep-alive pings as the servers.
"""

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections import Counter
from typing import Any

import uvloop
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

OPEN_TIMEOUT = 60.0


class Clients:
    def __init__(self, compression: str | None) -> None:
        self.compression = compression
        self.connections: list[ClientConnection] = []
        self.readers: list[asyncio.Task[None]] = []
        self.recording = False
        self.frames: list[tuple[float, str | bytes]] = []
        self.arrived = asyncio.Event()
        self.expected = 0
        self.matched = 0
        self.marker = ""
        self.closed_by_server: Counter[str] = Counter()

    async def _open(self, port: int, token: str, query: str, failures: Counter[str], times: list[float]) -> None:
        started = time.monotonic()
        address = f"ws://127.0.0.1:{port}/ws/v1/" + (f"?{query}" if query else "")
        try:
            connection = await connect(
                address,
                additional_headers={"Authorization": f"Bearer {token}"},
                compression=self.compression,
                open_timeout=OPEN_TIMEOUT,
                max_size=2**20,
                ping_interval=20,
                ping_timeout=20,
                close_timeout=10,
            )
        except InvalidStatus as error:
            failures[f"HTTP {error.response.status_code}"] += 1
            return
        except (OSError, TimeoutError, ConnectionClosed, Exception) as error:
            failures[type(error).__name__] += 1
            return
        try:
            first = json.loads(await asyncio.wait_for(connection.recv(), OPEN_TIMEOUT))
            if first.get("type") != "hello":
                raise ValueError(f"first frame {first.get('type')}")
            if "team_id=" in query:
                second = json.loads(await asyncio.wait_for(connection.recv(), OPEN_TIMEOUT))
                if second.get("type") != "subscribed":
                    raise ValueError(f"subscription answered {second.get('type')}: {second.get('code')}")
        except ConnectionClosed as error:
            code = error.rcvd.code if error.rcvd else "none"
            failures[f"closed {code}"] += 1
            return
        except (TimeoutError, ValueError) as error:
            failures[str(error) or type(error).__name__] += 1
            await connection.close()
            return
        times.append(time.monotonic() - started)
        self.connections.append(connection)
        self.readers.append(asyncio.create_task(self._read(connection)))

    async def _read(self, connection: ClientConnection) -> None:
        try:
            async for message in connection:
                if self.recording:
                    self.frames.append((time.monotonic(), message))
                    if isinstance(message, str) and self.marker in message:
                        self.matched += 1
                        if self.matched >= self.expected:
                            self.arrived.set()
        except ConnectionClosed:
            pass
        if connection.close_code not in (None, 1000):
            self.closed_by_server[str(connection.close_code)] += 1

    async def connect(self, targets: list[list[Any]], concurrency: int) -> dict[str, Any]:
        failures: Counter[str] = Counter()
        times: list[float] = []
        limit = asyncio.Semaphore(max(concurrency, 1))

        async def one(port: int, token: str, query: str) -> None:
            async with limit:
                await self._open(port, token, query, failures, times)

        started = time.monotonic()
        await asyncio.gather(*(one(int(port), str(token), str(query)) for port, token, query in targets))
        elapsed = time.monotonic() - started
        times.sort()
        return {
            "connected": len(times),
            "failed": sum(failures.values()),
            "failures": dict(failures),
            "seconds": elapsed,
            "handshake_p50": times[len(times) // 2] if times else None,
            "handshake_max": times[-1] if times else None,
            "open": len(self.connections),
        }

    def record(self) -> dict[str, Any]:
        self.frames = []
        self.expected = 1 << 60
        self.matched = 0
        self.marker = '"event_id": '
        self.arrived = asyncio.Event()
        self.recording = True
        return {"recording": True}

    async def collect(self, expect: int, timeout: float, event_id: int | None) -> dict[str, Any]:
        # Frames are JSON with the default separators on every server measured here.
        self.marker = f'"event_id": {event_id},' if event_id is not None else '"event_id": '
        self.matched = sum(1 for _, message in self.frames if isinstance(message, str) and self.marker in message)
        self.expected = expect
        if self.matched >= expect:
            self.arrived.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.arrived.wait(), timeout)
        self.recording = False
        events: list[list[Any]] = []
        other: Counter[str] = Counter()
        for arrival, message in self.frames:
            frame = json.loads(message)
            if isinstance(frame.get("event_id"), int):
                events.append([frame["event_id"], arrival])
            else:
                other[str(frame.get("type"))] += 1
        self.frames = []
        return {"events": events, "other_frames": dict(other), "closed_by_server": dict(self.closed_by_server)}

    async def close(self) -> dict[str, Any]:
        started = time.monotonic()
        limit = asyncio.Semaphore(500)

        async def one(connection: ClientConnection) -> None:
            async with limit:
                await connection.close()

        count = len(self.connections)
        await asyncio.gather(*(one(connection) for connection in self.connections), return_exceptions=True)
        await asyncio.gather(*self.readers, return_exceptions=True)
        self.connections, self.readers = [], []
        self.closed_by_server = Counter()
        return {"closed": count, "seconds": time.monotonic() - started}


async def serve_commands(compression: str | None) -> None:
    clients = Clients(compression)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 28)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        command = json.loads(line)
        operation = command["op"]
        if operation == "connect":
            answer = await clients.connect(command["targets"], int(command["concurrency"]))
        elif operation == "record":
            answer = clients.record()
        elif operation == "collect":
            event_id = command.get("event_id")
            answer = await clients.collect(
                int(command["expect"]), float(command["timeout"]), None if event_id is None else int(event_id)
            )
        elif operation == "close":
            answer = await clients.close()
        elif operation == "quit":
            await clients.close()
            break
        else:
            answer = {"error": f"unknown op {operation}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deflate", action="store_true", help="offer permessage-deflate, as some app libraries do")
    arguments = parser.parse_args(argv)
    uvloop.run(serve_commands("deflate" if arguments.deflate else None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
