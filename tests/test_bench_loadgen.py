"""The benchmarks' one open-loop load generator (``bench.today.loadgen.run_paced``), used for the citizen
reads of ``bench.today`` and the POSTs of ``bench.mixed.posts``: every request due is sent, each made by
its connection's request function, and the answers are counted by status."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.mixed.posts import _posting, request_bodies
from bench.today.loadgen import run_paced


class Recorder(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, str, bytes]] = []

    def _answer(self, status: int) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.seen.append((self.command, self.path, self.headers.get("Authorization", ""), body))
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def do_GET(self) -> None:
        self._answer(200 if self.path == "/ok" else 404)

    def do_POST(self) -> None:
        self._answer(201)

    def log_message(self, *_arguments: object) -> None:
        return


@pytest.fixture
def server():
    Recorder.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_every_request_due_is_sent_and_counted_by_status(server):
    def request(number: int):
        return "GET", "/ok" if number % 4 else "/missing", f"token-{number}", None

    result = run_paced([request, request], host="127.0.0.1", port=server, rate=50, duration=0.4, timeout=10)
    # Requests 0..19 are due within 0.4 s at 50 a second, whatever the machine's speed.
    assert result["requests"] == 20
    assert result["non_2xx"] == 5
    assert result["status_counts"] == [{"404": 5}]
    assert sorted(authorization for _, _, authorization, _ in Recorder.seen) == sorted(
        f"Bearer token-{number}" for number in range(20)
    )


def test_posts_carry_their_bodies_and_tokens(server):
    bodies = [_posting(request_bodies(["a", "b"])), _posting(request_bodies(["c"]))]
    result = run_paced(bodies, host="127.0.0.1", port=server, rate=40, duration=0.25, timeout=10)
    assert result["requests"] == 10
    assert result["non_2xx"] == 0
    assert {method for method, _, _, _ in Recorder.seen} == {"POST"}
    assert {path for _, path, _, _ in Recorder.seen} == {"/api/v1/me/requests"}
    assert {authorization for _, _, authorization, _ in Recorder.seen} == {"Bearer a", "Bearer b", "Bearer c"}
    assert all(json.loads(body)["category"] == "help" for _, _, _, body in Recorder.seen)


def test_every_latency_and_every_status_when_asked(server):
    def request(number: int):
        return "GET", "/ok", "token", None

    result = run_paced([request], host="127.0.0.1", port=server, rate=50, duration=0.2, timeout=10, every_latency=True)
    assert result["requests"] == 10
    assert result["statuses"] == {"200": 10}
    assert result["errors"] == {}
    assert len(result["latencies_ms"]) == 10
    assert result["latencies_ms"] == sorted(result["latencies_ms"])
