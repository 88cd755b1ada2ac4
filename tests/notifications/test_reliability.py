"""Real-time delivery across real processes: two uvicorn web processes and task workers over a real
Redis (the pub/sub channel layer, as production) and the test's PostgreSQL database.

- An event raised in a worker process reaches clients connected to either web process.
- Redis down: the API keeps answering, notify() still stores the notification, and a client that
  reconnects with its last event id once Redis is back gets what it missed, in order, once.
- A worker killed mid-dispatch: nothing is lost, and nothing is sent twice but the one message that
  was already in FCM's hands when the worker died (the app de-duplicates by notification id).

The processes must see the test's rows, so the test commits (``transaction=True``) and runs only on
PostgreSQL with REDIS_URL set (CI's second pass); it starts a Redis of its own, which it may stop.
"""

import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from django.tasks import Task, TaskResult, TaskResultStatus
from django.utils import timezone
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.sync.client import ClientConnection, connect

from notifications.consumers import CLOSE_TRY_AGAIN_LATER
from notifications.models import Notification, PushDelivery, StreamEvent
from notifications.services import notify
from notifications.tasks import deliver_due_push
from tests.notifications.conftest import install_for
from tests.notifications.processes import (
    PORT_ATTEMPTS,
    HoldingFcm,
    Process,
    RedisServer,
    free_port,
    http_get,
    notify_from_worker,
    uvicorn_command,
    wait_listening,
    worker_command,
)

DATABASE_ENGINE = connections.databases["default"]["ENGINE"]

pytestmark = [
    pytest.mark.skipif(
        "postgresql" not in DATABASE_ENGINE,
        reason="needs DATABASE_URL on PostgreSQL: the web and worker processes share the test's database",
    ),
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL"), reason="needs REDIS_URL: the multi-process run uses the Redis channel layer"
    ),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server to run a Redis it may stop"),
    pytest.mark.django_db(transaction=True),
]

STARTUP_TIMEOUT = 40.0
EVENT_TIMEOUT = 10.0


def shared_database_url() -> str:
    database = connections["default"].settings_dict
    return (
        f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST'] or '127.0.0.1'}:"
        f"{database['PORT'] or 5432}/{database['NAME']}"
    )


@dataclass
class Cluster:
    """Redis, web processes A and B, and the task workers, all on the test's database."""

    log_directory: Path
    fcm: HoldingFcm
    redis: RedisServer
    environment: dict[str, str]
    web_ports: list[int] = field(default_factory=list)
    webs: list[Process] = field(default_factory=list)
    workers: list[Process] = field(default_factory=list)

    def start_web(self, name: str) -> None:
        """A web process on a free port (another one if something else took it before uvicorn bound it)."""
        for _ in range(PORT_ATTEMPTS):
            port = free_port()
            web = Process(name, uvicorn_command(port), self.environment, self.log_directory)
            if wait_listening(web, f"Uvicorn running on http://127.0.0.1:{port}", STARTUP_TIMEOUT):
                self.web_ports.append(port)
                self.webs.append(web)
                return
        raise AssertionError(f"{name} found no free port\n{web.tail()}")

    def start_worker(self, name: str) -> Process:
        worker = Process(name, worker_command(self.fcm.url_template, name), self.environment, self.log_directory)
        self.workers.append(worker)
        return worker

    def logs(self) -> str:
        processes = [*self.webs, *self.workers, *([self.redis.process] if self.redis.process else [])]
        return "\n".join(process.tail() for process in processes)

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """Every web process answers /readyz: the database and its channel layer (Redis) are reachable."""
        deadline = time.monotonic() + timeout
        for web, port in zip(self.webs, self.web_ports, strict=True):
            while True:
                assert web.is_running, f"{web.name} exited\n{self.logs()}"
                with suppress(OSError):
                    if http_get(port, "/readyz", timeout=3)[0] == 200:
                        break
                assert time.monotonic() < deadline, f"{web.name} was not ready in {timeout:.0f}s\n{self.logs()}"
                time.sleep(0.1)

    def run_in_worker(self, task: Task, **arguments: Any) -> TaskResult:
        return task.enqueue(**arguments)

    def wait_for(self, result: TaskResult) -> Any:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not result.is_finished:
            assert time.monotonic() < deadline, f"no worker ran {result.task.name}\n{self.logs()}"
            time.sleep(0.05)
            result.refresh()
        assert result.status == TaskResultStatus.SUCCESSFUL, f"{result.errors}\n{self.logs()}"
        return result.return_value

    def notify_in_worker(self, recipient: Any, team: Any) -> str:
        """notify() run by a worker process (a task); returns the id of the recipient's notification."""
        result = self.run_in_worker(
            notify_from_worker,
            recipient_ids=[str(recipient.pk)],
            team_ids=[str(team.pk)],
            request_id=str(uuid.uuid4()),
        )
        [notification_id] = self.wait_for(result)
        return str(notification_id)


