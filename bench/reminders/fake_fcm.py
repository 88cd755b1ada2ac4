"""A fake FCM HTTP v1 endpoint for the reminder benchmark: asyncio on loopback, HTTP/1.1 keep-alive.

    python -m bench.reminders.fake_fcm --port-file FILE

Answers ``POST /v1/projects/<project>/messages:send`` carrying the bearer token ``ACCESS_TOKEN`` as FCM
does (``{"name": "projects/<p>/messages/<n>"}``) and counts every request by the notification id in its
data, so that a push sent twice shows. ``GET /stats`` returns the counts as JSON. The same contract as
``tests/notifications/fake_fcm.py``, written to keep up with 100,000 pushes from two worker processes.
"""

import argparse
import asyncio
import json
import re
import resource
import time
from collections import Counter
from pathlib import Path
from typing import Any

ACCESS_TOKEN = "fake-fcm-access-token"  # noqa: S105 - a loopback test server's fixed token
PATH = re.compile(rb"^/v1/projects/(?P<project>[A-Za-z0-9-]+)/messages:send$")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Stats:
    def __init__(self) -> None:
        self.requests = 0
        self.refused = 0
        self.by_id: Counter[str] = Counter()
        self.tokens: set[str] = set()
        self.first_at = 0.0
        self.last_at = 0.0

    def document(self) -> dict[str, Any]:
        duplicated = sum(1 for count in self.by_id.values() if count > 1)
        return {
            "requests": self.requests,
            "refused": self.refused,
            "distinct_notifications": len(self.by_id),
            "notifications_pushed_twice": duplicated,
            "distinct_tokens": len(self.tokens),
            "first_at": self.first_at,
            "last_at": self.last_at,
            "cpu_seconds": cpu_seconds(),
        }


class FcmProtocol(asyncio.Protocol):
    def __init__(self, stats: Stats) -> None:
        self.stats = stats
        self.buffer = b""
        self.transport: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # uvloop's transports are not asyncio.Transport subclasses

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            lines = self.buffer[:head_end].split(b"\r\n")
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get(b"content-length", b"0"))
            end = head_end + 4 + length
            if len(self.buffer) < end:
                return
            body = self.buffer[head_end + 4 : end]
            self.buffer = self.buffer[end:]
            method, path = (lines[0].split(b" ") + [b"", b""])[:2]
            self.respond(method, path, headers, body)

    def respond(self, method: bytes, path: bytes, headers: dict[bytes, bytes], body: bytes) -> None:
        if method == b"GET" and path == b"/stats":
            self.send(200, self.stats.document())
            return
        match = PATH.match(path)
        if method != b"POST" or match is None:
            self.send(404, {"error": {"code": 404, "message": "Not found", "status": "NOT_FOUND"}})
            return
        if headers.get(b"authorization") != f"Bearer {ACCESS_TOKEN}".encode():
            self.stats.refused += 1
            self.send(401, {"error": {"code": 401, "message": "Unauthenticated", "status": "UNAUTHENTICATED"}})
            return
        try:
            message = json.loads(body)["message"]
        except (ValueError, KeyError, TypeError):
            self.stats.refused += 1
            self.send(400, {"error": {"code": 400, "message": "Invalid JSON", "status": "INVALID_ARGUMENT"}})
            return
        stats = self.stats
        now = time.time()
        stats.requests += 1
        stats.first_at = stats.first_at or now
        stats.last_at = now
        stats.by_id[str(message.get("data", {}).get("id", ""))] += 1
        stats.tokens.add(str(message.get("token", "")))
        project = match["project"].decode()
        self.send(200, {"name": f"projects/{project}/messages/{stats.requests}"})

    def send(self, status: int, document: dict[str, Any]) -> None:
        assert self.transport is not None
        payload = json.dumps(document).encode()
        reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}[status]
        self.transport.write(
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json; charset=UTF-8\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n".encode()
            + payload
        )


async def serve(port_file: Path, port: int = 0) -> None:
    stats = Stats()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: FcmProtocol(stats), "127.0.0.1", port, backlog=4096)
    port = server.sockets[0].getsockname()[1]
    port_file.write_text(str(port))
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", type=Path, required=True)
    parser.add_argument("--port", type=int, default=0, help="the port to listen on (default: any free one)")
    arguments = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(serve(arguments.port_file, arguments.port))


if __name__ == "__main__":
    main()
