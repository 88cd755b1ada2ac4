"""The citizen app in a real browser (Debian's Chromium through Playwright) on a phone-sized screen,
with axe-core on every screen: logging in, today's training, a session logged offline and sent once,
a goal rated, a request with a photo, a relative who sees only what was granted, and the budgets.

Skipped only where /usr/bin/chromium is missing and this is not CI; in CI (CI=true) they run.
Set SCREENSHOTS_DIR to keep a picture of every screen visited.
"""

import gzip
import io
import os
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyotp
import pytest
import requests
from django.conf import settings
from django.utils import timezone
from PIL import Image

from backend import cpr
from backend.tokens import hash_secret
from notifications.models import Notification, NotificationPreference
from notifications.reminders import reminders_dispatch_due
from selvbetjening.exercise_pictures import PICTURES
from selvbetjening.models import (
    CitizenRequest,
    Exercise,
    GoalRating,
    NetworkGrant,
    NetworkInvitation,
    QuestionnaireResponse,
    SessionLog,
    TrainingSlot,
)
from selvbetjening.services.exercises import exercise_library_load
from selvbetjening.services.network import _normalised
from selvbetjening.services.slot_reminders import slot_reminders_schedule
from tests.borgerapp.helpers import PASSWORD, app_client, with_password
from tests.conftest import access_token_for
from tests.fake_oidc import CPR_CLAIM, SUBSTANTIAL, FakePerson, running_provider
from tests.selvbetjening.factories import (
    CitizenRequestFactory,
    GoalFactory,
    GoalRatingFactory,
    QuestionnaireAssignmentFactory,
    QuestionnaireVersionFactory,
)
from tests.selvbetjening.matrix_rows import episode
from tests.selvbetjening.training_factories import PlanExerciseFactory, make_plan, slot_at
from tests.staffweb.helpers import access_log_cleared_for_flush
from tests.staffweb.test_browser import live_asgi_server  # noqa: F401 — the fixture: uvicorn with websockets

CHROMIUM = Path("/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}
FIRST_LOAD_BUDGET = 200 * 1024
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "application/manifest+json", "image/svg+xml")
SCREENS = ["i-dag", "maal", "beskeder", "mere", "plan", "spoergeskemaer", "netvaerk", "hvem-har-set", "mig"]

PAIN_ITEMS = [
    {
        "link_id": "has_pain",
        "type": "boolean",
        "required": True,
        "text": {"da": "Har du ondt?", "en": "Are you in pain?"},
    },
    {
        "link_id": "pain_now",
        "type": "scale",
        "required": True,
        "min": 0,
        "max": 10,
        "text": {"da": "Hvor ondt gør det nu?", "en": "How much does it hurt now?"},
        "enable_when": [{"question": "has_pain", "operator": "=", "answer": True}],
    },
]

pytestmark = [
    pytest.mark.skipif(
        not CHROMIUM.exists() and os.environ.get("CI") != "true",
        reason="needs Debian's chromium (apt-get install chromium); required in CI",
    ),
]


@pytest.fixture
def serial_live_server(live_server) -> Iterator[Any]:
    """The live server answering one request at a time.

    On SQLite the test database is in memory, and Django's live server shares its one connection with
    every request thread; the app fetches several things at once (as it should), and two requests on
    one SQLite connection fail with InterfaceError. PostgreSQL has no such limit, but the tests run on
    both, so the requests are taken in turn here.
    """
    server = live_server.thread.httpd
    application = server.get_app()
    lock = threading.Lock()
    # Every path the server was asked for, in order: what reached the network rather than a cache.
    live_server.seen = []

    def one_at_a_time(environ: dict, start_response: Any) -> list[bytes]:
        live_server.seen.append(environ["PATH_INFO"])
        with lock:
            result = application(environ, start_response)
            try:
                return [b"".join(result)]
            finally:
                if hasattr(result, "close"):
                    result.close()

    server.set_app(one_at_a_time)
    yield live_server
    server.set_app(application)


@pytest.fixture
def browser(serial_live_server, monkeypatch) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls stay synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()
    access_log_cleared_for_flush()


def _phone(browser: Any, **options: Any) -> Any:
    options = {"viewport": PHONE, **options}
    context = browser.new_context(locale="da-DK", timezone_id="Europe/Copenhagen", **options)
    context.set_default_timeout(30_000)
    # Shown when a test fails: what the app said in the console and the errors it threw.
    context.on("console", lambda message: print("console:", message.type, message.text))
    context.on("weberror", lambda error: print("page error:", error.error))
    context.on("requestfailed", lambda request: print("failed:", request.url, request.failure))
    return context


def assert_accessible(page: Any) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()


def assert_large_targets(page: Any) -> None:
    """Every button, field, checkbox and radio line and menu link shown is at least 44 x 44 px (the issue's
    touch targets for shaky hands); text links inside a sentence are not counted."""
    small = page.evaluate(
        """() => [...document.querySelectorAll(
            "a.button, button, select, textarea, summary, .app-nav-link, .app-scale-label,"
            + " input:not([type=hidden]):not([type=checkbox]):not([type=radio]),"
            + " .form-checkbox + label, .form-radio + label"
        )].filter((element) => element.getClientRects().length).map((element) => {
            const box = element.getBoundingClientRect();
            return { text: element.textContent.trim() || element.id, width: box.width, height: box.height };
        }).filter((box) => box.width < 44 || box.height < 44)"""
    )
    assert small == [], small


def _screenshot(page: Any, name: str) -> None:
    """The whole screen in one picture, taken on a phone as tall as the page: the header and the menu, which
    stay in view while the phone scrolls, at the top and the foot (a full-page capture of the phone's own
    height paints them over the page's middle)."""
    folder = os.environ.get("SCREENSHOTS_DIR")
    if folder:
        size = page.viewport_size
        height = page.evaluate("document.documentElement.scrollHeight")
        page.set_viewport_size({"width": size["width"], "height": max(size["height"], height)})
        page.screenshot(path=str(Path(folder) / f"{name}.png"))
        page.set_viewport_size(size)


def _log_in(page: Any, live_server: Any, user: Any) -> None:
    page.goto(live_server.url + "/app/")
    assert page.url == live_server.url + "/app/log-ind/"
    assert_accessible(page)
    _fill_login(page, user)
    page.wait_for_url(live_server.url + "/app/")


def _fill_login(page: Any, user: Any, code: str | None = None) -> None:
    page.get_by_label("Brugernavn").fill(user.username)
    page.get_by_label("Adgangskode").fill(PASSWORD)
    page.get_by_label("Engangskode").fill(code or pyotp.TOTP(user.totp_secret).now())
    page.get_by_role("button", name="Log ind").click()


def _next_code(user: Any) -> str:
    """The code of the next 30-second step: the one in use now is taken once, by the login before, and the
    login accepts a code one step ahead (clock drift), so nobody waits for the step to pass."""
    totp = pyotp.TOTP(user.totp_secret)
    return totp.at(time.time() + totp.interval)


def _logged_in(browser: Any, live_server: Any, user: Any, *, clock: bool = False, **options: Any) -> tuple[Any, Any]:
    """A phone with the app open at today, logged in as ``user`` through the form (given a password and
    a one-time code for it); with ``clock``, the phone's clock is one the test can move on."""
    context = _phone(browser, **options)
    if clock:
        context.clock.install()
    page = context.new_page()
    _log_in(page, live_server, with_password(user))
    return context, page


