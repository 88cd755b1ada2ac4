from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers, get_channel_layer
from django.db import connections

from backend.models import AppSession
from backend.services.identity import ClientInfo, TokenPair, session_start
from tests import factories


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
