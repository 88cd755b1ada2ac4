import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import firebase_admin
import google.oauth2.credentials
import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers, get_channel_layer
from django.db import connections
from firebase_admin import _http_client as firebase_http_client
from firebase_admin import credentials as firebase_credentials
from firebase_admin import messaging

from backend.models import AppSession
from backend.services.identity import ClientInfo, TokenPair, session_start
from notifications import push
from notifications.models import PushInstall
from notifications.services import push_install_register
from tests import factories
from tests.notifications import fake_fcm


@pytest.fixture(autouse=True)
async def _close_worker_thread_connections() -> AsyncIterator[None]:
    """Async code reaches the database from asgiref's worker thread, whose connections would
    otherwise stay open past the test and keep PostgreSQL from dropping the test database."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture
def channel_layer() -> Iterator[Any]:
    """A fresh in-memory channel layer per test: its queues belong to the test's event loop."""
    channel_layers.backends.clear()
    yield get_channel_layer()
    channel_layers.backends.clear()


def login(user: Any, audience: str = AppSession.Audience.CITIZEN) -> TokenPair:
    return session_start(user=user, audience=audience, client=ClientInfo("127.0.0.1", "pytest"))


@pytest.fixture
def citizen_login(db: None) -> TokenPair:
    return login(factories.CitizenFactory().user)


@pytest.fixture
def other_citizen_login(db: None) -> TokenPair:
    return login(factories.CitizenFactory().user)


# --- Push through the real firebase-admin client against a fake FCM server --------------------------

FCM_PROJECT = "mestring-test"


class StaticTokenCredential(firebase_credentials.Base):
    """A credential holding a fixed access token, so the client never asks Google for one."""

    def get_credential(self) -> google.oauth2.credentials.Credentials:
        return google.oauth2.credentials.Credentials(token=fake_fcm.ACCESS_TOKEN)


@pytest.fixture
def fcm(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[fake_fcm.FakeFcm]:
    """PUSH_MODE=fcm with the firebase-admin app pointed at a fake FCM server on loopback."""
    with fake_fcm.FakeFcm() as server, fcm_serving(server, settings, monkeypatch):
        yield server


@contextlib.contextmanager
def fcm_serving(server: fake_fcm.FakeFcm, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Pushes sent with PUSH_MODE=fcm to ``server``, by the app push.py sends with, while in the ``with``."""
    monkeypatch.setattr(messaging._MessagingService, "FCM_URL", server.url_template)
    # The client retries 500/503 itself (up to 4 times, 0.5 s backoff); keep that, without the sleeping.
    monkeypatch.setattr(firebase_http_client.DEFAULT_RETRY_CONFIG, "backoff_factor", 0)
    firebase_app_start()
    settings.PUSH_MODE = "fcm"
    try:
        yield
    finally:
        firebase_admin.delete_app(firebase_admin.get_app(push.FIREBASE_APP_NAME))


def firebase_app_start() -> firebase_admin.App:
    """The app push.py sends with, made the way it makes it but with the static test credential."""
    with contextlib.suppress(ValueError):
        firebase_admin.delete_app(firebase_admin.get_app(push.FIREBASE_APP_NAME))
    return firebase_admin.initialize_app(
        StaticTokenCredential(), {"projectId": FCM_PROJECT, "httpTimeout": 5}, name=push.FIREBASE_APP_NAME
    )


@pytest.fixture
def immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def install_for(user: Any, token: str, *, locale: str = "da", platform: str = "android") -> PushInstall:
    """An app install registered the way the app does it, from a fresh login of ``user``."""
    from backend.actors import Actor

    pair = login(user)
    install, _ = push_install_register(
        actor=Actor(user=user, session=pair.session, audience=pair.session.audience),
        fcm_token=token,
        platform=platform,
        app_version="2.4.0",
        locale=locale,
    )
    return install


# --- The channel layers the stream runs on -----------------------------------------------------------------

ON_POSTGRESQL = "postgresql" in connections.databases["default"]["ENGINE"]


def redis_url() -> str:
    """The Redis of ``REDIS_URL``. Without it the test skips on the embedded pass (no ``DATABASE_URL``) and fails
    on the PostgreSQL + Redis pass, where the Redis cases are the only check of the adapter
    (``notifications.channel_layer``) against the layer it was written for."""
    url = os.environ.get("REDIS_URL", "")
    if url:
        return url
    if ON_POSTGRESQL:
        pytest.fail("REDIS_URL is not set: the PostgreSQL + Redis pass checks the channel layer against a real Redis")
    pytest.skip("needs REDIS_URL: production's channel layer (the PostgreSQL + Redis pass runs it)")


def pubsub_settings(settings: Any, address: str) -> None:
    """Production's channel-layer configuration (config/settings.py with REDIS_URL set) at ``address``, under
    a prefix of the test's own, so that nothing else on the same Redis reaches it."""
    config = dict(settings.CHANNEL_LAYERS["default"])
    assert config["BACKEND"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    config["CONFIG"] = {
        **config["CONFIG"],
        "hosts": [dict(host, address=address) for host in config["CONFIG"]["hosts"]],
        "prefix": f"test-{uuid.uuid4().hex[:12]}",
    }
    settings.CHANNEL_LAYERS = {"default": config}


@pytest.fixture(params=["in-memory", "redis-pubsub"])
def layer(request: pytest.FixtureRequest, settings: Any) -> Iterator[Any]:
    """The process's channel layer, once in memory (the embedded mode) and once production's Redis pub/sub
    layer at ``REDIS_URL`` (``redis_url``: skipped or failed without it)."""
    if request.param == "redis-pubsub":
        pubsub_settings(settings, redis_url())
    else:
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()
    yield get_channel_layer()
    channel_layers.backends.clear()
