"""The citizen app's websocket: its cookie login opens the stream, and a new notification in the
citizen's inbox is announced on it (by id only) while the app is open."""

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from config.asgi import application
from notifications.consumers import CLOSE_UNAUTHENTICATED
from notifications.services import notify
from tests.borgerapp.helpers import app_client

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = "http://127.0.0.1:8000"


@pytest.fixture
def channel_layer() -> Any:
    from channels.layers import channel_layers, get_channel_layer

    channel_layers.backends.clear()
    yield get_channel_layer()
    channel_layers.backends.clear()


def _socket(cookie: str) -> WebsocketCommunicator:
    headers = [(b"cookie", f"{settings.APP_SESSION_COOKIE_NAME}={cookie}".encode()), (b"origin", ORIGIN.encode())]
    return WebsocketCommunicator(application, "/ws/v1/", headers=headers, subprotocols=["mestring.v1"])


async def test_the_citizens_cookie_opens_the_stream_and_a_new_notification_is_announced(world, channel_layer):
    browser = await database_sync_to_async(app_client)(world.citizen.user)
    stream = _socket(browser.cookies[settings.APP_SESSION_COOKIE_NAME].value)
    connected, _ = await stream.connect()
    assert connected
    hello = await stream.receive_json_from()
    assert hello["type"] == "hello" and hello["user_id"] == str(world.citizen.user.pk)
    made = await database_sync_to_async(notify)(
        recipients=[world.citizen.user], kind="request.answered", refs={"request_id": world.citizen.pk}
    )
    frame = await stream.receive_json_from(timeout=30)
    assert frame["type"] == "notification" and frame["id"] == str(made[0].pk)
    assert "text" not in frame
    await stream.disconnect()


async def test_a_signed_out_app_gets_no_stream(world, channel_layer):
    browser = await database_sync_to_async(app_client)(world.citizen.user)
    cookie = browser.cookies[settings.APP_SESSION_COOKIE_NAME].value
    token = browser.cookies["csrftoken"].value
    await database_sync_to_async(browser.post)("/app/log-ud/", {"csrfmiddlewaretoken": token})
    stream = _socket(cookie)
    connected, _ = await stream.connect()
    assert connected
    assert await stream.receive_output() == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}
    await stream.disconnect()