def _with_app_login(context: Any, live_server: Any, user: Any) -> Any:
    """The browser ``context`` logged in to the app as ``user`` without the form (another device of the
    same person, or someone else's): the login cookie as the form leaves it."""
    cookie = app_client(user).cookies[settings.APP_SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.APP_SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
    return context


def _wait_for_the_worker(page: Any) -> None:
    """Until the service worker controls the page (polled: wait_for_function would need eval, which the
    app's CSP refuses)."""
    for _ in range(100):
        if page.evaluate("navigator.serviceWorker.controller !== null"):
            page.wait_for_load_state("networkidle")
            return
        page.wait_for_timeout(100)
    raise AssertionError("the service worker did not take over")


def _wait_for_the_week_kept(page: Any) -> None:
    """Until the app has kept the week ahead for offline use (the day it did so is in its storage)."""
    for _ in range(300):
        if page.evaluate("localStorage.getItem('mestring-week-kept')"):
            return
        page.wait_for_timeout(100)
    raise AssertionError("the week ahead was not kept")


def _training_today(world: Any) -> Any:
    """The world's citizen with a plan and a slot due a few minutes ago (or at midnight just after it)."""
    plan = make_plan(episode=episode(world), title="Styrke og balance")
    now = timezone.now().astimezone(ZoneInfo(plan.current_version.time_zone)).replace(tzinfo=None)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return slot_at(plan, max(now - timedelta(minutes=5), midnight))


def _log_the_training(
    page: Any, *, note: str, screenshot: str = "", button: str = "Registrér træning", **scales: int
) -> None:
    """The first slot of today (or, with ``button``, an extra training) logged without a connection: the
    scales (pain_before, pain_after, effort) and the note given; checked with axe before it is saved. It
    waits in the outbox."""
    page.get_by_role("button", name=button).first.click()
    for name, value in scales.items():
        page.locator(f"label[for={name}-{value}]").click()
    page.get_by_label("Note (frivillig)").fill(note)
    assert_accessible(page)
    assert_large_targets(page)
    if screenshot:
        _screenshot(page, screenshot)
    page.get_by_role("button", name="Gem træningen").click()
    page.get_by_text("Den sendes, når du er på nettet igen.").wait_for()


def _post_again(page: Any, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    """The same write sent once more from the page, with its cookie login and CSRF header (a retry after an
    answer lost on the way): the status and the answer."""
    return page.evaluate(
        """async ([path, body]) => {
            const token = document.cookie.match(/csrftoken=([^;]+)/)[1];
            const response = await fetch(path, {
                method: "POST", credentials: "same-origin",
                headers: {"Content-Type": "application/json", "X-CSRFToken": token},
                body: JSON.stringify(body),
            });
            return [response.status, await response.json()];
        }""",
        [path, body],
    )


def _goal_and_questionnaire(world: Any) -> tuple[Any, Any]:
    """A goal in the citizen's words and a questionnaire due with a conditional question."""
    goal = GoalFactory(episode=episode(world), description="Jeg vil selv kunne gå ned efter avisen")
    assignment = QuestionnaireAssignmentFactory(
        citizen=world.citizen,
        version=QuestionnaireVersionFactory(items=PAIN_ITEMS, scoring={"method": "sum", "link_ids": ["pain_now"]}),
    )
    return goal, assignment


def _installed_with_training_today(world: Any, live_server: Any, browser: Any, **options: Any) -> tuple[Any, Any]:
    """The citizen with a training due today, logged in on a phone whose service worker has taken over (and
    so keeps today's list)."""
    _training_today(world)
    context, page = _logged_in(browser, live_server, world.citizen.user, **options)
    page.locator(".app-slot").first.wait_for()
    _wait_for_the_worker(page)
    return context, page


def _a_training_queued_offline(world: Any, live_server: Any, browser: Any, **options: Any) -> tuple[Any, Any]:
    """The installed app that lost its connection after today's list was kept, with a training logged
    meanwhile, waiting in the outbox."""
    context, page = _installed_with_training_today(world, live_server, browser, **options)
    context.set_offline(True)
    _log_the_training(page, note="Knæet gjorde ondt.")
    return context, page


def _sent_compressed(response: Any) -> int:
    body = response.body()
    content_type = response.headers.get("content-type", "")
    return len(gzip.compress(body)) if content_type.startswith(COMPRESSIBLE) else len(body)


def _second_slot_today(slot: Any) -> Any:
    """Another slot of ``slot``'s plan earlier today (a minute after midnight's first when there is no earlier)."""
    plan = slot.plan
    local = slot.scheduled_at.astimezone(ZoneInfo(plan.current_version.time_zone)).replace(tzinfo=None)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    earlier = local - timedelta(minutes=5)
    return slot_at(plan, earlier if earlier >= midnight else local + timedelta(minutes=1))


@pytest.mark.django_db(transaction=True)
def test_three_sessions_logged_offline_survive_a_reload_and_reach_the_server_once_each(world, live_server, browser):
    first = _training_today(world)
    second = _second_slot_today(first)
    goal = GoalFactory(episode=episode(world), description="Jeg vil selv kunne gå ned efter avisen")
    GoalRatingFactory(goal=goal, gas_score=-1)
    context, page = _logged_in(browser, live_server, world.citizen.user)
    page.locator(".app-slot").first.wait_for()
    assert "Styrke og balance" in page.locator(".app-slot").first.inner_text()
    assert_accessible(page)
    _screenshot(page, "app-today")
    # The service worker has taken over (and fetched today's data again through itself, to keep, with the
    # week ahead and the goals).
    _wait_for_the_worker(page)
    _wait_for_the_week_kept(page)

    # Offline: both of today's slots and an extra training.
    context.set_offline(True)
    _log_the_training(page, note="Det gik fint.", pain_before=2, pain_after=3, effort=5, screenshot="app-log")
    _log_the_training(page, note="Anden runde.")
    _log_the_training(page, note="Ekstra på trappen.", button="Registrér ekstra træning")
    assert "3 registreringer venter på at blive sendt." in page.locator("#outbox-status").inner_text()
    assert not SessionLog.objects.filter(citizen=world.citizen).exists()

    # The app opens again without a connection: the shell, its modules and the last data from the cache.
    page.reload()
    page.locator("#queue").wait_for()
    assert page.locator("#queue .app-queue-item").count() == 3
    assert all("Venter på at blive sendt" in text for text in page.locator(".app-slot").all_inner_texts())
    connection = page.locator("#connection")
    assert connection.inner_text().startswith("Du er offline")
    # It says how old what it shows is: the kept answer's moment of fetching.
    page.wait_for_function("document.getElementById('connection').textContent.includes('hentet')")
    assert "Det viste er hentet" in connection.inner_text()
    assert_accessible(page)
    _screenshot(page, "app-offline")
    # Mine mål, never opened online, opens too: the goals and their ratings were kept with the week.
    page.get_by_role("link", name="Mine mål").click()
    page.get_by_role("heading", name="Jeg vil selv kunne gå ned efter avisen").wait_for()
    page.get_by_role("button", name="Se og vurdér").click()
    page.get_by_role("table").wait_for()
    assert "-1" in page.get_by_role("table").inner_text()
    page.get_by_role("link", name="I dag").click()
    page.locator("#queue").wait_for()

    # Back online, the first batch reaches the server but its answer is lost on the way: the app sends the
    # queue again, and the server, which knows the ids, keeps one session each.
    answers: list[int] = []

    def lose_the_first_answer(route: Any) -> None:
        if answers:
            route.continue_()
            return
        answers.append(route.fetch().status)
        route.abort("connectionreset")

    context.route("**/api/v1/me/session-logs/batch", lose_the_first_answer)
    context.set_offline(False)
    page.locator("#queue .tag-success", has_text="Sendt").nth(2).wait_for()
    assert page.locator("#outbox-status").is_hidden()
    assert answers == [200]
    logs = SessionLog.objects.filter(citizen=world.citizen)
    assert logs.count() == 3
    assert sorted(str(log.slot_id) for log in logs) == sorted([str(first.pk), str(second.pk), "None"])
    log = logs.get(note="Det gik fint.")
    assert (log.pain_before, log.pain_after, log.effort) == (2, 3, 5) and log.slot_id in (first.pk, second.pk)
    assert logs.get(slot__isnull=True).note == "Ekstra på trappen."
    context.close()


@pytest.mark.django_db(transaction=True)
def test_a_citizen_rates_a_goal_writes_a_request_with_a_photo_and_every_screen_passes_axe(
    world, live_server, browser, tmp_path
):
    _training_today(world)
    goal, assignment = _goal_and_questionnaire(world)
    context, page = _logged_in(browser, live_server, world.citizen.user)
    for screen in SCREENS:
        page.goto(f"{live_server.url}/app/#/{screen}")
        page.locator("#screen-title").wait_for()
        page.wait_for_load_state("networkidle")
        assert_accessible(page)
        assert_large_targets(page)
        _screenshot(page, f"app-{screen}")

    # A screen reader names which goal or questionnaire each of the same-worded buttons opens.
    from playwright.sync_api import expect

    page.goto(live_server.url + "/app/#/spoergeskemaer")
    title = page.locator(".app-card h2").first.inner_text()
    expect(page.get_by_role("button", name="Besvar")).to_have_accessible_description(title)
    page.goto(live_server.url + "/app/#/maal")
    expect(page.get_by_role("button", name="Se og vurdér")).to_have_accessible_description(goal.description)
    page.get_by_role("button", name="Se og vurdér").click()
    page.get_by_text("Hvor langt er du nået?").wait_for()
    page.get_by_label("+1 Går til postkassen uden rollator").check()
    page.get_by_role("button", name="Gem vurderingen").click()
    page.get_by_text("Din vurdering er gemt.").wait_for()
    assert page.locator("table tbody tr").count() == 1
    assert_accessible(page)
    _screenshot(page, "app-goal")
    rating = GoalRating.objects.get(goal=goal)
    assert rating.gas_score == 1 and rating.rater_role == "citizen"

    photo = tmp_path / "rollator.png"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "#884422").save(buffer, format="PNG")
    photo.write_bytes(buffer.getvalue())
    page.goto(live_server.url + "/app/#/beskeder")
    page.get_by_role("button", name="Skriv til din kontaktperson").click()
    page.get_by_label("Hvad drejer det sig om?").select_option("assistive_device")
    page.get_by_label("Din besked").fill("Min rollator knirker.")
    page.get_by_label("Foto (frivilligt)").set_input_files(str(photo))
    assert_accessible(page)
    page.get_by_role("button", name="Send").click()
    page.get_by_text("Din besked er sendt.").wait_for()
    request = CitizenRequest.objects.get(citizen=world.citizen)
    assert request.text == "Min rollator knirker." and request.category == "assistive_device"
    assert request.photo
    # Its thread: what was written, with the photo, and a reply.
    page.get_by_role("button", name="Læs").click()
    page.get_by_label("Skriv igen").fill("Den knirker mest om morgenen.")
    assert page.locator(".app-thread img.app-photo").count() == 1
    assert_accessible(page)
    assert_large_targets(page)
    page.get_by_role("button", name="Send").click()
    page.locator(".app-thread").get_by_text("Den knirker mest om morgenen.").wait_for()
    assert request.messages.get().text == "Den knirker mest om morgenen."

    # A questionnaire with a conditional question: shown only once its condition holds.
    page.goto(live_server.url + "/app/#/spoergeskemaer")
    page.get_by_role("button", name="Besvar").click()
    follow_up = page.locator("[data-link=pain_now]")
    follow_up.wait_for(state="hidden")
    page.get_by_role("group", name="Har du ondt?").get_by_label("Ja").check()
    follow_up.wait_for(state="visible")
    assert_accessible(page)
    page.get_by_role("group", name="Hvor ondt gør det nu?").get_by_label("3", exact=True).check()
    page.get_by_role("button", name="Send svarene").click()
    page.get_by_text("Tak. Dine svar er sendt.").wait_for()
    assignment.refresh_from_db()
    assert assignment.status == "answered"
    assert {answer["link_id"]: answer["value"] for answer in assignment.response.answers} == {
        "has_pain": True,
        "pain_now": 3,
    }
    context.close()


FOCUSED = """() => {
    const element = document.activeElement;
    const style = getComputedStyle(element);
    return {
        text: (element.innerText || "").trim(), name: element.name || "", id: element.id,
        shown: style.outlineStyle !== "none" || style.boxShadow !== "none",
    };
}"""


def _tab_to(page: Any, **wanted: str) -> None:
    """Tab (only the Tab key) until the focused element has the text, name or id wanted; a button or link
    stopped at shows that it has the focus."""
    for _ in range(80):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if all(focused[key] == value for key, value in wanted.items()):
            assert "text" not in wanted or focused["shown"], focused
            return
    raise AssertionError(f"no element with {wanted} in the tab order")


@pytest.mark.django_db(transaction=True)
def test_with_the_keyboard_only_a_citizen_logs_in_logs_a_training_and_moves_between_screens(
    world, live_server, browser
):
    _training_today(world)
    user = with_password(world.citizen.user)
    context = _phone(browser)
    page = context.new_page()
    page.goto(live_server.url + "/app/")
    page.keyboard.press("Tab")  # the skip link comes first, and shows itself
    skip = page.evaluate("document.activeElement.getBoundingClientRect().top")
    assert page.evaluate("document.activeElement.className") == "skipnav" and skip >= 0
    for text in (user.username, PASSWORD, pyotp.TOTP(user.totp_secret).now()):
        page.keyboard.press("Tab")
        page.keyboard.type(text)
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/app/")

    page.locator(".app-slot").first.wait_for()
    _tab_to(page, text="Registrér træning")
    # The screen is drawn again under the focus (here: the connection comes back, as the service worker's
    # taking over or a fresher answer does too): the focus stays on the same button of the new drawing.
    page.evaluate("document.activeElement.dataset.drawnBefore = 'yes'")
    context.set_offline(True)
    context.set_offline(False)
    page.locator("[data-drawn-before]").wait_for(state="detached")
    assert page.evaluate(FOCUSED)["text"] == "Registrér træning"
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Gem træningen").wait_for()
    # A scale is one stop in the tab order; the arrow keys choose on it.
    for scale, steps in (("pain_before", 2), ("pain_after", 1), ("effort", 5)):
        _tab_to(page, name=scale)
        for _ in range(steps):
            page.keyboard.press("ArrowRight")
    _tab_to(page, name="note")
    page.keyboard.type("Med tastaturet.")
    _tab_to(page, text="Gem træningen")
    page.keyboard.press("Enter")
    page.get_by_text("Træningen er gemt og sendt.").wait_for()
    log = SessionLog.objects.get(citizen=world.citizen)
    assert (log.pain_before, log.pain_after, log.effort, log.note) == (2, 1, 5, "Med tastaturet.")

    # The menu: the chosen screen is drawn and the focus is at its start, for the next Tab.
    _tab_to(page, text="Mine mål")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Mine mål", level=1).wait_for()
    assert page.evaluate("document.activeElement.id") == "main"
    context.close()


@pytest.mark.django_db(transaction=True)
def test_with_text_at_200_percent_every_screen_fits_a_360_px_phone(world, live_server, browser):
    _training_today(world)
    GoalFactory(episode=episode(world), description="Jeg vil selv kunne gå ned efter avisen")
    context, page = _logged_in(browser, live_server, world.citizen.user, viewport={"width": 360, "height": 640})
    # The phone's text size set to 200 % (Chromium's default font size, which DKFDS's rem sizes follow).
    context.new_cdp_session(page).send("Page.setFontSizes", {"fontSizes": {"standard": 32, "fixed": 26}})
    for screen in SCREENS:
        page.goto(f"{live_server.url}/app/#/{screen}")
        page.locator("#screen-title").wait_for()
        page.wait_for_load_state("networkidle")
        fit = page.evaluate(
            """() => ({
                root: getComputedStyle(document.documentElement).fontSize,
                sideways: document.documentElement.scrollWidth - document.documentElement.clientWidth,
                skip: document.querySelector(".skipnav").getBoundingClientRect().bottom,
                cut: [...document.querySelectorAll(".app-nav-link")].filter((link) => {
                    const box = link.getBoundingClientRect();
                    return box.left < 0 || box.right > innerWidth || link.scrollWidth > link.clientWidth;
                }).map((link) => link.textContent),
            })"""
        )
        assert fit["root"] == "20px", fit  # twice DKFDS's 10 px
        assert fit["sideways"] <= 0, (screen, fit)  # nothing to scroll sideways for
        assert fit["skip"] <= 0, (screen, fit)  # the skip link stays out of sight until it has the focus
        assert fit["cut"] == [], (screen, fit)  # the menu's links whole, though fixed at the bottom
        assert_large_targets(page)
        if os.environ.get("SCREENSHOTS_DIR"):
            page.screenshot(path=str(Path(os.environ["SCREENSHOTS_DIR"]) / f"app-200-{screen}.png"))
    context.close()


@pytest.mark.django_db(transaction=True)
def test_english_chosen_on_the_login_page_holds_in_the_app(world, live_server, browser):
    _training_today(world)
    context = _phone(browser)
    page = context.new_page()
    page.goto(live_server.url + "/app/")
    page.get_by_role("button", name="English").click()
    page.get_by_role("heading", name="Log in", level=1).wait_for()
    assert page.evaluate("document.documentElement.lang") == "en"
    assert_accessible(page)
    user = with_password(world.citizen.user)
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("One-time code").fill(pyotp.TOTP(user.totp_secret).now())
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live_server.url + "/app/")
    page.get_by_role("heading", name="Today", level=1).wait_for()
    page.get_by_role("button", name="Record training").first.wait_for()
    assert page.locator(".skipnav").text_content() == "Skip to content"
    page.get_by_role("navigation", name="Main menu").wait_for()
    context.close()


