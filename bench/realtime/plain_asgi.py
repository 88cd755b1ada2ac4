"""A minimal ASGI websocket application without Django or Channels: the memory baseline.

    uvicorn bench.realtime.plain_asgi:application ...   (the same uvicorn flags as Mestring's)

It accepts every websocket, sends the same ``hello`` frame as Mestring's stream and then waits for
the client to go away. HTTP answers 200 so that the harness can see the server is up.
"""

import json
from collections.abc import Awaitable, Callable
from typing import Any

HELLO = json.dumps({"type": "hello", "protocol": "mestring.v1", "user_id": "00000000-0000-0000-0000-000000000000"})

type Receive = Callable[[], Awaitable[dict[str, Any]]]
type Send = Callable[[dict[str, Any]], Awaitable[None]]


async def application(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    if scope["type"] == "websocket":
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": HELLO})
        while (await receive())["type"] != "websocket.disconnect":
            pass
    elif scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})
