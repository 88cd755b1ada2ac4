"""A fake Firebase Cloud Messaging HTTP v1 endpoint on loopback, for the real firebase-admin client.

It accepts ``POST /v1/projects/<project>/messages:send`` with the bearer token of ``ACCESS_TOKEN``,
records every request, and answers as FCM does: ``{"name": "projects/<p>/messages/<n>"}``, or the
error scripted for the message's token (``fail(token, "UNREGISTERED", ...)``, one error per request,
in order). Error bodies follow FCM's format, ``google.firebase.fcm.v1.FcmError`` details included.
"""

import json
import re
import ssl
import threading
import time
from abc import ABC, abstractmethod
from collections import defaultdict, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

ACCESS_TOKEN = "fake-fcm-access-token"
PATH = re.compile(r"^/v1/projects/(?P<project>[A-Za-z0-9-]+)/messages:send$")
FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"

# error code → (HTTP status, RPC status, message, extra details)
ERRORS: dict[str, tuple[int, str, str, list[dict[str, Any]]]] = {
    "UNREGISTERED": (404, "NOT_FOUND", "Requested entity was not found.", []),
    "INVALID_ARGUMENT": (
        400,
        "INVALID_ARGUMENT",
        "The registration token is not a valid FCM registration token",
        [
            {
                "@type": BAD_REQUEST_TYPE,
                "fieldViolations": [
                    {"field": "message.token", "description": "The registration token is not a valid FCM token"}
                ],
            }
        ],
    ),
    "INVALID_PAYLOAD": (
        400,
        "INVALID_ARGUMENT",
        "Invalid value at 'message.data[0].value'",
        [{"@type": BAD_REQUEST_TYPE, "fieldViolations": [{"field": "message.data[0].value"}]}],
    ),
    "SENDER_ID_MISMATCH": (403, "PERMISSION_DENIED", "SenderId mismatch", []),
    "QUOTA_EXCEEDED": (429, "RESOURCE_EXHAUSTED", "Quota exceeded for sending messages.", []),
    "QUOTA_EXCEEDED_RETRY_AFTER": (429, "RESOURCE_EXHAUSTED", "Quota exceeded for sending messages.", []),
    "UNAVAILABLE": (503, "UNAVAILABLE", "The service is currently unavailable.", []),
    "INTERNAL": (500, "INTERNAL", "Internal error encountered.", []),
}
FCM_ERROR_CODES = {"INVALID_PAYLOAD": "INVALID_ARGUMENT", "QUOTA_EXCEEDED_RETRY_AFTER": "QUOTA_EXCEEDED"}
# Errors answered with a ``Retry-After`` header (seconds), as FCM answers some 429s.
RETRY_AFTER = {"QUOTA_EXCEEDED_RETRY_AFTER": "0"}


@dataclass(frozen=True)
class Received:
    project: str
    authorization: str
    message: dict[str, Any]
    raw_size: int
    answered: str  # "ok" or the error code

    @property
    def token(self) -> str:
        return str(self.message.get("token", ""))


class _Server(ThreadingHTTPServer):
    # A batch opens as many connections at once as it has messages (up to 500); with the default backlog
    # of 5 a busy machine refused some of them before the accept loop came round.
    request_queue_size = 1024


class LoopbackServer(ABC):
    """An HTTP server of ``_handler``'s on a free loopback port, serving from a thread while in a ``with``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    @abstractmethod
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        """The request handler class, made by each kind of server (the fake FCM, the fake proxy)."""

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 — http.server's signature
        return


class FakeFcm(LoopbackServer):
    """The fake server. Use as a context manager; ``url_template`` replaces firebase-admin's FCM_URL. With
    ``tls`` (a server context) it speaks https, as FCM does."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.received: list[Received] = []
        self._scripts: dict[str, deque[str]] = defaultdict(deque)
        self._counter = 0
        self.connections = 0
        self.delay = 0.0  # seconds each answer waits, to hold many requests in flight at once
        super().__init__()
        self.scheme = "http"
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"

    @property
    def url_template(self) -> str:
        return f"{self.scheme}://{self.address}/v1/projects/{{0}}/messages:send"

    def fail(self, token: str, *codes: str) -> None:
        """Answer the next requests for ``token`` with these errors, one each, then succeed again."""
        with self._lock:
            self._scripts[token].extend(codes)

    def delivered(self, token: str | None = None) -> list[Received]:
        with self._lock:
            return [item for item in self.received if item.answered == "ok" and token in (None, item.token)]

    def requests_for(self, token: str) -> list[Received]:
        with self._lock:
            return [item for item in self.received if item.token == token]

    def _answer(self, project: str, authorization: str, body: bytes) -> tuple[int, dict[str, Any], str]:
        if authorization != f"Bearer {ACCESS_TOKEN}":
            return (
                401,
                _error_body(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.", ""),
                "auth",
            )
        try:
            message = json.loads(body)["message"]
        except (ValueError, KeyError, TypeError):
            return 400, _error_body(400, "INVALID_ARGUMENT", "Invalid JSON payload received.", ""), "bad_json"
        token = str(message.get("token", ""))
        with self._lock:
            code = self._scripts[token].popleft() if self._scripts[token] else "ok"
            self._counter += 1
            self.received.append(Received(project, authorization, message, len(body), code))
            number = self._counter
        if code == "ok":
            return 200, {"name": f"projects/{project}/messages/{number}"}, code
        status, rpc_status, text, details = ERRORS[code]
        return status, _error_body(status, rpc_status, text, FCM_ERROR_CODES.get(code, code), details), code

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(QuietHandler):
            def setup(self) -> None:
                super().setup()
                with fake._lock:
                    fake.connections += 1

            def do_POST(self) -> None:  # noqa: N802 — the name http.server dispatches to
                if fake.delay:
                    time.sleep(fake.delay)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                match = PATH.match(self.path)
                if match is None:
                    self._respond(404, {"error": {"code": 404, "message": "Not found", "status": "NOT_FOUND"}})
                    return
                status, document, code = fake._answer(match["project"], self.headers.get("Authorization", ""), body)
                self._respond(status, document, RETRY_AFTER.get(code))

            def _respond(self, status: int, document: dict[str, Any], retry_after: str | None = None) -> None:
                payload = json.dumps(document).encode()
                self.send_response(status)
                if retry_after is not None:
                    self.send_header("Retry-After", retry_after)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler


def _error_body(
    status: int, rpc_status: str, message: str, fcm_code: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    error_details: list[dict[str, Any]] = [{"@type": FCM_ERROR_TYPE, "errorCode": fcm_code}] if fcm_code else []
    error_details.extend(details or [])
    return {"error": {"code": status, "message": message, "status": rpc_status, "details": error_details}}