@pytest.mark.django_db(transaction=True)
def test_english_chosen_on_mig_reaches_the_shell_the_service_worker_kept_in_danish(world, live_server, browser):
    _training_today(world)
    context, page = _logged_in(browser, live_server, world.citizen.user)
    page.locator(".app-slot").first.wait_for()
    _wait_for_the_worker(page)
    assert page.locator(".skipnav").text_content() == "Gå til sidens indhold"
    page.goto(live_server.url + "/app/#/mig")
    page.get_by_label("English").check()  # reloads the app: the shell comes from the worker, as kept in Danish
    page.get_by_role("heading", name="Me", level=1).wait_for()
    assert page.evaluate("navigator.serviceWorker.controller !== null")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.locator(".skipnav").text_content() == "Skip to content"
    page.get_by_role("navigation", name="Main menu").wait_for()
    assert_accessible(page)
    context.close()


@pytest.mark.django_db(transaction=True)
def test_a_relative_sees_only_the_citizen_who_granted_access_and_only_what_was_granted(world, live_server, browser):
    GoalFactory(episode=episode(world), description="Jeg vil selv kunne gå ned efter avisen")
    NetworkGrant.objects.filter(relative=world.relative_with_consent).update(
        can_send_encouragement=False, can_log_sessions=False
    )
    context, page = _logged_in(browser, live_server, world.relative_with_consent.user)
    page.locator(".app-card").first.wait_for()
    text = page.locator("#main").inner_text()
    assert world.citizen.given_name in text and "Jeg vil selv kunne gå ned efter avisen" in text
    assert world.other_citizen.given_name not in text
    assert page.get_by_text("Send en opmuntring").count() == 0
    assert page.locator(".app-nav-link").all_inner_texts() == ["Mine borgere", "Beskeder", "Mig"]
    assert_accessible(page)
    assert_large_targets(page)
    _screenshot(page, "app-relative")
    page.get_by_role("link", name="Beskeder").click()
    page.get_by_text("Påmindelser og beskeder").wait_for()
    assert page.get_by_role("button", name="Skriv til din kontaktperson").count() == 0
    assert_accessible(page)
    # Mig: the relative chooses the reminders a relative gets (not the citizen's own).
    page.get_by_role("link", name="Mig").click()
    reminder = page.get_by_label("Når en, jeg støtter, skal træne")
    reminder.wait_for()
    assert page.get_by_label("Når det er tid til træning").count() == 0
    assert_accessible(page)
    assert_large_targets(page)
    reminder.uncheck()
    page.get_by_role("button", name="Gem").click()
    page.get_by_text("Det er gemt.").wait_for()
    chosen = NotificationPreference.objects.get(
        user=world.relative_with_consent.user, kind="reminder.training_relative"
    )
    assert chosen.is_muted

    # The citizen stops the access on Mit netværk: the relative's next look shows nothing of them.
    citizen_phone = _with_app_login(_phone(browser), live_server, world.citizen.user)
    network = citizen_phone.new_page()
    network.goto(live_server.url + "/app/#/netvaerk")
    # First an invitation: a code to share, what it allows and until when; then withdrawn again.
    network.get_by_label("Hvem inviterer du?").fill("Min nabo Karl")
    network.get_by_role("button", name="Lav en kode").click()
    network.get_by_text("Giv denne kode til Min nabo Karl:").wait_for()
    code = network.locator(".app-code-value").inner_text()
    # The code shown is the invitation's (only its hash is kept).
    invitation = NetworkInvitation.objects.get(citizen=world.citizen, label="Min nabo Karl")
    assert invitation.code_hash == hash_secret(_normalised(code))
    assert invitation.can_view_progress and not invitation.can_log_sessions
    assert_accessible(network)
    assert_large_targets(network)
    network.get_by_role("button", name="Træk tilbage").click()
    network.get_by_text("Invitationen er trukket tilbage.").wait_for()
    assert NetworkInvitation.objects.get(citizen=world.citizen, label="Min nabo Karl").withdrawn_at is not None
    network.once("dialog", lambda dialog: dialog.accept())
    network.get_by_role("button", name="Stop adgangen nu").click()
    network.get_by_text("Adgangen er stoppet.").wait_for()
    citizen_phone.close()
    page.get_by_role("link", name="Mine borgere").click()
    page.get_by_text("Ingen har givet dig adgang endnu.").wait_for()
    text = page.locator("#main").inner_text()
    assert world.citizen.given_name not in text and "gå ned efter avisen" not in text
    context.close()


