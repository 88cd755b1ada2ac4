"""A real server on the test's data, for requests sent at the same moment from many threads.

``gunicorn`` serves ``config.wsgi`` as production does (gthread: 2 processes × 10 threads), in its own
process group, on a loopback port. On PostgreSQL it shares the test's database (the test commits, with
``transaction=True``); on SQLite the test's in-memory database is copied to a file first (SQLite's backup
API), and the server writes there, so the test reads the outcome through the API.
"""

import contextlib
import json
import os
import sqlite3
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connections

from tests.notifications.processes import HOST, Process, free_port, http_get

STARTUP_TIMEOUT = 60.0
REQUEST_TIMEOUT = 60.0


def is_postgresql() -> bool:
    return "postgresql" in connections["default"].settings_dict["ENGINE"]


def database_url(directory: Path) -> str:
    """The server's database: the test's own on PostgreSQL, a copy of it on SQLite."""
    database = connections["default"].settings_dict
    if is_postgresql():
        return (
            f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        )
    path = directory / "live.sqlite3"
    connection = connections["default"]
    connection.ensure_connection()
    with contextlib.closing(sqlite3.connect(path)) as target:
        connection.connection.backup(target)
    return f"sqlite:///{path}"


def gunicorn_command(port: int) -> list[str]:
    return [
        sys.executable, "-m", "gunicorn", "config.wsgi:application",
        "--bind", f"{HOST}:{port}", "--worker-class", "gthread", "--workers", "2", "--threads", "10",
        "--timeout", "120", "--graceful-timeout", "5", "--no-control-socket",
    ]  # fmt: skip


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


@dataclass
class LiveServer:
    port: int
    process: Process

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    def request(
        self, method: str, path: str, token: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Answer:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url(path), data=data, method=method)
        request.add_header("Authorization", f"Bearer {token}")
        request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
                return Answer(response.status, json.loads(response.read() or b"null"), dict(response.headers))
        except urllib.error.HTTPError as error:
            return Answer(error.code, json.loads(error.read() or b"null"), dict(error.headers))

    def post_retrying(
        self, path: str, token: str, body: Any, headers: dict[str, str] | None = None, deadline: float = 60.0
    ) -> tuple[Answer, list[Answer]]:
        """POST, and again after ``Retry-After`` while the answer says to retry (409 or 503 with
        ``Retry-After``); returns the last answer and the retryable ones before it."""
        waited: list[Answer] = []
        until = time.monotonic() + deadline
        while True:
            answer = self.request("POST", path, token, body, headers)
            if answer.status not in (409, 503) or "Retry-After" not in answer.headers or time.monotonic() > until:
                return answer, waited
            waited.append(answer)
            time.sleep(min(float(answer.headers["Retry-After"]), 1.0) / 4)


def at_once[T](count: int, call: Callable[[int], T]) -> list[T]:
    """``call(i)`` for i in range(count) from as many threads, released together by a barrier."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=60)
            results[index] = call(index)
        except BaseException as exc:  # noqa: BLE001 — reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT * 3)
    assert not errors, errors
    return results


@contextlib.contextmanager
def live_server(directory: Path) -> Iterator[LiveServer]:
    environment = dict(os.environ) | {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url(directory),
        "DB_CONN_MAX_AGE": "0",
        "EMBEDDED_WORKER": "0",
        "PUSH_MODE": "log",
        "PYTHONUNBUFFERED": "1",
    }
    environment.pop("REDIS_URL", None)
    port = free_port()
    process = Process("gunicorn", gunicorn_command(port), environment, directory)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            assert process.is_running, f"the server exited\n{process.tail()}"
            with contextlib.suppress(OSError):
                if http_get(port, "/healthz", timeout=3)[0] == 200:
                    break
            assert time.monotonic() < deadline, f"the server did not start in {STARTUP_TIMEOUT:.0f}s\n{process.tail()}"
            time.sleep(0.1)
        yield LiveServer(port=port, process=process)
    finally:
        process.stop()
