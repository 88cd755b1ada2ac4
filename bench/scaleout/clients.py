"""Websocket clients that behave as the apps do: reconnect after a lost socket and resume from the last event.

    python -m bench.scaleout.clients      (one JSON command a line in, one JSON answer a line out)

Commands:

- ``{"op": "start", "port": P, "after": N, "clients": [[token, team_id or ""], ...]}``: open one socket per
  client through ``ws://127.0.0.1:P/ws/v1/?last_event_id=N`` (and ``&team_id=...``), answered when every
  one is open (``hello``, and ``subscribed`` for a team) or after a minute, with how many are.
- ``{"op": "wait", "expect": [[event ids], ...], "timeout": S}``: wait until client *i* has every id of
  ``expect[i]``, or S seconds; answers whether they all have, and every client's state.
- ``{"op": "report"}``: every client's state: the event ids it got in order of arrival, how often it
  reconnected, resyncs asked of it, whether it is open now.
- ``{"op": "quit"}``.

A client that loses its socket (closed, reset, refused) waits 0.2–1 s and connects again with
``last_event_id`` set to the newest event it got (or ``N``), as ``notifications.consumers`` asks of an app;
the server replays what it missed. A ``resync_required`` frame is counted (the app would reload over the
API); it must not happen here.
"""

import asyncio
import contextlib
import json
import random
import sys
import time
from typing import Any

import uvloop
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

OPEN_TIMEOUT = 60.0


class Client:
    def __init__(self, port: int, token: str, team_id: str, after: int) -> None:
        self.port, self.token, self.team_id, self.last = port, token, team_id, after
        self.events: list[int] = []
        self.reconnects = 0
        self.resyncs = 0
        self.connected = asyncio.Event()
        self.open = False
        self.failures: dict[str, int] = {}
        self.first_arrival: dict[int, float] = {}
        self.task: asyncio.Task[None] | None = None

    def address(self) -> str:
        query = f"last_event_id={self.last}" + (f"&team_id={self.team_id}" if self.team_id else "")
        return f"ws://127.0.0.1:{self.port}/ws/v1/?{query}"

    async def run(self) -> None:
        first = True
        while True:
            if not first:
                self.reconnects += 1
                await asyncio.sleep(random.uniform(0.2, 1.0))  # noqa: S311 — back-off jitter
            first = False
            try:
                async with connect(
                    self.address(),
                    additional_headers={"Authorization": f"Bearer {self.token}"},
                    compression=None,
                    open_timeout=OPEN_TIMEOUT,
                    ping_interval=20,
                    ping_timeout=20,
                    close_timeout=5,
                    max_size=2**20,
                ) as socket:
                    await self.read(socket)
            except InvalidStatus as error:
                self.fail(f"HTTP {error.response.status_code}")
            except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake) as error:
                self.fail(type(error).__name__)
            finally:
                self.open = False

    def fail(self, reason: str) -> None:
        self.failures[reason] = self.failures.get(reason, 0) + 1

    async def read(self, socket: Any) -> None:
        async for message in socket:
            frame = json.loads(message)
            kind = frame.get("type")
            if (kind == "hello" and not self.team_id) or kind == "subscribed":
                self.mark_open()
            elif kind == "resync_required":
                self.resyncs += 1
            event_id = frame.get("event_id")
            if isinstance(event_id, int):
                self.events.append(event_id)
                self.first_arrival.setdefault(event_id, time.monotonic())
                self.last = max(self.last, event_id)

    def mark_open(self) -> None:
        self.open = True
        self.connected.set()

    def state(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "reconnects": self.reconnects,
            "resyncs": self.resyncs,
            "open": self.open,
            "failures": self.failures,
        }


class Clients:
    def __init__(self) -> None:
        self.clients: list[Client] = []

    async def start(self, port: int, after: int, targets: list[list[str]]) -> dict[str, Any]:
        new = [Client(port, token, team_id, after) for token, team_id in targets]
        self.clients.extend(new)
        for client in new:
            client.task = asyncio.create_task(client.run())
            await asyncio.sleep(0.01)  # the apps do not all connect in the same millisecond
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(client.connected.wait() for client in new)), OPEN_TIMEOUT)
        return {"open": sum(client.open for client in new), "started": len(new)}

    async def wait(self, expect: list[list[int]], timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        wanted = [set(ids) for ids in expect]
        while True:
            complete = all(ids <= set(client.events) for client, ids in zip(self.clients, wanted, strict=False))
            if complete or time.monotonic() > deadline:
                return {"complete": complete, "clients": [client.state() for client in self.clients]}
            await asyncio.sleep(0.1)

    def report(self) -> dict[str, Any]:
        return {"clients": [client.state() for client in self.clients]}

    async def quit(self) -> None:
        for client in self.clients:
            if client.task is not None:
                client.task.cancel()
        await asyncio.gather(*(client.task for client in self.clients if client.task), return_exceptions=True)


async def serve_commands() -> None:
    clients = Clients()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 28)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        command = json.loads(line)
        operation = command["op"]
        answer: dict[str, Any]
        if operation == "start":
            answer = await clients.start(int(command["port"]), int(command["after"]), command["clients"])
        elif operation == "wait":
            answer = await clients.wait(command["expect"], float(command["timeout"]))
        elif operation == "report":
            answer = clients.report()
        elif operation == "quit":
            await clients.quit()
            break
        else:
            answer = {"error": f"unknown op {operation}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


def main() -> int:
    uvloop.run(serve_commands())
    return 0


if __name__ == "__main__":
    sys.exit(main())