SHOWN_AT = """new MutationObserver((changes, observer) => {
    if (document.querySelector(".app-slot")) {
        window.todayShownAt = performance.now();
        observer.disconnect();
    }
}).observe(document, {childList: true, subtree: true});"""


@pytest.mark.django_db(transaction=True)
def test_the_installed_app_opens_today_at_4x_cpu_throttling_and_the_first_load_is_within_200_kb(
    world,
    live_asgi_server,  # noqa: F811
    browser,
):
    live_server = live_asgi_server  # the platform as `make run` serves it (uvicorn), not the test WSGI server
    _training_today(world)
    context, page = _logged_in(browser, live_server, world.citizen.user)
    _wait_for_the_worker(page)
    cookies = context.cookies()

    # Opening the installed app, as the citizen does every day, on a phone four times slower than this
    # machine: the moment the first slot is in the page, measured inside the page from navigation start.
    # The time is printed, not asserted: a timing depends on what else the machine runs, so the 1 s budget
    # is read from this output on a quiet machine; what must hold anywhere is that the list appears.
    timings = []
    for _ in range(3):
        page = context.new_page()
        context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": 4})
        page.add_init_script(SHOWN_AT)
        page.goto(live_server.url + "/app/")
        page.locator(".app-slot").first.wait_for()
        timings.append(page.evaluate("window.todayShownAt"))
        page.close()
    print("today's list shown after " + ", ".join(f"{ms:.0f}" for ms in timings) + " ms at 4x CPU throttling")
    assert all(ms > 0 for ms in timings)  # shown, on every opening
    context.close()

    # The first load: a fresh browser with the login's cookie and nothing cached or installed.
    fresh = _phone(browser, service_workers="block")
    fresh.add_cookies(cookies)
    page = fresh.new_page()
    responses: list[Any] = []
    page.on("response", lambda response: responses.append(response))
    page.goto(live_server.url + "/app/")
    page.locator(".app-slot").first.wait_for()
    page.wait_for_load_state("networkidle")
    counted = [
        response
        for response in responses
        if not response.headers.get("content-type", "").startswith(("image/png", "image/jpeg", "image/webp"))
        and "/api/v1/exercise-images/" not in response.url
    ]
    total = sum(_sent_compressed(response) for response in counted)
    listing = "\n".join(f"{response.status} {response.url}" for response in counted)
    print(f"first load: {total} bytes compressed\n{listing}")
    assert total <= FIRST_LOAD_BUDGET, f"{total} bytes:\n{listing}"
    fresh.close()


@pytest.mark.django_db(transaction=True)
def test_an_answer_reaches_the_open_inbox_over_the_websocket(world, live_asgi_server, browser):  # noqa: F811
    request = CitizenRequestFactory(citizen=world.citizen, team=world.team, episode=episode(world))
    context, page = _logged_in(browser, live_asgi_server, world.citizen.user)
    page.goto(live_asgi_server.url + "/app/#/beskeder")
    page.get_by_text("Ingen beskeder.").wait_for()
    _wait_for_the_worker(page)  # its first take-over fetches the screen again; after it, only the socket can
    page.locator("html[data-live=on]").wait_for()

    # The contact person answers through the API; the app hears of it on the open socket, by id only.
    answered = requests.post(
        f"{live_asgi_server.url}/api/v1/staff/requests/{request.pk}/messages",
        json={"text": "Vi kommer og ser på den i morgen."},
        headers={"Authorization": f"Bearer {access_token_for(world.staff_in_team.user, 'staff')}"},
        timeout=60,
    )
    assert answered.status_code == 201, answered.text
    page.get_by_text("Du har fået svar på din henvendelse.").wait_for(timeout=15_000)
    page.locator(".app-badge").wait_for(timeout=15_000)
    assert "1 ulæst" in page.locator("#nav").inner_text()
    assert_accessible(page)
    context.close()


@pytest.mark.django_db(transaction=True)
def test_an_extra_training_with_two_plans_in_force_is_logged_on_the_plan_the_citizen_chooses(
    world, live_server, browser
):
    _training_today(world)
    walking = make_plan(episode=episode(world), title="Gåtur med stav")
    context, page = _logged_in(browser, live_server, world.citizen.user)
    page.get_by_role("button", name="Registrér ekstra træning").click()
    page.get_by_role("heading", name="Hvilken plan trænede du efter?").wait_for()
    assert page.evaluate("document.activeElement.id") == "which-plan"
    assert_accessible(page)
    assert_large_targets(page)
    page.get_by_role("button", name="Gåtur med stav").click()
    page.get_by_text("Ekstra træning: Gåtur med stav").wait_for()
    page.get_by_role("button", name="Gem træningen").click()
    page.get_by_text("Træningen er gemt og sendt.").wait_for()
    log = SessionLog.objects.get(citizen=world.citizen)
    assert log.plan_id == walking.pk and log.slot_id is None
    context.close()


@pytest.mark.django_db(transaction=True)
def test_a_reminder_due_while_the_app_is_open_arrives_over_the_websocket_and_is_shown(
    world,
    live_asgi_server,  # noqa: F811
    browser,
):
    slot = _training_today(world)
    context, page = _logged_in(browser, live_asgi_server, world.citizen.user)
    page.locator(".app-slot").first.wait_for()
    _wait_for_the_worker(page)
    page.locator("html[data-live=on]").wait_for()

    # The slot's reminder falls due; the worker sends it (here in the server, as the embedded worker does).
    slot_reminders_schedule(TrainingSlot.objects.filter(pk=slot.pk))
    live_asgi_server.run(reminders_dispatch_due, worker_id="browser-test")
    assert Notification.objects.filter(recipient=world.citizen.user, kind="reminder.training").count() == 1
    notice = page.locator("#live-notice")
    notice.get_by_text("Det er tid til din træning.").wait_for(timeout=15_000)
    assert "1 ulæst" in page.locator("#nav").inner_text()
    assert_accessible(page)
    assert_large_targets(page)
    _screenshot(page, "app-reminder")

    # Its way to the inbox, where it is listed; the notice is gone.
    notice.get_by_role("link", name="Se beskeder").click()
    page.get_by_role("heading", name="Beskeder", level=1).wait_for()
    assert page.locator("#main").get_by_text("Det er tid til din træning.").count() == 1
    assert notice.inner_text() == ""
    context.close()


@pytest.mark.django_db(transaction=True)
def test_a_session_logged_in_the_app_reaches_the_therapists_open_triage_page_live(
    world,
    live_asgi_server,  # noqa: F811
    browser,
):
    from tests.staffweb.test_browser import _log_in_with_the_keyboard, _therapist, wait_for_the_pain_alert

    _training_today(world)
    staff = browser.new_context(viewport={"width": 1280, "height": 800}, locale="da-DK")
    triage = staff.new_page()
    _log_in_with_the_keyboard(triage, live_asgi_server, _therapist(world))
    card = triage.locator(f'.triage-card[data-citizen="{world.citizen.pk}"]')
    assert "Smertealarm" not in card.inner_text()
    triage.wait_for_selector("html[data-live=on]")

    # borger1 logs in, sees today and logs the session with the pain at the stop level.
    context, page = _logged_in(browser, live_asgi_server, world.citizen.user)
    page.get_by_role("button", name="Registrér træning").click()
    for name, value in (("pain_before", 4), ("pain_after", 9), ("effort", 6)):
        page.locator(f"label[for={name}-{value}]").click()
    page.get_by_role("button", name="Gem træningen").click()
    page.get_by_text("Træningen er gemt og sendt.").wait_for()

    # The therapist's open page changes without a reload.
    wait_for_the_pain_alert(triage, world.citizen)
    assert "Kræver handling" in card.inner_text()
    context.close()
    staff.close()


def _shipped_training_today(world: Any, settings: Any, tmp_path: Path) -> Any:
    """A slot due now of a plan with two shipped exercises (with their drawings): heel raises held and
    with a load, and a timed walk."""
    settings.MEDIA_ROOT = tmp_path
    exercise_library_load()
    plan = make_plan(episode=episode(world), title="Hjemmetræning", exercises=0)
    PlanExerciseFactory(
        version=plan.current_version,
        position=0,
        exercise=Exercise.objects.get(slug="heel-raises"),
        sets=2,
        repetitions=10,
        hold_seconds=5,
        load_kg=2.5,
    )
    PlanExerciseFactory(
        version=plan.current_version,
        position=1,
        exercise=Exercise.objects.get(slug="walking"),
        sets=None,
        repetitions=None,
        duration_seconds=600,
    )
    now = timezone.now().astimezone(ZoneInfo(plan.current_version.time_zone)).replace(tzinfo=None)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return slot_at(plan, max(now - timedelta(minutes=5), midnight))


def _pictures_shown(page: Any) -> list[dict[str, Any]]:
    return page.evaluate(
        """() => [...document.querySelectorAll("img.app-exercise-image")].map((image) => ({
            alt: image.alt, loaded: image.complete && image.naturalWidth > 0, src: image.getAttribute("src"),
        }))"""
    )


@pytest.mark.django_db(transaction=True)
def test_today_shows_the_exercise_drawings_with_words_and_logs_hold_time_and_load(
    world, live_server, browser, settings, tmp_path
):
    slot = _shipped_training_today(world, settings, tmp_path)
    context, page = _logged_in(browser, live_server, world.citizen.user)
    page.locator(".app-slot img.app-exercise-image").first.wait_for()
    page.wait_for_load_state("networkidle")
    shown = _pictures_shown(page)
    expected = [PICTURES[slug].start_da for slug in ("heel-raises", "walking")]
    assert [picture["alt"] for picture in shown] == [
        PICTURES["heel-raises"].start_da,
        PICTURES["heel-raises"].end_da,
        PICTURES["walking"].start_da,
        PICTURES["walking"].end_da,
    ]
    assert all(picture["loaded"] for picture in shown), shown
    assert len({picture["src"] for picture in shown}) == 4
    # The dosage in Danish words and numbers: a decimal comma.
    assert "2 sæt × 10 gentagelser · hold 5 sekunder · 2,5 kg" in page.locator(".app-dosage").first.inner_text()
    assert_accessible(page)
    _screenshot(page, "app-today-pictures")

    page.goto(live_server.url + "/app/#/plan")
    page.locator(".app-week-exercise img").first.wait_for()
    page.locator(".app-today .app-week-exercise img").first.scroll_into_view_if_needed()
    page.wait_for_load_state("networkidle")
    today_in_week = page.locator(".app-today .app-week-exercise img")
    assert [today_in_week.nth(index).get_attribute("alt") for index in range(2)] == expected
    assert today_in_week.first.evaluate("(image) => image.complete && image.naturalWidth > 0")
    assert_accessible(page)

    page.goto(live_server.url + "/app/#/i-dag")
    page.get_by_role("button", name="Registrér træning").click()
    assert page.get_by_label("Hold (sekunder)").input_value() == "5"
    assert page.get_by_label("Vægt (kg)").input_value() == "2.5"
    assert page.get_by_label("Tid (minutter)").input_value() == "10"
    # Only what the exercise's dosage has: the heel raises are not timed, the walk has no load, no sets and
    # no repetitions.
    assert page.get_by_label("Hold (sekunder)").count() == 1 and page.get_by_label("Vægt (kg)").count() == 1
    assert page.get_by_label("Sæt").count() == 1 and page.get_by_label("Gentagelser").count() == 1
    assert page.locator("#sets-1, #reps-1").count() == 0
    assert_accessible(page)
    _screenshot(page, "app-log-dosage")
    page.get_by_label("Hold (sekunder)").fill("8")
    page.get_by_label("Vægt (kg)").fill("3.5")
    page.get_by_label("Tid (minutter)").fill("12")
    page.get_by_role("button", name="Gem træningen").click()
    page.get_by_text("Træningen er gemt og sendt.").wait_for()
    log = SessionLog.objects.get(citizen=world.citizen)
    assert log.slot_id == slot.pk
    done = {item.exercise.slug: item for item in log.exercises.select_related("exercise")}
    assert (done["heel-raises"].hold_seconds, float(done["heel-raises"].load_kg)) == (8, 3.5)
    assert done["heel-raises"].duration_seconds is None
    assert done["walking"].duration_seconds == 720 and done["walking"].load_kg is None
    assert done["walking"].sets is None and done["walking"].repetitions is None
    context.close()


@pytest.mark.django_db(transaction=True)
def test_a_rating_made_offline_waits_is_sent_once_and_a_refused_answer_is_shown(world, live_server, browser):
    goal, assignment = _goal_and_questionnaire(world)
    context, page = _logged_in(browser, live_server, world.citizen.user)
    _wait_for_the_worker(page)
    # Seen once with a connection, so the service worker has the questionnaire for the offline visit.
    page.goto(live_server.url + "/app/#/spoergeskemaer")
    page.get_by_role("button", name="Besvar").click()
    page.get_by_role("group", name="Har du ondt?").wait_for()
    page.goto(live_server.url + "/app/#/maal")
    page.get_by_role("button", name="Se og vurdér").click()
    page.get_by_text("Hvor langt er du nået?").wait_for()

    context.set_offline(True)
    page.get_by_label("+1 Går til postkassen uden rollator").check()
    page.get_by_role("button", name="Gem vurderingen").click()
    page.get_by_text("Din vurdering er gemt på telefonen.").wait_for()
    page.locator("#queue .tag-info", has_text="Venter på at blive sendt").wait_for()
    assert "Vurdering af mål: Jeg vil selv kunne gå ned efter avisen" in page.locator("#queue").inner_text()
    assert "1 registrering venter på at blive sendt." in page.locator("#outbox-status").inner_text()
    assert not GoalRating.objects.filter(goal=goal).exists()
    assert_accessible(page)
    _screenshot(page, "app-rating-waiting")

    # A questionnaire answered offline while the same questionnaire is answered elsewhere meanwhile.
    page.goto(live_server.url + "/app/#/spoergeskemaer")
    page.get_by_role("button", name="Besvar").click()
    page.get_by_role("group", name="Har du ondt?").get_by_label("Nej").check()
    page.get_by_role("button", name="Send svarene").click()
    page.get_by_text("Dine svar er gemt på telefonen").wait_for()
    elsewhere = requests.post(
        f"{live_server.url}/api/v1/me/questionnaires/{assignment.pk}/response",
        json={"answers": [{"link_id": "has_pain", "value": True}, {"link_id": "pain_now", "value": 2}]},
        headers={"Authorization": f"Bearer {access_token_for(world.citizen.user)}"},
        timeout=60,
    )
    assert elsewhere.status_code == 201, elsewhere.text

    context.set_offline(False)
    page.locator("#queue .tag-error", has_text="Ændret et andet sted").wait_for()
    assert "Spørgeskemaet er allerede besvaret." in page.locator("#queue").inner_text()
    assert "1 blev ikke modtaget" in page.locator("#outbox-status").inner_text()
    assert_accessible(page)
    _screenshot(page, "app-answer-refused")
    assert QuestionnaireResponse.objects.filter(assignment=assignment).count() == 1
    page.get_by_role("button", name="Fjern").click()
    page.locator("#queue").wait_for(state="detached")

    page.goto(live_server.url + "/app/#/maal")
    page.locator("#queue .tag-success", has_text="Sendt").wait_for()
    rating = GoalRating.objects.get(goal=goal)
    assert rating.gas_score == 1 and rating.rater_role == "citizen"
    # Sent again (an answer lost on the way): the same id, and it stays one rating.
    again, _ = _post_again(
        page, f"/api/v1/me/goals/{goal.pk}/ratings", {"id": str(rating.pk), "gas_score": 1, "note": ""}
    )
    assert again == 200
    assert GoalRating.objects.filter(goal=goal).count() == 1
    context.close()


@pytest.mark.django_db(transaction=True)
def test_a_relative_with_the_logging_grant_logs_a_session_for_the_citizen(
    world, live_server, browser, settings, tmp_path
):
    slot = _shipped_training_today(world, settings, tmp_path)
    context, page = _logged_in(browser, live_server, world.relative_with_consent.user)
    name = world.citizen.given_name
    page.get_by_role("button", name=f"Registrér træningen for {name}").wait_for()
    assert PICTURES["heel-raises"].start_da in [picture["alt"] for picture in _pictures_shown(page)]
    assert_accessible(page)
    _screenshot(page, "app-relative-training")
    page.get_by_role("button", name=f"Registrér træningen for {name}").click()
    page.locator("label[for=effort-4]").click()
    assert_accessible(page)
    page.get_by_role("button", name="Gem træningen").click()
    page.get_by_text(f"Træningen er registreret for {name}.").wait_for()
    log = SessionLog.objects.get(citizen=world.citizen)
    assert log.slot_id == slot.pk and log.effort == 4 and log.logged_by_role == "relative"

    # The grant no longer allows logging: the training and its button are gone on the next visit.
    NetworkGrant.objects.filter(relative=world.relative_with_consent).update(can_log_sessions=False)
    page.reload()
    page.locator(".app-card").first.wait_for()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("button", name=f"Registrér træningen for {name}").count() == 0
    assert "træning i dag" not in page.locator("#main").inner_text()
    context.close()


@pytest.mark.django_db(transaction=True)
def test_mitid_login_from_another_site_ends_in_the_app_with_its_strict_cookie(world, live_server, browser, settings):
    citizen = world.citizen
    with running_provider() as provider:
        provider.register_client("mestring-app", "citizen-secret", f"{live_server.url}/api/v1/auth/citizen/callback")
        settings.PUBLIC_BASE_URL = live_server.url
        settings.OIDC_PROVIDERS = {
            **settings.OIDC_PROVIDERS,
            "citizen": {
                "issuer": provider.issuer,  # http://127.0.0.1:…, another site than http://localhost:…
                "client_id": "mestring-app",
                "client_secret": "citizen-secret",
                "scope": "openid mitid",
                "accepted_acr": [SUBSTANTIAL],
                "cpr_claim": CPR_CLAIM,
                "name_claim": "name",
            },
        }
        digits = cpr.decrypt(citizen.cpr_ciphertext).digits
        provider.next_person = FakePerson(sub="mitid-sub-1", name="Inger Holm", cpr=f"{digits[:6]}-{digits[6:]}")
        # The person approves on the provider's own page: the way back is a navigation another site
        # starts, which carries no SameSite=Strict cookie.
        provider.asks_for_approval = True
        context = _phone(browser)
        page = context.new_page()
        page.goto(live_server.url + "/app/log-ind/")
        assert_accessible(page)
        page.get_by_role("link", name="Log ind med MitID").click()
        page.get_by_role("link", name="Godkend").click()
        # Through the provider and back; the callback's page moves on to the app, which opens logged in.
        page.wait_for_url(live_server.url + "/app/")
        page.locator("#screen-title", has_text="I dag").wait_for()
        cookie = next(item for item in context.cookies() if item["name"] == settings.APP_SESSION_COOKIE_NAME)
        assert cookie["sameSite"] == "Strict" and cookie["httpOnly"]
        assert settings.SESSION_COOKIE_NAME not in {item["name"] for item in context.cookies()}
        context.close()


def _storage(page: Any) -> dict[str, Any]:
    """What the app keeps in this browser: its caches, its localStorage keys and its IndexedDB databases."""
    return page.evaluate(
        """async () => ({
            caches: (await caches.keys()).filter((name) => name.startsWith("mestring-")),
            local: Object.keys(localStorage).filter((key) => key.startsWith("mestring-")),
            databases: (await indexedDB.databases()).map((database) => database.name),
        })"""
    )


@pytest.mark.django_db(transaction=True)
def test_a_repeat_visit_takes_the_shell_from_the_service_worker_without_asking_the_server(world, live_server, browser):
    context, page = _installed_with_training_today(world, live_server, browser)

    # The citizen opens the app again: the shell, its styles, modules and fonts come from the service worker.
    live_server.seen.clear()
    again = context.new_page()
    response = again.goto(live_server.url + "/app/")
    again.locator(".app-slot").first.wait_for()
    again.wait_for_load_state("networkidle")
    assert response is not None and response.from_service_worker
    # The browser's own check for a new version of the worker (/app/sw.js) is the only non-data request.
    shell_requests = [
        path for path in live_server.seen if not path.startswith(("/api/", "/ws/")) and path != "/app/sw.js"
    ]
    assert shell_requests == [], live_server.seen
    assert "/api/v1/me/today" in live_server.seen  # the list shown from the kept copy is refreshed
    assert "Styrke og balance" in again.locator(".app-slot").first.inner_text()

    # And without a connection it opens as well, with the last known list.
    context.set_offline(True)
    again.reload()
    again.locator(".app-slot").first.wait_for()
    assert "Styrke og balance" in again.locator(".app-slot").first.inner_text()
    # The kept list is drawn at once; the banner follows where the browser knows it is offline, else as
    # soon as the first request finds no connection (this Chromium may call itself online after a reload
    # without one).
    again.locator("#connection", has_text="Du er offline").wait_for()
    assert again.locator("#connection").inner_text().startswith("Du er offline")
    context.close()


@pytest.mark.django_db(transaction=True)
def test_signing_out_leaves_nothing_of_the_citizen_and_the_app_then_opens_at_the_login(world, live_server, browser):
    context, page = _installed_with_training_today(world, live_server, browser)
    kept = _storage(page)
    assert "mestring-data" in kept["caches"] and "mestring-identity" in kept["local"]

    page.goto(live_server.url + "/app/#/mig")
    page.get_by_role("button", name="Log ud på denne enhed").click()
    page.wait_for_url(live_server.url + "/app/log-ind/?logget-ud=her")
    page.get_by_role("status").get_by_text("Du er logget ud.").wait_for()
    assert_accessible(page)
    _screenshot(page, "app-signed-out")
    left = _storage(page)
    assert left["caches"] == [] and left["local"] == [] and "mestring" not in left["databases"], left

    # The next person on the tablet opens the app: the login, not the previous citizen's today.
    page.goto(live_server.url + "/app/")
    assert page.url == live_server.url + "/app/log-ind/"
    assert page.locator(".app-slot").count() == 0
    context.close()


@pytest.mark.django_db(transaction=True)
def test_a_401_to_a_request_under_way_while_signing_out_still_ends_at_the_signed_out_page(world, live_server, browser):
    # The service worker is kept out, so every request of the page meets the routes below.
    context, page = _logged_in(browser, live_server, world.citizen.user, service_workers="block")
    page.goto(live_server.url + "/app/#/mig")
    page.get_by_role("button", name="Gem").wait_for()
    held: dict[str, Any] = {}

    def hold_the_writes(route: Any) -> None:
        if route.request.method in ("PUT", "POST"):
            held[route.request.method] = route
        else:
            route.continue_()

    context.route("**/api/v1/me/notification-preferences", hold_the_writes)
    context.route("**/app/log-ud/", hold_the_writes)
    asked: list[str] = []
    context.on("request", lambda request: asked.append(request.url))

    # A save under way (held), then "Log ud" (its POST held too); the save then meets the login's end.
    page.get_by_role("button", name="Gem").click()
    # Dispatched, not clicked: a click waits for the navigation it starts, and this one is held.
    page.get_by_role("button", name="Log ud på denne enhed").dispatch_event("click")
    for _ in range(300):
        if "PUT" in held and "POST" in held:
            break
        page.wait_for_timeout(100)
    assert sorted(held) == ["POST", "PUT"], held
    held["PUT"].fulfill(status=401, content_type="application/problem+json", body='{"code": "not_authenticated"}')
    page.wait_for_timeout(1000)
    assert not [url for url in asked if url.endswith("/app/log-ind/")], asked

    held["POST"].continue_()
    page.wait_for_url(live_server.url + "/app/log-ind/?logget-ud=her")
    page.get_by_role("status").get_by_text("Du er logget ud.").wait_for()
    context.close()


@pytest.mark.django_db(transaction=True)
def test_a_login_ended_on_the_server_leads_to_the_login_at_the_next_api_call_and_its_data_is_forgotten(
    world, live_server, browser
):
    from django.contrib.sessions.models import Session

    _training_today(world)
    GoalFactory(episode=episode(world), description="Jeg vil selv kunne gå ned efter avisen")
    context, page = _logged_in(browser, live_server, world.citizen.user)
    page.locator(".app-slot").first.wait_for()
    _wait_for_the_worker(page)
    assert "mestring-data" in _storage(page)["caches"]

    Session.objects.all().delete()  # the login's server side is gone (expired, or ended elsewhere)
    page.get_by_role("link", name="Mine mål").click()
    page.wait_for_url(live_server.url + "/app/log-ind/")
    left = _storage(page)
    assert "mestring-data" not in left["caches"] and "mestring-identity" not in left["local"], left
    assert "mestring" not in left["databases"], left

    # Logged in again (with the next one-time code: a code is taken once), the app opens from the kept
    # shell and shows this login's data.
    _fill_login(page, world.citizen.user, _next_code(world.citizen.user))
    page.wait_for_url(live_server.url + "/app/")
    page.locator(".app-slot").first.wait_for()
    context.close()


@pytest.mark.django_db(transaction=True)
def test_a_refused_questionnaire_answer_keeps_and_shows_the_field_errors(world, live_server, browser):
    version = QuestionnaireVersionFactory(items=PAIN_ITEMS, scoring={"method": "sum", "link_ids": ["pain_now"]})
    QuestionnaireAssignmentFactory(citizen=world.citizen, version=version)
    context, page = _logged_in(browser, live_server, world.citizen.user)
    page.goto(live_server.url + "/app/#/spoergeskemaer")
    page.get_by_role("button", name="Besvar").click()
    page.get_by_role("group", name="Har du ondt?").get_by_label("Ja").check()
    # Meanwhile the questionnaire's scale is narrowed on the server: the answer no longer fits it.
    narrowed = [PAIN_ITEMS[0], {**PAIN_ITEMS[1], "max": 2}]
    type(version).objects.filter(pk=version.pk).update(items=narrowed)
    page.get_by_role("group", name="Hvor ondt gør det nu?").get_by_label("3", exact=True).check()
    page.get_by_role("button", name="Send svarene").click()

    beside = page.locator("[data-link=pain_now] .form-error-message")
    beside.wait_for()
    assert beside.inner_text() == "må højst være 2"
    summary = page.locator(".app-form [role=alert]").inner_text()
    assert "Hvor ondt gør det nu?: må højst være 2" in summary
    assert_accessible(page)

    # Kept with the item in the outbox: listed with the same errors on the questionnaires' screen.
    page.reload()
    page.get_by_role("heading", name="Spørgeskemaer", level=1).wait_for()
    page.locator("#queue .tag-error").wait_for()
    assert "må højst være 2" in page.locator("#queue .app-refused-errors").inner_text()
    assert_accessible(page)
    context.close()


