"""A Redis that accepts connections and never answers (hung, or a black-holed network) must not hold up
the request that calls notify(): the channel layer's connections time out, the notification is stored
and the failure logged, and the app gets the event by replay.

Runs where production's channel layer is configured (REDIS_URL set: the Redis pub/sub layer with
the timeouts of config/settings.py), against a silent TCP server on loopback.
"""

import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from channels.layers import channel_layers

from notifications.models import Notification, StreamEvent
from notifications.services import notify

pytestmark = [
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL: production's channel layer"),
    pytest.mark.django_db(transaction=True),
]

NOTIFY_BUDGET_SECONDS = 3.0


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """A TCP server that accepts every connection and never sends a byte."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    accepted: list[socket.socket] = []
    stopping = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stopping.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            accepted.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    stopping.set()
    thread.join(timeout=2)
    for connection in accepted:
        connection.close()
    listener.close()


@pytest.fixture
def layer_on(silent_redis: str, settings: Any) -> Any:
    """Production's channel-layer settings, pointed at the silent server."""
    config: dict[str, Any] = dict(settings.CHANNEL_LAYERS["default"])
    config["CONFIG"] = dict(config["CONFIG"])
    config["CONFIG"]["hosts"] = [dict(host, address=silent_redis) for host in config["CONFIG"]["hosts"]]
    settings.CHANNEL_LAYERS = {"default": config}
    return channel_layers["default"]


def test_notify_with_a_silent_redis_stores_logs_and_returns_quickly(world, layer_on, caplog):
    caplog.set_level(logging.WARNING)
    started = time.monotonic()
    [notification] = notify(
        recipients=[world.citizen.user], kind="request.answered", refs={"request_id": world.citizen.pk}
    )
    elapsed = time.monotonic() - started
    assert elapsed < NOTIFY_BUDGET_SECONDS, f"notify() was held up {elapsed:.1f}s by a Redis that does not answer"
    assert Notification.objects.filter(pk=notification.pk).exists()
    assert StreamEvent.objects.filter(user=world.citizen.user, payload={"id": str(notification.pk)}).exists()
    assert any("wait for replay" in record.getMessage() for record in caplog.records)


def test_notify_to_many_streams_with_a_silent_redis_returns_quickly(world, layer_on, caplog):
    """Each stream is its own publish on the layer's one connection: the bound holds for the whole call."""
    caplog.set_level(logging.WARNING)
    recipients = [world.citizen.user, world.other_citizen.user, world.staff_in_team.user, world.it_staff.user]
    started = time.monotonic()
    notifications = notify(
        recipients=recipients, kind="request.answered", refs={"request_id": world.citizen.pk}, team_ids=[world.team]
    )
    elapsed = time.monotonic() - started
    assert elapsed < NOTIFY_BUDGET_SECONDS, f"notify() was held up {elapsed:.1f}s by a Redis that does not answer"
    assert Notification.objects.filter(pk__in=[notification.pk for notification in notifications]).count() == 4
