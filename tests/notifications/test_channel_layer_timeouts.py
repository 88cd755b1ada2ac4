"""A Redis that accepts connections and never answers (hung, or a black-holed network) must not hold up
the request that calls notify(): the channel layer's connections time out, the notification is stored
and the failure logged, and the app gets the event by replay.

Runs where production's channel layer is configured (REDIS_URL set: the Redis pub/sub layer with
the timeouts of config/settings.py), against a silent TCP server on loopback: skipped without REDIS_URL on
the embedded pass, failed without it on the PostgreSQL + Redis pass (``redis_url``).
"""

import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from channels.layers import channel_layers
from django.db import connections

from notifications import channel_layer
from notifications.models import Notification, StreamEvent
from notifications.services import notify
from tests.notifications.conftest import redis_url

pytestmark = pytest.mark.django_db(transaction=True)

# Not a speed: a hang (no timeout on the channel layer's connections) never returns; a bounded call
# returns within about a second whatever the machine, which this leaves room for many times over.
HANG_SECONDS = 30.0


@pytest.fixture(autouse=True)
def _production_layer() -> None:
    """Skipped without REDIS_URL on the embedded pass, failed without it on the PostgreSQL + Redis pass."""
    redis_url()


@dataclass
class SilentRedis:
    """A TCP server that accepts every connection, reads what it is sent and never answers."""

    port: int
    connections: list[bytearray] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@pytest.fixture
def silent_redis() -> Iterator[SilentRedis]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    server = SilentRedis(port=listener.getsockname()[1])
    stopping = threading.Event()

    def read(connection: socket.socket, data: bytearray) -> None:
        connection.settimeout(0.1)
        while not stopping.is_set():
            try:
                chunk = connection.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                return
            data.extend(chunk)

    def accept() -> None:
        listener.settimeout(0.1)
        while not stopping.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            data = bytearray()
            server.connections.append(data)
            threading.Thread(target=read, args=(connection, data), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server
    stopping.set()
    thread.join(timeout=2)
    listener.close()


@pytest.fixture
def layer_on(silent_redis: SilentRedis, settings: Any) -> Any:
    """Production's channel-layer settings, pointed at the silent server."""
    config: dict[str, Any] = dict(settings.CHANNEL_LAYERS["default"])
    config["CONFIG"] = dict(config["CONFIG"])
    config["CONFIG"]["hosts"] = [dict(host, address=silent_redis.url) for host in config["CONFIG"]["hosts"]]
    settings.CHANNEL_LAYERS = {"default": config}
    return channel_layers["default"]


def returns_within(seconds: float, call: Any) -> Any:
    """The call's result, run in a thread: a call still running after ``seconds`` hangs."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = call()
        except BaseException as error:  # noqa: BLE001 — handed back to the test
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=seconds)
    assert not thread.is_alive(), f"notify() was still held up after {seconds:.0f}s by a Redis that does not answer"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def test_notify_with_a_silent_redis_stores_logs_and_returns(world, layer_on, silent_redis, caplog, settings):
    caplog.set_level(logging.WARNING)
    [notification] = returns_within(
        HANG_SECONDS,
        lambda: notify(recipients=[world.citizen.user], kind="request.answered", refs={"request_id": world.citizen.pk}),
    )
    assert Notification.objects.filter(pk=notification.pk).exists()
    assert StreamEvent.objects.filter(user=world.citizen.user, payload={"id": str(notification.pk)}).exists()
    assert any("wait for replay" in record.getMessage() for record in caplog.records)
    configured = settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]
    [options] = [
        client.connection_pool.connection_kwargs
        for client in channel_layer._clients.values()
        if client.connection_pool.connection_kwargs.get("port") == silent_redis.port
    ]
    for name in ("socket_timeout", "socket_connect_timeout"):
        assert options[name] == configured.get(name, channel_layer.SOCKET_TIMEOUT_SECONDS) <= 1.0


def test_notify_to_many_streams_with_a_silent_redis_waits_for_one_answer_only(world, layer_on, silent_redis, caplog):
    """Every stream's publish goes out in one pipeline, so the call waits out the timeouts of one stream's
    publish, not one per stream: it tries as many connections for five streams as for one."""
    caplog.set_level(logging.WARNING)
    returns_within(
        HANG_SECONDS,
        lambda: notify(recipients=[world.citizen.user], kind="request.answered", refs={"request_id": world.citizen.pk}),
    )
    for_one = len(silent_redis.connections)
    assert for_one >= 1
    recipients = [world.citizen.user, world.other_citizen.user, world.staff_in_team.user, world.it_staff.user]
    notifications = returns_within(
        HANG_SECONDS,
        lambda: notify(
            recipients=recipients,
            kind="request.answered",
            refs={"request_id": world.citizen.pk},
            team_ids=[world.team],
        ),
    )
    assert Notification.objects.filter(pk__in=[notification.pk for notification in notifications]).count() == 4
    assert len(silent_redis.connections) - for_one == for_one, "each stream waited for an answer of its own"