@pytest.mark.django_db(transaction=True)
def test_after_a_login_ended_the_next_person_on_the_device_neither_sees_nor_sends_what_the_last_one_queued(
    world, live_server, browser
):
    from django.contrib.sessions.models import Session

    context, page = _a_training_queued_offline(world, live_server, browser)

    # The login ends while the phone is offline; back online, sending meets the 401: the app says what was
    # not sent, forgets it with the rest, and leads to the login.
    Session.objects.all().delete()
    context.set_offline(False)
    _assert_ended_with_one_not_sent(page, "Styrke og balance")
    page.get_by_role("link", name="Log ind igen").click()
    page.wait_for_url(live_server.url + "/app/log-ind/")
    assert not SessionLog.objects.exists()

    # Someone else logs in on the same device: the app opens without the first citizen's queued session.
    _fill_login(page, with_password(world.other_citizen.user))
    page.wait_for_url(live_server.url + "/app/")
    page.locator("#screen-title", has_text="I dag").wait_for()
    page.wait_for_load_state("networkidle")
    assert "Knæet" not in page.locator("body").inner_text()
    assert page.locator("#outbox-status").is_hidden() and page.locator("#queue").count() == 0
    assert (
        page.evaluate(
            """() => new Promise((resolve) => {
            const request = indexedDB.open("mestring", 1);
            request.onsuccess = () => {
                const read = request.result.transaction("outbox").objectStore("outbox").getAll();
                read.onsuccess = () => resolve(read.result.length);
            };
        })"""
        )
        == 0
    )
    assert not SessionLog.objects.exists()
    context.close()


def _assert_ended_with_one_not_sent(page: Any, label: str) -> None:
    """The app says the login ended and which entry the server never got, and has already forgotten the
    kept answers, who was logged in and the outbox (the shell, the same for everyone, stays)."""
    page.get_by_role("heading", name="Du er logget ud", level=1).wait_for()
    not_sent = page.locator("#not-sent")
    assert "1 registrering blev ikke sendt" in not_sent.inner_text()
    assert [label in line for line in not_sent.locator("li").all_inner_texts()] == [True]
    left = _storage(page)
    assert [name for name in left["caches"] if not name.startswith("mestring-shell-")] == [], left
    assert left["local"] == [] and "mestring" not in left["databases"], left
    assert page.locator(".app-slot").count() == 0 and page.locator(".app-nav-link").count() == 0


@pytest.mark.django_db(transaction=True)
def test_signed_out_on_every_device_from_another_the_first_401_forgets_everything_and_says_what_was_not_sent(
    world, live_server, browser
):
    context, page = _a_training_queued_offline(world, live_server, browser)

    # On the citizen's tablet, where the app is open too: "Log ud på alle enheder".
    tablet = _with_app_login(_phone(browser), live_server, world.citizen.user)
    other = tablet.new_page()
    other.goto(live_server.url + "/app/#/mig")
    other.get_by_role("button", name="Log ud på alle enheder").click()
    other.wait_for_url(live_server.url + "/app/log-ind/?logget-ud=alle")
    other.get_by_text("Du er logget ud på alle dine enheder.").wait_for()
    tablet.close()

    # Back online, the phone's first request meets the 401.
    context.set_offline(False)
    _assert_ended_with_one_not_sent(page, "Styrke og balance")
    assert "Du er blevet logget ud" in page.locator("#main").inner_text()
    assert_accessible(page)
    _screenshot(page, "app-signed-out-elsewhere")
    assert not SessionLog.objects.exists()

    # Opened again, the app asks the server, which sends it to the login: nothing of the citizen is drawn.
    page.goto(live_server.url + "/app/")
    page.wait_for_url(live_server.url + "/app/log-ind/")
    context.close()


def _a_session_queued_offline_in_a_login_of_an_hour(world: Any, live_server: Any, browser: Any, settings: Any) -> Any:
    """A phone whose clock the test moves on, logged in for at most an hour, that has kept today's list
    and, without a connection, logged a training that waits in the outbox."""
    settings.WEB_SESSION_POLICY = {**settings.WEB_SESSION_POLICY, "citizen": {"idle": 24 * 60, "lifetime": 60}}
    return _a_training_queued_offline(world, live_server, browser, clock=True)


@pytest.mark.django_db(transaction=True)
def test_at_the_logins_absolute_end_the_open_app_forgets_its_data_without_a_connection(
    world, live_server, browser, settings
):
    context, page = _a_session_queued_offline_in_a_login_of_an_hour(world, live_server, browser, settings)
    context.clock.fast_forward("58:00")
    assert page.locator(".app-slot").count() == 1  # still within the hour: the kept list stays

    context.clock.fast_forward("03:00")
    _assert_ended_with_one_not_sent(page, "Styrke og balance")
    main = page.locator("#main").inner_text()
    assert "Dit login er udløbet" in main and "når du er på nettet" in main
    # Offline still, but with nothing kept shown, the banner no longer dates it.
    assert (
        page.locator("#connection").inner_text()
        == "Du er offline. Det du registrerer, sendes når du er på nettet igen."
    )
    assert_accessible(page)
    _screenshot(page, "app-login-expired")
    context.close()


@pytest.mark.django_db(transaction=True)
def test_opened_after_the_logins_absolute_end_the_app_never_draws_what_it_kept(world, live_server, browser, settings):
    context, page = _a_session_queued_offline_in_a_login_of_an_hour(world, live_server, browser, settings)
    page.close()
    page = context.new_page()
    context.clock.fast_forward("01:01:00")

    # Opened again without a connection, the service worker still has the shell and the kept answers.
    page.add_init_script(SHOWN_AT)
    page.goto(live_server.url + "/app/")
    _assert_ended_with_one_not_sent(page, "Styrke og balance")
    assert page.evaluate("window.todayShownAt === undefined")  # not even for a moment
    context.close()


@pytest.mark.django_db(transaction=True)
def test_the_app_keeps_the_week_ahead_and_opens_offline_the_next_day_with_that_days_training(
    world, live_server, browser, settings, tmp_path
):
    slot = _shipped_training_today(world, settings, tmp_path)
    now = timezone.now().astimezone(ZoneInfo(slot.plan.current_version.time_zone)).replace(tzinfo=None)
    tomorrow = (now + timedelta(days=1)).replace(hour=7, minute=30, second=0, microsecond=0)
    slot_at(slot.plan, tomorrow)
    context, page = _logged_in(browser, live_server, world.citizen.user, clock=True)
    page.locator(".app-slot").first.wait_for()
    _wait_for_the_worker(page)
    # Once the service worker controls the app, the days ahead are fetched through it, and so kept.
    kept = """async (day) => Boolean(await (await caches.open("mestring-data"))
        .match(`/api/v1/me/today?date=${day}`, {ignoreVary: true}))"""
    for _ in range(300):
        if page.evaluate(kept, tomorrow.date().isoformat()):
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError("the week ahead was not kept")

    # The next morning on the bus: no connection, and the app opens with that day's training and pictures.
    context.set_offline(True)
    context.clock.fast_forward("24:00:00")
    page.reload()
    page.locator(".app-slot").first.wait_for()
    assert page.locator(".app-slot-time").all_inner_texts() == ["07.30"]
    first = page.locator("img.app-exercise-image").first
    for _ in range(100):
        if first.evaluate("(image) => image.complete && image.naturalWidth > 0"):
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError("the picture was not kept")
    assert page.locator("#connection").inner_text().startswith("Du er offline")
    context.close()
