"""A forward HTTP proxy on loopback, as a municipality's network puts between its servers and the internet.

It takes requests in the absolute form (``POST http://host:port/path``), passes them on to the host and
answers with what came back, over kept-alive connections, and opens tunnels (``CONNECT host:port``, as for
https) that it passes bytes through both ways. It records each request it forwarded and each tunnel it opened
with the ``Proxy-Authorization`` it carried, and with ``credentials`` set it refuses (407) any without them.
"""

import base64
import http.client
import select
import socket
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

from tests.notifications.fake_fcm import LoopbackServer, QuietHandler

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authorization", "proxy-connection", "transfer-encoding", "te"}


@dataclass(frozen=True)
class Forwarded:
    method: str
    url: str
    proxy_authorization: str


class FakeProxy(LoopbackServer):
    def __init__(self, credentials: tuple[str, str] | None = None) -> None:
        self.forwarded: list[Forwarded] = []
        self.tunnels: list[Forwarded] = []
        self.refused = 0
        self._expected = (
            "Basic " + base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode() if credentials else None
        )
        super().__init__()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802 — the name http.server dispatches to
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                authorization = self._authorization()
                if authorization is None:
                    return
                target = urlsplit(self.path)
                if not target.hostname:
                    self._answer(400, {}, b"")
                    return
                with proxy._lock:
                    proxy.forwarded.append(Forwarded("POST", self.path, authorization))
                headers = {name: value for name, value in self.headers.items() if name.lower() not in HOP_BY_HOP}
                upstream = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=30)
                try:
                    path = target.path + (f"?{target.query}" if target.query else "")
                    upstream.request("POST", path, body=body, headers=headers)
                    response = upstream.getresponse()
                    payload = response.read()
                    passed = {
                        k: v for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP | {"content-length"}
                    }
                    self._answer(response.status, passed, payload)
                finally:
                    upstream.close()

            def do_CONNECT(self) -> None:  # noqa: N802 — the name http.server dispatches to
                authorization = self._authorization()
                if authorization is None:
                    return
                host, _, port = self.path.rpartition(":")
                upstream = socket.create_connection((host, int(port)), timeout=30)
                with proxy._lock:
                    proxy.tunnels.append(Forwarded("CONNECT", self.path, authorization))
                self.send_response(200, "Connection established")
                self.end_headers()
                self.wfile.flush()
                ends = {self.connection: upstream, upstream: self.connection}
                try:
                    while True:
                        readable, _, _ = select.select(list(ends), [], [], 30)
                        if not readable:
                            return
                        for end in readable:
                            data = end.recv(65536)
                            if not data:
                                return
                            ends[end].sendall(data)
                finally:
                    upstream.close()
                    self.close_connection = True

            def _authorization(self) -> str | None:
                """The request's ``Proxy-Authorization``, or None when it was refused (407) for lacking it."""
                authorization = self.headers.get("Proxy-Authorization", "")
                if proxy._expected is not None and authorization != proxy._expected:
                    with proxy._lock:
                        proxy.refused += 1
                    self._answer(407, {"Proxy-Authenticate": 'Basic realm="kommune"'}, b"")
                    return None
                return authorization

            def _answer(self, status: int, headers: dict[str, str], payload: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler
