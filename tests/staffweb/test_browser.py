"""The staff app in a real browser (Debian's Chromium through Playwright), with axe-core on every page.

Skipped only where /usr/bin/chromium is missing and this is not CI; in CI (CI=true) they run.
"""

import asyncio
import gzip
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pyotp
import pytest
import requests
import uvicorn

from selvbetjening.models import CitizenRequest, TrainingPlanVersion
from tests.chromium import CHROMIUM, close_contexts
from tests.conftest import access_token_for
from tests.selvbetjening.factories import CitizenRequestFactory
from tests.selvbetjening.test_event_delivery import session_body
from tests.staffweb.helpers import (
    access_log_cleared_for_flush,
    episode,
    goal,
    listed_conditions,
    make_plan,
    plan_with_pain_alert,
)

PASSWORD = "a-long-demo-password"

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists() and os.environ.get("CI") != "true",
        reason="needs Debian's chromium (apt-get install chromium); required in CI",
    ),
]


@dataclass
class Server:
    url: str
    loop: asyncio.AbstractEventLoop

    def run(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        """``function`` run in the server as a request's handler runs there (a thread of its event loop):
        what it announces on the channel layer reaches the server's open sockets, whichever layer it is."""
        from asgiref.sync import sync_to_async

        async def handled() -> Any:
            return await sync_to_async(function)(*args, **kwargs)

        return asyncio.run_coroutine_threadsafe(handled(), self.loop).result(timeout=60)


@pytest.fixture
def live_asgi_server(transactional_db, settings) -> Iterator[Server]:
    """The whole platform under uvicorn, as ``make run`` serves it: pages, API and the websocket stream
    (pytest-django's live server speaks no websocket). Static files through Django's handler."""
    from channels.layers import channel_layers
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    from config.asgi import application

    channel_layers.backends.clear()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    settings.WEBSOCKET_ALLOWED_ORIGINS = [url]
    server = uvicorn.Server(uvicorn.Config(ASGIStaticFilesHandler(application), lifespan="off", log_config=None))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(sockets=[listener]),), daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        threading.Event().wait(0.01)
    assert server.started
    yield Server(url=url, loop=loop)
    server.should_exit = True
    thread.join(timeout=10)
    loop.close()
    listener.close()
    channel_layers.backends.clear()


@pytest.fixture
def browser_page(chromium) -> Iterator[Any]:
    """A page in a fresh context of the session's Chromium (``tests/chromium.py``), at a desktop size."""
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="da-DK")
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    close_contexts(chromium)
    access_log_cleared_for_flush()


def assert_accessible(page: Any) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def _therapist(world: Any) -> Any:
    user = world.staff_in_team.user
    user.set_password(PASSWORD)
    user.totp_secret = pyotp.random_base32()
    user.save()
    return user


def wait_for_the_pain_alert(page: Any, citizen: Any) -> None:
    """Until the open triage page's card of ``citizen`` says the pain alert, without a reload."""
    page.wait_for_function(
        "(id) => { const card = document.querySelector(`.triage-card[data-citizen='${id}']`);"
        " return card && card.innerText.includes('Smertealarm'); }",
        arg=str(citizen.pk),
        timeout=15_000,  # live within seconds; the bound is generous for a busy machine
    )


def _log_in_with_the_keyboard(page: Any, live_server: Any, user: Any) -> None:
    page.goto(live_server.url + "/staff/")
    assert page.url.startswith(live_server.url + "/staff/log-ind/")
    assert_accessible(page)
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.classList.contains('skipnav')")
    page.focus("#id_username")
    page.keyboard.type(user.username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    page.keyboard.type(pyotp.TOTP(user.totp_secret).now())
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/staff/")


@pytest.mark.django_db(transaction=True)
def test_therapist_sees_the_pain_alert_reads_the_trend_and_lowers_the_dosage(world, live_server, browser_page):
    page = browser_page
    plan = plan_with_pain_alert(world)
    _log_in_with_the_keyboard(page, live_server, _therapist(world))

    card = page.locator(f'.triage-card[data-citizen="{world.citizen.pk}"]')
    assert "Kræver handling" in card.inner_text() and "Smertealarm" in card.inner_text()
    assert_accessible(page)

    card.get_by_role("link", name=world.citizen.full_name).click()
    page.wait_for_url(f"{live_server.url}/staff/borgere/{world.citizen.pk}/")
    chart = page.get_by_role("img", name="Smerte og anstrengelse pr. dag")
    assert chart.is_visible()
    pain_table = page.locator("#pain-heading ~ table").inner_text()
    assert "8,0" in pain_table  # pain after the session that raised the alert
    assert_accessible(page)

    page.get_by_role("link", name="Ændr dosering").click()
    assert_accessible(page)
    page.get_by_label("Sæt").first.fill("0")
    page.get_by_label("Begrundelse for ændringen").fill("Smerte 8 efter træning: færre sæt.")
    page.get_by_role("button", name="Gem ny version").click()
    assert "Skal være mindst 1." in page.locator("#id_0-sets-error").inner_text()
    assert_accessible(page)  # the page with its errors
    page.get_by_label("Sæt").first.fill("1")
    page.get_by_role("button", name="Gem ny version").click()
    page.wait_for_url(f"{live_server.url}/staff/borgere/{world.citizen.pk}/#plans-heading")
    assert "Version 2" in page.locator("#plans-heading ~ article").first.inner_text()
    assert TrainingPlanVersion.objects.filter(plan=plan).count() == 2


FIRST_LOAD_BUDGET = 150 * 1024
COMPRESSIBLE = ("text/", "application/javascript", "image/svg+xml")


def _first_load_bytes(page: Any, url: str) -> tuple[int, list[str]]:
    """What a browser with an empty cache fetches to show ``url``, counted as sent compressed: text
    gzipped (as whitenoise and nginx send it), fonts as they are; pictures left out."""
    responses: list[Any] = []
    page.on("response", lambda response: responses.append(response))
    page.goto(url)
    page.wait_for_load_state("networkidle")
    total, fetched = 0, []
    for response in responses:
        content_type = response.headers.get("content-type", "")
        if content_type.startswith("image/") and "svg" not in content_type:
            continue
        body = response.body()
        total += len(gzip.compress(body)) if content_type.startswith(COMPRESSIBLE) else len(body)
        fetched.append(f"{response.status} {response.url} {len(body)}")
    return total, fetched


@pytest.mark.django_db(transaction=True)
def test_triage_first_load_is_within_150_kb_compressed(world, live_server, browser_page):
    plan_with_pain_alert(world)
    _log_in_with_the_keyboard(browser_page, live_server, _therapist(world))
    state = browser_page.context.storage_state()
    fresh = browser_page.context.browser.new_context(storage_state=state, viewport={"width": 1280, "height": 800})
    try:
        total, fetched = _first_load_bytes(fresh.new_page(), live_server.url + "/staff/")
    finally:
        fresh.close()
    assert all(line.startswith("200 ") for line in fetched), fetched
    assert total <= FIRST_LOAD_BUDGET, (total, fetched)


@pytest.mark.django_db(transaction=True)
def test_work_lists_and_a_request_answered_from_the_inbox(world, live_server, browser_page):
    page = browser_page
    item = CitizenRequestFactory(citizen=world.citizen, team=world.team, text="Må jeg springe gåturen over?")
    plan_with_pain_alert(world)
    _log_in_with_the_keyboard(page, live_server, _therapist(world))
    page.get_by_role("link", name="Alarmer og opgaver").click()
    assert "Træningsalarmer" in page.content()
    assert_accessible(page)
    page.get_by_role("link", name="Henvendelser").click()
    assert_accessible(page)
    page.get_by_role("link", name=world.citizen.full_name).click()
    assert "Må jeg springe gåturen over?" in page.content()
    assert_accessible(page)
    page.get_by_label("Svar til borgeren").fill("Ja, i denne uge. Vi ses torsdag.")
    page.get_by_role("button", name="Send svar").click()
    page.wait_for_load_state()
    assert "Ja, i denne uge. Vi ses torsdag." in page.content()
    item.refresh_from_db()
    assert item.status == CitizenRequest.Status.ANSWERED


@pytest.mark.django_db(transaction=True)
def test_the_open_triage_page_changes_live_when_the_citizen_logs_a_session(world, live_asgi_server, browser_page):
    page = browser_page
    plan = make_plan(episode=episode(world), title="Styrke og balance")
    _log_in_with_the_keyboard(page, live_asgi_server, _therapist(world))
    card = page.locator(f'.triage-card[data-citizen="{world.citizen.pk}"]')
    assert "I gang" not in card.inner_text()  # no session for a week: "Hold øje"
    assert "Ingen træning i en uge" in card.inner_text()
    page.wait_for_selector("html[data-live=on]")

    # The citizen logs a session through the API, as the app does; the pain reaches the stop level.
    token = access_token_for(world.citizen.user)
    body = session_body(plan, pain_before=4, pain_after=9, effort=6)
    logged = requests.post(
        f"{live_asgi_server.url}/api/v1/me/session-logs",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert logged.status_code == 201, logged.text

    # Live, without a reload: the card now says the pain alert.
    wait_for_the_pain_alert(page, world.citizen)
    assert "Kræver handling" in card.inner_text()


@pytest.mark.django_db(transaction=True)
def test_a_goal_is_rated_with_the_keyboard_only(world, live_server, browser_page):
    from selvbetjening.models import GoalRating

    page = browser_page
    rated = goal(world)
    plan_with_pain_alert(world)
    _log_in_with_the_keyboard(page, live_server, _therapist(world))
    page.goto(f"{live_server.url}/staff/borgere/{world.citizen.pk}/")
    page.get_by_role("link", name="Vurder målet").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/staff/maal/{rated.pk}/vurdering/")
    assert_accessible(page)
    page.focus("#id_rated_on")
    page.keyboard.press("Tab")  # the GAS radio group: its first choice, "not rated"
    for _ in range(3):
        page.keyboard.press("ArrowDown")  # −2, −1, 0 (expected)
    assert page.is_checked("#id_gas_score_3")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focus is visible
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")  # FSIII level 0
    page.keyboard.press("Tab")
    page.keyboard.type("6")
    page.keyboard.press("Tab")
    page.keyboard.type("7")
    page.keyboard.press("Tab")
    page.keyboard.type("Går selv ned efter avisen tre dage om ugen.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/staff/borgere/{world.citizen.pk}/#goals-heading")
    assert "Vurderingen er gemt." in page.content()
    page.get_by_role("link", name="Skift tovholder eller stedfortræder").click()
    assert_accessible(page)
    rating = GoalRating.objects.get(goal=rated)
    assert (rating.gas_score, rating.function_level, rating.copm_performance, rating.copm_satisfaction) == (0, 0, 6, 7)


@pytest.mark.django_db(transaction=True)
def test_an_episode_is_started_and_a_goal_written_with_the_keyboard_only(world, live_server, browser_page):
    from backend.timeutil import municipal_today
    from selvbetjening.models import Episode, Goal

    listed_conditions()

    page = browser_page
    _log_in_with_the_keyboard(page, live_server, _therapist(world))
    page.goto(f"{live_server.url}/staff/borgere/{world.citizen.pk}/")
    page.get_by_role("link", name="Start et forløb").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/staff/borgere/{world.citizen.pk}/nyt-forloeb/")
    assert_accessible(page)
    today = municipal_today()
    page.focus("#id_team_id")  # the one team is chosen already
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")  # the first kind: everyday rehabilitation
    page.keyboard.press("Tab")
    page.keyboard.type("Klare trapperne")
    page.keyboard.press("Tab")
    page.keyboard.type(today.strftime("%d-%m-%Y"))
    page.keyboard.press("Tab")
    page.keyboard.type((today + timedelta(days=56)).strftime("%d-%m-%Y"))
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")  # the team's one care staff member
    page.keyboard.press("Tab")  # the response time keeps its 2 working days
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/staff/borgere/{world.citizen.pk}/#episodes-heading")
    assert "Forløbet er oprettet." in page.content()
    made = Episode.objects.get(citizen=world.citizen)
    assert (made.kind, made.title, made.response_working_days) == ("everyday_rehabilitation", "Klare trapperne", 2)

    page.get_by_role("link", name="Skriv et mål med borgeren").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/staff/forloeb/{made.pk}/nyt-maal/")
    assert_accessible(page)
    page.focus("#id_description")
    page.keyboard.type("Jeg vil selv gå op og ned ad trappen")
    page.keyboard.press("Tab")  # rank 1, as suggested
    page.keyboard.press("Tab")  # due at the episode's planned end, as suggested
    page.keyboard.press("Tab")
    for _ in range(3):
        page.keyboard.press("ArrowDown")  # self-care, household tasks, mobility
    page.keyboard.press("Tab")
    for _ in range(3):
        page.keyboard.press("ArrowDown")  # Lave mad (household tasks), then Gå and Gå på trapper (mobility)
    page.keyboard.press("Tab")  # improve, as suggested
    page.keyboard.press("Tab")
    for _ in range(3):
        page.keyboard.press("ArrowDown")  # baseline level 3
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")  # target level 1
    for text in ("Kommer ikke op", "Et trin", "Hele trappen med gelænder", "Hele trappen to gange", "Uden gelænder"):
        page.keyboard.press("Tab")
        page.keyboard.type(text)
    page.keyboard.press("Tab")  # GAS at the start: −1, as suggested
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/staff/borgere/{world.citizen.pk}/#goals-heading")
    assert "Målet er gemt." in page.content()
    written = Goal.objects.get(episode=made)
    assert (written.area, written.baseline_level, written.target_level, written.baseline_gas) == ("mobility", 3, 1, -1)
    assert (written.gas_0, written.due_date) == ("Hele trappen med gelænder", made.planned_end_date)
    assert (str(written.condition_code), written.condition_display) == (
        "6c3f2a55-5b87-4d55-9b6c-0b8b6fb2c5a2",
        "Gå på trapper",
    )
