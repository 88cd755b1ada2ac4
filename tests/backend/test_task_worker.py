"""The task worker the project runs (``manage.py run_worker``) and the leases of running tasks.

- A task left ``RUNNING`` by a killed worker is queued again once its lease has run out
  (``requeue_abandoned_tasks``), or at once when a worker with the same id starts again; run again, a push
  delivery it had already sent is not sent twice.
- The worker outlives a lost database (PostgreSQL only: a real worker process reaching the database through
  a proxy that the test cuts and restores; ``db_worker`` itself exits there).
"""

import io
import os
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import suppress
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connections
from django.tasks import TaskResultStatus
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from backend.tasks import retention_purge
from notifications.models import PushDelivery
from notifications.services import notify
from notifications.tasks import deliver_push
from tests.notifications.conftest import fcm as fcm  # the fake FCM server fixture
from tests.notifications.conftest import install_for
from tests.notifications.processes import Process

TOKEN = "fcm-token-worker-test-0001:APA91bHun4MxP5egoKMwt2KZFBaFUH"
SIGNALS = [signal.SIGINT, signal.SIGTERM, *([signal.SIGQUIT] if hasattr(signal, "SIGQUIT") else [])]


@pytest.fixture
def signals_kept() -> Iterator[None]:
    """The worker sets its own signal handlers; the test process gets its own back."""
    previous = {number: signal.getsignal(number) for number in SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def run_worker_batch(worker_id: str) -> None:
    """``run_worker`` as production runs it, in batch mode: every task that is ready, then it stops."""
    call_command(
        "run_worker", "--batch", "--no-startup-delay", "--no-reload", "--queue-name", "*", "--worker-id", worker_id,
        stdout=io.StringIO(),
    )  # fmt: skip


def left_running(result_id: object, *, worker_id: str, started_ago: timedelta) -> DBTaskResult:
    """The row as a worker leaves it when it is killed while running the task."""
    DBTaskResult.objects.filter(pk=result_id).update(
        status=TaskResultStatus.RUNNING, started_at=timezone.now() - started_ago, worker_ids=[worker_id]
    )
    return DBTaskResult.objects.get(pk=result_id)


# The worker closes and opens its connections as in production: the tests commit (transaction=True).
@pytest.mark.django_db(transaction=True)
@override_settings(TASK_RUNNING_LEASE_SECONDS=300)
def test_a_task_left_running_past_its_lease_runs_again_and_sends_no_push_twice(
    world,
    fcm,
    signals_kept,
    django_capture_on_commit_callbacks,  # noqa: F811 — the fixture imported above
):
    install_for(world.citizen.user, TOKEN)
    with django_capture_on_commit_callbacks(execute=True):
        [notification] = notify(
            recipients=[world.citizen.user], kind="request.answered", refs={"request_id": uuid.uuid4()}
        )
    [queued] = DBTaskResult.objects.filter(task_path="notifications.tasks.deliver_push")
    # A worker ran the delivery (FCM took the push), then was killed before it recorded the task as done.
    assert deliver_push.call(notification_ids=[str(notification.pk)])["sent"] == 1
    abandoned = left_running(queued.pk, worker_id="killed-worker", started_ago=timedelta(seconds=301))
    within_lease = left_running(
        retention_purge.enqueue().id, worker_id="busy-worker", started_ago=timedelta(seconds=299)
    )

    out = io.StringIO()
    call_command("requeue_abandoned_tasks", stdout=out)
    assert out.getvalue().startswith("1 tasks running past the 300 s lease queued again")
    run_worker_batch("worker-2")

    abandoned.refresh_from_db()
    assert abandoned.status == TaskResultStatus.SUCCESSFUL
    assert abandoned.worker_ids == ["killed-worker", "worker-2"]
    assert abandoned.return_value["sent"] == 0
    within_lease.refresh_from_db()
    assert within_lease.status == TaskResultStatus.RUNNING, "a task still under its lease was taken over"
    assert len(fcm.delivered(TOKEN)) == 1
    delivery = PushDelivery.objects.get(notification=notification)
    assert (delivery.status, delivery.attempts) == (PushDelivery.Status.SENT, 1)


@pytest.mark.django_db(transaction=True)
def test_a_worker_started_again_takes_up_at_once_what_its_id_left_running(signals_kept):
    own = left_running(retention_purge.enqueue().id, worker_id="host-1", started_ago=timedelta(seconds=5))
    others = left_running(retention_purge.enqueue().id, worker_id="host-2", started_ago=timedelta(seconds=5))

    run_worker_batch("host-1")

    own.refresh_from_db()
    others.refresh_from_db()
    assert (own.status, own.worker_ids) == (TaskResultStatus.SUCCESSFUL, ["host-1", "host-1"])
    assert others.status == TaskResultStatus.RUNNING


@pytest.mark.django_db
def test_requeueing_with_nothing_abandoned_changes_nothing():
    fresh = retention_purge.enqueue()
    out = io.StringIO()
    call_command("requeue_abandoned_tasks", stdout=out)
    assert out.getvalue().startswith("0 tasks")
    assert DBTaskResult.objects.get(pk=fresh.id).status == TaskResultStatus.READY


# --- A real worker process losing its database connection (PostgreSQL) -----------------------------------

DATABASE_ENGINE = connections.databases["default"]["ENGINE"]
TASK_TIMEOUT = 60.0


class DatabaseProxy:
    """A TCP proxy on loopback in front of the test's PostgreSQL that can cut every connection and turn new
    ones away (the database restarting, failing over, or a network between them gone) until ``restore``."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.is_down = False
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        with self.lock:
            self.is_down = True
            for open_socket in self.sockets:
                with suppress(OSError):
                    open_socket.shutdown(socket.SHUT_RDWR)
                open_socket.close()
            self.sockets.clear()

    def restore(self) -> None:
        with self.lock:
            self.is_down = False

    def close(self) -> None:
        self.cut()
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                if self.is_down:
                    client.close()
                    continue
                upstream = socket.create_connection(self.target)
                self.sockets += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        with suppress(OSError):
            target.shutdown(socket.SHUT_WR)


def database_url_through(proxy: DatabaseProxy) -> str:
    database = connections["default"].settings_dict
    return f"postgres://{database['USER']}:{database['PASSWORD']}@127.0.0.1:{proxy.port}/{database['NAME']}"


def wait_finished(result_id: object, worker: Process) -> DBTaskResult:
    deadline = time.monotonic() + TASK_TIMEOUT
    while True:
        row = DBTaskResult.objects.get(pk=result_id)
        if row.status in (TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED):
            return row
        assert worker.is_running, f"the worker exited\n{worker.tail()}"
        assert time.monotonic() < deadline, f"the task did not run\n{worker.tail()}"
        time.sleep(0.1)


@pytest.mark.skipif("postgresql" not in DATABASE_ENGINE, reason="a worker process on the test's PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_the_worker_waits_out_a_lost_database_and_goes_on(tmp_path):
    """The database goes away under a running worker (every connection cut, new ones turned away) and comes
    back: the worker keeps trying instead of exiting, and runs what was queued meanwhile."""
    database = connections["default"].settings_dict
    proxy = DatabaseProxy(database["HOST"] or "127.0.0.1", int(database["PORT"] or 5432))
    environment = dict(os.environ) | {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url_through(proxy),
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable, "manage.py", "run_worker", "--queue-name", "*", "--no-reload", "--no-startup-delay",
        "--interval", "0.1", "--worker-id", "cut-off",
    ]  # fmt: skip
    worker = Process("worker", command, environment, tmp_path)
    try:
        assert wait_finished(retention_purge.enqueue().id, worker).status == TaskResultStatus.SUCCESSFUL

        proxy.cut()
        queued_meanwhile = retention_purge.enqueue().id  # through the test's own connection, not the proxy
        deadline = time.monotonic() + TASK_TIMEOUT
        while "lost the database" not in worker.log.read_text():
            assert worker.is_running, f"the worker exited when the database went away\n{worker.tail()}"
            assert time.monotonic() < deadline, f"the worker did not notice the database gone\n{worker.tail()}"
            time.sleep(0.1)
        assert DBTaskResult.objects.get(pk=queued_meanwhile).status == TaskResultStatus.READY

        proxy.restore()
        finished = wait_finished(queued_meanwhile, worker)
        assert finished.status == TaskResultStatus.SUCCESSFUL, finished.traceback
        assert worker.is_running
    finally:
        worker.stop()
        proxy.close()