@pytest.fixture(scope="module")
def cluster(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    log_directory = tmp_path_factory.mktemp("reliability")
    with HoldingFcm() as fcm:
        redis = RedisServer(log_directory)
        redis.start()
        environment = dict(os.environ) | {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": shared_database_url(),
            "REDIS_URL": redis.url,
            "DB_CONN_MAX_AGE": "0",
            "EMBEDDED_WORKER": "0",
            "PUSH_MODE": "fcm",
            "PYTHONUNBUFFERED": "1",
        }
        running = Cluster(log_directory=log_directory, fcm=fcm, redis=redis, environment=environment)
        try:
            running.start_web("web-a")
            running.start_web("web-b")
            running.start_worker("worker")
            running.wait_ready()
            yield running
        finally:
            for process in [*running.webs, *running.workers]:
                process.stop()
            redis.crash()


# --- A websocket client as the app uses it ------------------------------------------------------------


class Stream:
    """One websocket to a web process, authenticated with the Authorization header as the native app does."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.last_event_id: int | None = None

    def next_frame(self, timeout: float = EVENT_TIMEOUT) -> dict[str, Any]:
        frame: dict[str, Any] = json.loads(self.socket.recv(timeout=timeout))
        if isinstance(frame.get("event_id"), int):
            self.last_event_id = frame["event_id"]
        return frame

    def frames_until(self, frame_type: str, timeout: float = EVENT_TIMEOUT) -> list[dict[str, Any]]:
        frames: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while not frames or frames[-1]["type"] != frame_type:
            frames.append(self.next_frame(timeout=max(deadline - time.monotonic(), 0.01)))
        return frames

    def nothing_within(self, seconds: float) -> bool:
        try:
            frame = self.socket.recv(timeout=seconds)
        except TimeoutError:
            return True
        pytest.fail(f"unexpected frame: {frame!r}")


def open_stream(stack: ExitStack, port: int, token: str | None, query: str = "") -> Stream:
    address = f"ws://127.0.0.1:{port}/ws/v1/" + (f"?{query}" if query else "")
    socket = stack.enter_context(
        connect(address, additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=10)
    )
    stream = Stream(socket)
    assert stream.next_frame()["type"] == "hello"
    return stream


def reopen_stream(stack: ExitStack, port: int, token: str | None, query: str, timeout: float = 10.0) -> Stream:
    """As the app does after a refused handshake: try again until the server takes the connection."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return open_stream(stack, port, token, query)
        except (OSError, InvalidHandshake):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def closed_at_once_with(port: int, token: str | None) -> int:
    """The close code of a socket the server accepts only to close it (a refusal the app can act on)."""
    with (
        connect(
            f"ws://127.0.0.1:{port}/ws/v1/", additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=10
        ) as socket,
        pytest.raises(ConnectionClosed) as closed,
    ):
        socket.recv(timeout=EVENT_TIMEOUT)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


def event_ids(frames: list[dict[str, Any]]) -> list[int]:
    return [frame["event_id"] for frame in frames if "event_id" in frame]


def inbox_ids(port: int, token: str | None) -> list[str]:
    status, body = http_get(port, "/api/v1/notifications", token)
    assert status == 200, body[:500]
    return [item["id"] for item in json.loads(body)["items"]]


def wait_until_delivered(notification_ids: list[str], timeout: float = 5.0) -> None:
    """The web process records a websocket delivery just after sending the frame."""
    deadline = time.monotonic() + timeout
    while Notification.objects.filter(pk__in=notification_ids, delivered_at__isnull=True).exists():
        assert time.monotonic() < deadline, "a notification shown on the websocket was not marked delivered"
        time.sleep(0.05)


# --- Tests ---------------------------------------------------------------------------------------------


def test_an_event_raised_in_the_worker_reaches_clients_of_both_web_processes(cluster, world):
    port_a, port_b = cluster.web_ports
    with ExitStack() as stack:
        citizen_app = open_stream(stack, port_b, world.tokens["citizen"])
        therapist_view = open_stream(stack, port_a, world.tokens["staff_in_team"], f"team_id={world.team.pk}")
        assert therapist_view.next_frame() == {"type": "subscribed", "team_id": str(world.team.pk)}

        notification_id = cluster.notify_in_worker(world.citizen.user, world.team)

        frame = citizen_app.next_frame()
        personal_event = StreamEvent.objects.get(user=world.citizen.user)
        assert frame == {"type": "notification", "event_id": personal_event.id, "id": notification_id}
        team_frame = therapist_view.next_frame()
        team_event = StreamEvent.objects.get(team=world.team)
        assert team_frame["type"] == "team_event"
        assert (team_frame["event_id"], team_frame["team_id"]) == (team_event.id, str(world.team.pk))
        assert citizen_app.nothing_within(0.3) and therapist_view.nothing_within(0.3)
    wait_until_delivered([notification_id])


def test_with_redis_down_the_api_answers_and_notifications_wait_for_the_reconnect(cluster, world):
    port_a, port_b = cluster.web_ports
    citizen_token, staff_token = world.tokens["citizen"], world.tokens["staff_in_team"]
    team_query = f"team_id={world.team.pk}"
    with ExitStack() as stack:
        citizen_app = open_stream(stack, port_b, citizen_token)
        therapist_view = open_stream(stack, port_a, staff_token, team_query)
        therapist_view.next_frame()
        seen = cluster.notify_in_worker(world.citizen.user, world.team)
        assert citizen_app.next_frame()["id"] == seen
        assert therapist_view.next_frame()["type"] == "team_event"
    citizen_last_seen, team_last_seen = citizen_app.last_event_id, therapist_view.last_event_id
    assert citizen_last_seen is not None and team_last_seen is not None

    cluster.redis.crash()
    try:
        missed = [cluster.notify_in_worker(world.citizen.user, world.team) for _ in range(2)]
        assert Notification.objects.filter(pk__in=missed, recipient=world.citizen.user).count() == 2
        for port in cluster.web_ports:
            assert inbox_ids(port, citizen_token)[:2] == missed[::-1]
            assert http_get(port, "/api/v1/me", citizen_token)[0] == 200
        assert closed_at_once_with(port_b, citizen_token) == CLOSE_TRY_AGAIN_LATER  # not "log in again"
    finally:
        cluster.redis.start()
    cluster.wait_ready()

    with ExitStack() as stack:
        citizen_app = reopen_stream(stack, port_a, citizen_token, f"last_event_id={citizen_last_seen}")
        replayed = citizen_app.frames_until("resumed")
        assert [frame["id"] for frame in replayed[:-1]] == missed
        assert replayed[-1] == {"type": "resumed", "last_event_id": replayed[-1]["last_event_id"], "count": 2}
        replayed_ids = event_ids(replayed)
        assert replayed_ids == sorted(set(replayed_ids)) and replayed_ids[0] > citizen_last_seen

        therapist_view = reopen_stream(stack, port_b, staff_token, f"{team_query}&last_event_id={team_last_seen}")
        team_replayed = therapist_view.frames_until("resumed")
        assert team_replayed[0] == {"type": "subscribed", "team_id": str(world.team.pk)}
        team_ids = event_ids(team_replayed)
        assert len(team_ids) == 2 and team_ids == sorted(set(team_ids)) and team_ids[0] > team_last_seen

        after = cluster.notify_in_worker(world.citizen.user, world.team)
        live = citizen_app.next_frame()
        assert live["id"] == after and live["event_id"] > replayed_ids[-1]
        assert therapist_view.next_frame()["event_id"] > team_ids[-1]
        assert citizen_app.nothing_within(0.5) and therapist_view.nothing_within(0.1)
    wait_until_delivered([*missed, after])


class ReconnectingApp:
    """The app's stream: on a closed socket it reconnects and resumes from the last event id it saw."""

    def __init__(self, port: int, token: str | None) -> None:
        self.port, self.token = port, token
        self.stack = ExitStack()
        self.stream = open_stream(self.stack, port, token)
        self.notification_ids: list[str] = []
        self.event_ids: list[int] = []
        self.reconnects = 0

    def collect(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                frame = self.stream.next_frame(timeout=remaining)
            except TimeoutError:
                return
            except ConnectionClosed:
                self._reconnect(deadline)
                continue
            if frame["type"] == "notification":
                self.notification_ids.append(frame["id"])
                self.event_ids.append(frame["event_id"])

    def _reconnect(self, deadline: float) -> None:
        last_seen = self.event_ids[-1] if self.event_ids else 0
        self.reconnects += 1
        self.stack.close()
        while time.monotonic() < deadline:
            self.stack = ExitStack()
            try:
                self.stream = open_stream(self.stack, self.port, self.token, f"last_event_id={last_seen}")
                return
            except (OSError, InvalidHandshake, ConnectionClosed):
                self.stack.close()
                time.sleep(0.5)

    def close(self) -> None:
        self.stack.close()


def test_an_app_that_stayed_connected_through_the_outage_gets_what_it_missed(cluster, world):
    """The web process notices its subscriber connection coming back and replays, on the open socket,
    what was published while Redis was gone: the app neither reconnects nor waits for its next event."""
    app = ReconnectingApp(cluster.web_ports[1], world.tokens["citizen"])
    try:
        before = cluster.notify_in_worker(world.citizen.user, world.team)
        app.collect(1.0)
        cluster.redis.crash()
        try:
            missed = [cluster.notify_in_worker(world.citizen.user, world.team) for _ in range(2)]
            app.collect(1.0)
        finally:
            cluster.redis.start()
        cluster.wait_ready()
        after = cluster.notify_in_worker(world.citizen.user, world.team)
        app.collect(5.0)
    finally:
        app.close()
    assert app.notification_ids == [before, *missed, after]
    assert app.event_ids == sorted(set(app.event_ids))
    assert app.reconnects == 0, cluster.logs()


# Long enough for the web processes' round trip (every 2 s, 2 s to answer) to find the layer stalled many
# times over, and fifteen times the 1 s in which a publisher gives up on Redis (what loses the events):
# a 30 s hang, as first seen, proves nothing more and costs the suite a quarter of a minute.
HANG_SECONDS = 15.0
AFTER_HANG_TIMEOUT = 10.0


def test_an_open_socket_gets_what_was_published_while_redis_hung(cluster, world):
    """Redis stopped with SIGSTOP keeps its connections open and answers nothing, so no connection drops and
    nothing reconnects: the web process notices by its round trip through the layer, and once Redis answers
    again the open socket replays every notification made meanwhile, each once, within 10 s."""
    app = ReconnectingApp(cluster.web_ports[1], world.tokens["citizen"])
    try:
        before = cluster.notify_in_worker(world.citizen.user, world.team)
        app.collect(2.0)
        assert app.notification_ids == [before]

        cluster.redis.hang()
        made: list[str] = []
        try:
            hang_ends = time.monotonic() + HANG_SECONDS
            while time.monotonic() < hang_ends:
                made.append(cluster.notify_in_worker(world.citizen.user, world.team))
            during = list(app.notification_ids)
        finally:
            cluster.redis.wake()
        deadline = time.monotonic() + AFTER_HANG_TIMEOUT
        while not set(made) <= set(app.notification_ids) and (remaining := deadline - time.monotonic()) > 0:
            app.collect(min(remaining, 0.5))
        app.collect(1.0)  # anything sent twice comes now
    finally:
        app.close()
    assert len(made) >= 3, cluster.logs()
    assert during == [before], "something arrived while Redis hung"
    assert set(made) <= set(app.notification_ids), (
        f"{len(set(made) - set(app.notification_ids))} of {len(made)} made during the hang did not arrive\n"
        + cluster.logs()
    )
    assert len(app.notification_ids) == len(set(app.notification_ids)), "a notification arrived twice"
    assert len(app.event_ids) == len(set(app.event_ids))
    assert app.reconnects == 0, cluster.logs()


def test_a_worker_killed_mid_dispatch_loses_nothing_and_sends_nothing_twice(cluster, world):
    """Deliveries are claimed with a lease: the restarted workers (and the periodic run racing them)
    leave a claim alone until its lease runs out, then one of them sends it. Only the message FCM had
    accepted just before the kill can arrive twice, with the same notification id."""
    user = world.citizen.user
    install_for(user, "fcm-token-reliability")
    cluster.fcm.hold_after(5)
    notifications = [
        notify(recipients=[user], kind="request.answered", refs={"request_id": uuid.uuid4()})[0] for _ in range(20)
    ]
    assert cluster.fcm.holding.wait(timeout=STARTUP_TIMEOUT), cluster.logs()
    [killed] = cluster.workers
    killed.kill()
    cluster.workers.remove(killed)
    cluster.fcm.release()  # FCM accepted the message in flight; the worker never saw the answer
    held = PushDelivery.objects.get(status=PushDelivery.Status.SENDING)
    assert str(held.notification_id) == cluster.fcm.held_notification_id
    assert PushDelivery.objects.filter(status=PushDelivery.Status.SENT).count() == 5

    cluster.start_worker("worker-restarted-1")
    cluster.start_worker("worker-restarted-2")
    early = cluster.run_in_worker(deliver_due_push)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while PushDelivery.objects.filter(status=PushDelivery.Status.SENT).count() < 19:
        assert time.monotonic() < deadline, cluster.logs()
        time.sleep(0.1)
    cluster.wait_for(early)
    held.refresh_from_db()
    assert held.status == PushDelivery.Status.SENDING, "a claim still under its lease was taken over"

    PushDelivery.objects.filter(pk=held.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    for periodic_run in [cluster.run_in_worker(deliver_due_push) for _ in range(2)]:
        cluster.wait_for(periodic_run)

    deliveries = PushDelivery.objects.filter(notification__in=notifications)
    assert deliveries.count() == 20
    assert set(deliveries.values_list("status", flat=True)) == {PushDelivery.Status.SENT}
    assert not Notification.objects.filter(pk__in=[n.pk for n in notifications], delivered_at__isnull=True).exists()
    accepted = cluster.fcm.accepted_per_notification()
    assert set(accepted) == {str(notification.pk) for notification in notifications}
    assert accepted.pop(cluster.fcm.held_notification_id) <= 2
    assert set(accepted.values()) == {1}, "a delivery was sent twice"
