"""One Chromium for the whole test session (Debian's, through Playwright's sync API), shared by the browser tests.

Starting Playwright's driver and the browser took a few seconds per test on a loaded machine; a test gets a
fresh browser context (its own cookies, storage, service workers and caches), which isolates it as a browser of
its own did, and any context it leaves open is closed after it.

Playwright's sync API keeps its event loop marked as the thread's running loop after every call. Between
browser tests that mark is taken away, so that the other tests (pytest-asyncio's loops, ``async_to_sync``,
Django's check against the ORM in async code) find no running loop, as they would in a session without a
browser; each browser test puts it back for Playwright before its first call.
"""

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")


@dataclass
class _Session:
    manager: Any
    playwright: Any
    browser: Any
    loop: asyncio.AbstractEventLoop


def _launch(session: _Session | None) -> _Session:
    from playwright.sync_api import sync_playwright

    if session is None:
        manager = sync_playwright()
        playwright = manager.start()
    else:
        manager, playwright = session.manager, session.playwright
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
    return _Session(manager, playwright, browser, asyncio.get_running_loop())


def close_contexts(browser: Any) -> None:
    """Close what a test opened in the browser: after this no page of it asks a server for anything."""
    for context in list(browser.contexts):
        context.close()


@pytest.fixture(scope="session")
def _chromium_session() -> Iterator[list[_Session]]:
    """The session's browser, started by the first browser test that asks for it (a list: a browser that
    crashed is started again in its place)."""
    sessions: list[_Session] = []
    yield sessions
    if sessions:
        session = sessions[0]
        asyncio._set_running_loop(session.loop)
        try:
            if session.browser.is_connected():
                session.browser.close()
        finally:
            session.manager.__exit__(None, None, None)
            asyncio._set_running_loop(None)


@pytest.fixture
def chromium(_chromium_session: list[_Session], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The session's Chromium for one test; what the test opens in it is closed after it."""
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls stay synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not _chromium_session:
        _chromium_session.append(_launch(None))
    else:
        asyncio._set_running_loop(_chromium_session[0].loop)
        if not _chromium_session[0].browser.is_connected():
            _chromium_session[0] = _launch(_chromium_session[0])
    browser = _chromium_session[0].browser
    try:
        yield browser
    finally:
        try:
            close_contexts(browser)
        finally:
            asyncio._set_running_loop(None)
