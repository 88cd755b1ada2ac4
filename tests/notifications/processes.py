"""Real processes for the reliability test: a Redis of its own, uvicorn web processes and task workers.

The web and worker processes share the test's PostgreSQL database (the test runs with committed
transactions, so they see its rows) and a Redis server that the test may stop and start again.

Run as a module, this is the worker side::

    python -m tests.notifications.processes --fcm-url URL [--id NAME]   # manage.py run_worker

with firebase-admin pointed at a fake FCM server on loopback, as tests/notifications/conftest.py
does in-process, and with ``DJANGO_SETTINGS_MODULE`` in the environment. ``notify_from_worker`` is a
task that raises a notification from inside the worker.
"""

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from django.tasks import task

from tests.notifications.fake_fcm import FakeFcm

ROOT = Path(__file__).resolve().parent.parent.parent
HOST = "127.0.0.1"
FCM_PROJECT = "mestring-test"
STOP_TIMEOUT_SECONDS = 10.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
        return True
    return False


# A port found free may be taken by another process before ours binds it: the start is tried again elsewhere.
PORT_ATTEMPTS = 5


def wait_listening(process: "Process", ready_line: str, timeout: float) -> bool:
    """True once the process's log says it listens, False when it exited (its port taken) before that."""
    deadline = time.monotonic() + timeout
    while ready_line not in process.log.read_bytes()[process.log_start :].decode(errors="replace"):
        if not process.is_running:
            return False
        if time.monotonic() > deadline:
            raise RuntimeError(f"{process.name} did not start listening\n" + process.tail())
        time.sleep(0.05)
    return True


def http_get(port: int, path: str, token: str | None = None, timeout: float = 10.0) -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://{HOST}:{port}{path}")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class Process:
    """A child process in its own process group, with its output in a log file."""

    def __init__(self, name: str, command: Sequence[str], environment: dict[str, str], log_directory: Path) -> None:
        self.name = name
        self.log = log_directory / f"{name}.log"
        self._output: IO[bytes] = self.log.open("ab")
        self.log_start = self._output.tell()  # where this run's output begins (a restart appends)
        self.process = subprocess.Popen(
            list(command),
            cwd=ROOT,
            env=environment,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    @property
    def is_running(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no clean-up, as when the machine or the OOM killer takes the process."""
        self._signal(signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        self._output.close()

    def pause(self) -> None:
        """SIGSTOP: the process hangs with its connections open and answers nothing."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def stop(self) -> None:
        self._signal(signal.SIGCONT)
        self._signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        self._output.close()

    def _signal(self, number: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, number)

    def tail(self, lines: int = 25) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return f"--- {self.name} ({self.log}) ---\n" + "\n".join(text.splitlines()[-lines:])


class RedisServer:
    """A Redis without persistence on its own port, so that stopping it touches nobody else's."""

    def __init__(self, log_directory: Path) -> None:
        self.port = free_port()
        self.log_directory = log_directory
        self.process: Process | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        """Start on the port chosen (again, after a crash); on another free one when something else took it
        meanwhile (other test runs on the machine pick free ports too)."""
        for _ in range(PORT_ATTEMPTS):
            command = ["redis-server", "--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly", "no"]
            self.process = Process("redis", command, dict(os.environ), self.log_directory)
            if wait_listening(self.process, "Ready to accept connections", timeout):
                return
            self.port = free_port()
        raise RuntimeError("redis-server did not start\n" + self.process.tail())

    def hang(self) -> None:
        """Redis stops answering but keeps every connection open (its host stalls, a partition)."""
        assert self.process is not None
        self.process.pause()

    def wake(self) -> None:
        assert self.process is not None
        self.process.resume()

    def crash(self) -> None:
        """Redis goes away at once, with every subscription and message it held."""
        if self.process is not None:
            self.process.kill()
            self.process = None


class HoldingFcm(FakeFcm):
    """The fake FCM server, able to hold a request once a number have been answered: a worker can then
    be killed while it waits for FCM, with its delivery claimed but its answer never recorded."""

    def __init__(self) -> None:
        super().__init__()
        self._arrived = 0
        self._hold_after: int | None = None
        self._arrival_lock = threading.Lock()
        self.holding = threading.Event()
        self.released = threading.Event()
        self.held_notification_id = ""
        # A held request's sender is killed: writing the answer to its closed socket is expected.
        self._server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]

    def hold_after(self, answered: int) -> None:
        self._hold_after = answered

    def release(self) -> None:
        self.released.set()

    def _answer(self, project: str, authorization: str, body: bytes) -> tuple[int, dict[str, Any], str]:
        with self._arrival_lock:
            self._arrived += 1
            hold = self._hold_after is not None and self._arrived == self._hold_after + 1
        if hold:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                self.held_notification_id = json.loads(body)["message"]["data"]["id"]
            self.holding.set()
            self.released.wait(timeout=30)
        return super()._answer(project, authorization, body)

    def accepted_per_notification(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for item in self.delivered():
            notification_id = item.message.get("data", {}).get("id", "")
            counts[notification_id] = counts.get(notification_id, 0) + 1
        return counts


def uvicorn_command(port: int) -> list[str]:
    """deploy/systemd/mestring-ws.service's uvicorn, on a loopback port."""
    return [
        sys.executable, "-m", "uvicorn", "config.asgi:application",
        "--host", HOST, "--port", str(port),
        "--ws", "websockets-sansio", "--ws-ping-interval", "20", "--ws-ping-timeout", "20", "--ws-max-size", "65536",
        "--lifespan", "off", "--no-server-header", "--timeout-graceful-shutdown", "2",
    ]  # fmt: skip


def worker_command(fcm_url: str, worker_id: str) -> list[str]:
    return [sys.executable, "-m", "tests.notifications.processes", "--fcm-url", fcm_url, "--id", worker_id]


# --- The worker side -------------------------------------------------------------------------------


@task()
def notify_from_worker(recipient_ids: list[str], team_ids: list[str], request_id: str) -> list[str]:
    """A producer inside the worker process: one notification per recipient, one event per team."""
    from notifications.services import notify

    notifications = notify(
        recipients=recipient_ids, kind="request.answered", refs={"request_id": request_id}, team_ids=team_ids
    )
    return [str(notification.pk) for notification in notifications]


def _firebase_against(fcm_url: str) -> None:
    """firebase-admin as notifications.push uses it, sending to the fake server with a fixed token."""
    import firebase_admin
    import google.oauth2.credentials
    from firebase_admin import credentials, messaging

    from notifications import push
    from tests.notifications.fake_fcm import ACCESS_TOKEN

    class StaticTokenCredential(credentials.Base):
        def get_credential(self) -> google.oauth2.credentials.Credentials:
            return google.oauth2.credentials.Credentials(token=ACCESS_TOKEN)

    messaging._MessagingService.FCM_URL = fcm_url
    firebase_admin.initialize_app(
        StaticTokenCredential(), {"projectId": FCM_PROJECT, "httpTimeout": 5}, name=push.FIREBASE_APP_NAME
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The task worker of the reliability test.")
    parser.add_argument("--fcm-url", required=True, help="firebase-admin's FCM_URL template, on loopback")
    parser.add_argument("--id", default=f"reliability-{os.getpid()}")
    arguments = parser.parse_args(argv)
    import django

    django.setup()
    from django.core.management import call_command

    _firebase_against(arguments.fcm_url)
    call_command("run_worker", "--interval", "0.05", "--no-startup-delay", "--no-reload", "--worker-id", arguments.id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
