"""Stream events published in one pipeline reach the Redis pub/sub layer's subscribers, in order per group;
a Redis that is gone fails the publish quickly. Runs where production's channel layer is configured."""

import os
import socket
import time
import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers, get_channel_layer

from notifications import publish

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL: production's channel layer")


@pytest.fixture
def layer() -> Any:
    channel_layers.backends.clear()
    yield get_channel_layer()
    channel_layers.backends.clear()


async def test_a_batch_reaches_every_group_in_order(layer: Any) -> None:
    user_group, team_group = f"user.{uuid.uuid4()}", f"team.{uuid.uuid4()}"
    channel = await layer.new_channel()
    await layer.group_add(user_group, channel)
    await layer.group_add(team_group, channel)
    messages = [
        (user_group if index % 3 else team_group, {"type": "stream.event", "event_id": index}) for index in range(1, 31)
    ]
    await sync_to_async(publish.publish)(layer, messages)
    received = [await layer.receive(channel) for _ in messages]
    assert sorted(message["event_id"] for message in received) == list(range(1, 31))
    for group in (user_group, team_group):
        sent = [message["event_id"] for name, message in messages if name == group]
        assert [message["event_id"] for message in received if message["event_id"] in sent] == sent
    await layer.group_discard(user_group, channel)
    await layer.group_discard(team_group, channel)


def test_a_redis_that_is_gone_fails_the_publish_within_a_second(layer: Any, settings: Any) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = dict(settings.CHANNEL_LAYERS["default"])
    config["CONFIG"] = {**config["CONFIG"], "hosts": [f"redis://127.0.0.1:{port}/0"]}
    settings.CHANNEL_LAYERS = {"default": config}
    started = time.monotonic()
    with pytest.raises(Exception):  # noqa: B017 — redis-py's ConnectionError, whatever its subclass
        publish.publish(get_channel_layer(), [("user.nobody", {"type": "stream.event", "event_id": 1})])
    assert time.monotonic() - started < 1.5
