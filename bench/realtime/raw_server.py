"""The baseline: a raw ``websockets`` broadcast server with nothing but what fan-out needs.

    python -m bench.realtime.raw_server --port N

``/ws/v1/`` accepts any connection, remembers it by its bearer token and sends a ``hello`` frame, as
Mestring's stream does. ``/control`` takes JSON commands from the benchmark's publisher:
``{"op": "broadcast", "frame": "..."}`` sends the frame to every connection (``websockets.broadcast``),
``{"op": "send", "token": "...", "frame": "..."}`` to the connection of one token. No authentication,
no channel layer, no database: the floor that Mestring's figures are divided by. Same keep-alive
pings and frame limit as deploy/systemd/mestring-ws.service's uvicorn.
"""

import argparse
import json
import sys

import uvloop
from websockets.asyncio.server import ServerConnection, broadcast, serve

HELLO = json.dumps({"type": "hello", "protocol": "mestring.v1", "user_id": "00000000-0000-0000-0000-000000000000"})


class Hub:
    def __init__(self) -> None:
        self.connections: set[ServerConnection] = set()
        self.by_token: dict[str, ServerConnection] = {}

    async def handle(self, connection: ServerConnection) -> None:
        if connection.request is not None and connection.request.path.startswith("/control"):
            await self.control(connection)
            return
        authorization = connection.request.headers.get("Authorization", "") if connection.request else ""
        token = authorization.removeprefix("Bearer ").strip()
        self.connections.add(connection)
        self.by_token[token] = connection
        try:
            await connection.send(HELLO)
            async for _message in connection:
                pass
        finally:
            self.connections.discard(connection)
            if self.by_token.get(token) is connection:
                del self.by_token[token]

    async def control(self, connection: ServerConnection) -> None:
        async for message in connection:
            command = json.loads(message)
            if command["op"] == "broadcast":
                broadcast(self.connections, command["frame"])
            elif command["op"] == "send":
                target = self.by_token.get(command["token"])
                if target is not None:
                    broadcast([target], command["frame"])
            elif command["op"] == "count":
                await connection.send(json.dumps({"connections": len(self.connections)}))


async def serve_forever(port: int) -> None:
    hub = Hub()
    async with serve(
        hub.handle, "127.0.0.1", port, ping_interval=20, ping_timeout=20, max_size=65536, backlog=2048
    ) as server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    arguments = parser.parse_args(argv)
    uvloop.run(serve_forever(arguments.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
