"""The staff pages' websocket: logged in by the page's session cookie, never by a token in the page."""

from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.utils import timezone

from backend.models import AppSession, Token
from config.asgi import application
from notifications.consumers import CLOSE_UNAUTHENTICATED
from tests.staffweb.helpers import web_client

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = "http://127.0.0.1:8000"


def _socket(cookie: str, *, origin: str | None = ORIGIN) -> WebsocketCommunicator:
    headers = [(b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    return WebsocketCommunicator(application, "/ws/v1/", headers=headers, subprotocols=["mestring.v1"])


async def _refused(stream: WebsocketCommunicator) -> None:
    connected, _ = await stream.connect()
    assert connected
    assert await stream.receive_output() == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}
    await stream.disconnect()


@pytest.fixture
def browser(world, channel_layer: Any) -> Any:
    return web_client(world.staff_in_team.user)


@pytest.fixture
def channel_layer() -> Any:
    from channels.layers import channel_layers, get_channel_layer

    channel_layers.backends.clear()
    yield get_channel_layer()
    channel_layers.backends.clear()


async def test_the_session_cookie_opens_the_stream_with_a_token_that_stays_on_the_server(world, browser):
    cookie = browser.cookies[settings.SESSION_COOKIE_NAME].value
    stream = _socket(cookie)
    connected, _ = await stream.connect()
    assert connected
    hello = await stream.receive_json_from()
    assert hello == {"type": "hello", "protocol": "mestring.v1", "user_id": str(world.staff_in_team.user.pk)}
    await stream.disconnect()
    session = browser.app_session
    assert await database_sync_to_async(Token.objects.filter(session=session, kind="access").count)() == 2


async def test_no_origin_no_cookie_login(browser):
    await _refused(_socket(browser.cookies[settings.SESSION_COOKIE_NAME].value, origin=None))


async def test_a_foreign_origin_is_refused_before_the_handshake(browser):
    stream = _socket(browser.cookies[settings.SESSION_COOKIE_NAME].value, origin="https://evil.example")
    connected, _ = await stream.connect()
    assert not connected
    await stream.disconnect()


async def test_an_unknown_or_signed_out_cookie_is_refused(browser):
    await _refused(_socket("not-a-session"))
    session = browser.app_session
    await database_sync_to_async(AppSession.objects.filter(pk=session.pk).update)(revoked_at=timezone.now())
    await _refused(_socket(browser.cookies[settings.SESSION_COOKIE_NAME].value))


async def test_an_idle_login_gets_no_stream(browser, settings):
    session = browser.app_session
    idle = timezone.now() - timedelta(minutes=settings.STAFF_WEB_IDLE_MINUTES + 1)
    await database_sync_to_async(AppSession.objects.filter(pk=session.pk).update)(last_used_at=idle)
    await _refused(_socket(browser.cookies[settings.SESSION_COOKIE_NAME].value))
