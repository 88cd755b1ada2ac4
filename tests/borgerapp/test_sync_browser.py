"""The citizen app's kept training in a real browser (Debian's Chromium, a phone-sized screen): the app
walks GET /me/sync from its kept cursor into IndexedDB ("mestring-sync"), Min plan is drawn from it, opens
without a connection after a reload and says how old it is, a therapist's change reaches the open plan
with the next walk, and the kept training is deleted on signing out, on a 401 and at the login's end.

Skipped only where /usr/bin/chromium is missing and this is not CI; in CI (CI=true) they run.
"""

import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.utils import timezone

from selvbetjening.models import (
    Exercise,
    ExerciseImage,
    PlanExercise,
    TrainingPlan,
    TrainingPlanVersion,
    TrainingSlot,
)
from tests.borgerapp.helpers import with_password
from tests.borgerapp.test_browser import (  # noqa: F401 — pytestmark skips without Chromium
    FOCUSED,
    _log_in,
    _phone,
    _screenshot,
    _storage,
    _training_today,
    _wait_for_the_worker,
    _with_app_login,
    assert_accessible,
    pytestmark,
)
from tests.borgerapp.test_browser import browser as browser  # the fixture
from tests.borgerapp.test_browser import serial_live_server as serial_live_server  # the fixture

SYNC_PATH = "/api/v1/me/sync"
# Counts the walks the app finished (sync.js announces each with a "synced" event).
WALKS = """window.walksDone = 0;
window.addEventListener("synced", () => { window.walksDone += 1; });"""
# What the app keeps of the sync: the cursor, when the last walk began and how many items of each type.
KEPT = """async () => {
    if (!(await indexedDB.databases()).some((database) => database.name === "mestring-sync")) {
        return null;
    }
    const database = await new Promise((resolve, reject) => {
        const request = indexedDB.open("mestring-sync");
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
    });
    const read = (store, query) => new Promise((resolve) => {
        const request = database.transaction(store).objectStore(store).getAll(query);
        request.onsuccess = () => resolve(request.result);
    });
    const keys = await new Promise((resolve) => {
        const request = database.transaction("meta").objectStore("meta").getAllKeys();
        request.onsuccess = () => resolve(request.result);
    });
    const values = await read("meta");
    const meta = Object.fromEntries(keys.map((key, index) => [key, values[index]]));
    const counts = {};
    for (const record of await read("entities")) {
        counts[record.type] = (counts[record.type] || 0) + 1;
    }
    database.close();
    return { cursor: meta.cursor, synced_at: meta.synced_at, counts };
}"""
LOGIN_PAGE = re.compile(r".*/app/log-ind/.*")
HELD_LOGIN = "<!doctype html><title>Log ind (held back)</title>"


def _an_hour_old(plan: TrainingPlan) -> None:
    """Everything the sync brings of the plan made an hour ago, so that a walk now repeats none of it (the
    server sends again only what changed within its overlap before a walk's start)."""
    earlier = timezone.now() - timedelta(hours=1)
    TrainingPlan.objects.filter(pk=plan.pk).update(updated_at=earlier)
    TrainingPlanVersion.objects.filter(plan=plan).update(created_at=earlier)
    TrainingSlot.objects.filter(plan=plan).update(updated_at=earlier)
    exercises = PlanExercise.objects.filter(version__plan=plan).values("exercise_id")
    ExerciseImage.objects.filter(exercise_id__in=exercises).update(created_at=earlier)
    Exercise.objects.filter(pk__in=exercises).update(updated_at=earlier)


def _sync_answers(context: Any) -> list[Any]:
    """Every answer to GET /me/sync the phone gets, in order."""
    answers: list[Any] = []
    context.on("response", lambda response: answers.append(response) if SYNC_PATH in response.url else None)
    return answers


def _cursor_sent(response: Any) -> str | None:
    return parse_qs(urlsplit(response.url).query).get("cursor", [None])[0]


def _items(response: Any) -> dict[str, list[Any]]:
    body = response.json()
    return {name: body[name] for name in ("plans", "exercises", "goals", "slots", "session_logs")}


def _walked(page: Any, count: int) -> None:
    """Until the app has finished ``count`` walks in this page (polled: the app's CSP refuses the eval that
    wait_for_function needs)."""
    for _ in range(300):
        if page.evaluate("window.walksDone") >= count:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"the app finished {page.evaluate('window.walksDone')} walks, not {count}")


def _kept(page: Any) -> Any:
    return page.evaluate(KEPT)


def _focus_at_the_start_of_the_screen(page: Any) -> None:
    """Until the screen just moved to has the focus at its start (the app puts it there once it is drawn)."""
    for _ in range(100):
        if page.evaluate("document.activeElement.id") == "main":
            return
        page.wait_for_timeout(100)
    raise AssertionError("the focus did not move to the screen")


def _a_phone_with_the_app(browser: Any, live_server: Any, user: Any, **options: Any) -> tuple[Any, Any, list[Any]]:
    """A phone logged in to the app through the form, counting the walks and the sync's answers."""
    context = _phone(browser, **options)
    answers = _sync_answers(context)
    context.add_init_script(WALKS)
    page = context.new_page()
    _log_in(page, live_server, with_password(user))
    return context, page, answers


@pytest.mark.django_db(transaction=True)
def test_the_cursor_advances_and_the_next_walk_brings_only_what_the_therapist_changed(
    world, serial_live_server, browser
):
    live_server = serial_live_server
    plan = _training_today(world).plan
    _an_hour_old(plan)
    context, page, answers = _a_phone_with_the_app(browser, live_server, world.citizen.user)

    # At start: one walk from nothing (one answer holds it all), then one more that brings nothing new.
    _walked(page, 1)
    page.wait_for_load_state("networkidle")
    assert [_cursor_sent(answer) for answer in answers] == [None, answers[0].json()["cursor"]]
    first, second = (_items(answer) for answer in answers)
    assert [item["title"] for item in first["plans"]] == ["Styrke og balance"]
    assert len(first["exercises"]) == 2 and len(first["slots"]) == 1
    assert all(items == [] for items in second.values()), second
    kept = _kept(page)
    assert kept["cursor"] == answers[1].json()["cursor"] and kept["synced_at"]
    assert kept["counts"] == {"plan": 1, "version": 1, "exercise": 2, "slot": 1}

    # Min plan is drawn from what is kept, without asking the server again.
    page.goto(live_server.url + "/app/#/plan")
    page.locator(".app-week-slot", has_text="Styrke og balance").wait_for()
    assert page.locator("#data-age").is_hidden()  # online and fresh: no age to tell
    assert len(answers) == 2
    assert_accessible(page)
    _focus_at_the_start_of_the_screen(page)

    # The therapist renames the plan through the API; the citizen, with the keyboard on the menu, is on
    # the bus: the connection goes and comes back, and the next walk brings only the renamed plan.
    page.keyboard.press("Tab")  # from the screen's start (Min plan has nothing to press) to the menu
    assert page.evaluate(FOCUSED)["text"] == "I dag"
    staff = {"Authorization": f"Bearer {world.tokens['staff_in_team']}"}
    renamed = requests.patch(
        f"{live_server.url}/api/v1/training-plans/{plan.pk}",
        json={"version": TrainingPlan.objects.get(pk=plan.pk).version, "title": "Styrke, balance og gang"},
        headers=staff,
        timeout=30,
    )
    assert renamed.status_code == 200, renamed.text
    before = len(answers)
    context.set_offline(True)
    context.set_offline(False)
    page.locator(".app-week-slot", has_text="Styrke, balance og gang").wait_for()
    _walked(page, 2)
    page.wait_for_load_state("networkidle")
    later = answers[before:]
    assert _cursor_sent(later[0]) == kept["cursor"]
    changed = _items(later[0])
    assert [item["title"] for item in changed["plans"]] == ["Styrke, balance og gang"]
    assert all(changed[name] == [] for name in ("exercises", "goals", "slots", "session_logs")), changed
    # The walk after it brings nothing, or (within the server's overlap) the same plan again: nothing new
    # either way, and the walks end there.
    assert len(later) == 2, [answer.url for answer in later]
    assert _cursor_sent(later[1]) == later[0].json()["cursor"]
    again = _items(later[1])
    assert [item["id"] for item in again["plans"]] in ([], [str(plan.pk)]), again
    assert all(again[name] == [] for name in ("exercises", "goals", "slots", "session_logs")), again
    assert _kept(page)["cursor"] == later[-1].json()["cursor"] != kept["cursor"]
    assert page.locator(".app-week-slot", has_text="Styrke og balance").count() == 0
    # Drawn again in place: the focus stays on the menu's link, and nothing else was drawn.
    assert page.evaluate(FOCUSED)["text"] == "I dag"
    context.close()


@pytest.mark.django_db(transaction=True)
def test_min_plan_opens_offline_after_a_reload_with_the_last_data_and_says_how_old_it_is(
    world, serial_live_server, browser, settings
):
    live_server = serial_live_server
    settings.WEB_SESSION_POLICY = {**settings.WEB_SESSION_POLICY, "citizen": {"idle": 24 * 60, "lifetime": 60}}
    _training_today(world)
    context = _phone(browser)
    context.clock.install()
    context.add_init_script(WALKS)
    page = context.new_page()
    _log_in(page, live_server, with_password(world.citizen.user))
    _walked(page, 1)
    _wait_for_the_worker(page)
    synced_at = _kept(page)["synced_at"]

    page.goto(live_server.url + "/app/#/plan")
    page.locator(".app-week-slot", has_text="Styrke og balance").wait_for()

    # Five minutes later on the bus, without a connection, the citizen opens the app again at Min plan.
    context.set_offline(True)
    context.clock.fast_forward("05:00")
    page.reload()
    page.locator(".app-week-slot", has_text="Styrke og balance").wait_for()
    # Said at once where the browser knows it is offline, else as soon as the walk at start finds no
    # connection (this Chromium may call itself online after a reload without one).
    age = page.locator("#data-age")
    age.wait_for(state="visible")
    assert age.locator("time").get_attribute("datetime") == synced_at
    shown = re.fullmatch(r"Opdateret for (\d+) minutter siden", age.inner_text())
    assert shown, age.inner_text()
    minutes = page.evaluate("(since) => Math.floor((Date.now() - Date.parse(since)) / 60000)", synced_at)
    assert minutes >= 5 and int(shown[1]) in (minutes - 1, minutes)
    assert page.locator(".app-lead").inner_text() == "Denne uge: 0 udført, 0 ikke nået, 1 kommende."
    assert page.locator(".app-week-slot .tag").inner_text() == "Planlagt"
    assert_accessible(page)
    _screenshot(page, "app-plan-offline")

    # Back online, at the login's end (the phone's clock moved on, the server not asked) the kept training
    # goes with the rest before the app leaves for the login, held back here so that what is left is what
    # the app left.
    context.set_offline(False)
    context.route(LOGIN_PAGE, lambda route: route.fulfill(content_type="text/html", body=HELD_LOGIN))
    context.clock.fast_forward("56:00")
    page.wait_for_url(LOGIN_PAGE)
    assert page.title() == "Log ind (held back)"
    assert "mestring-sync" not in _storage(page)["databases"]
    context.close()


@pytest.mark.django_db(transaction=True)
def test_signing_out_deletes_the_kept_training(world, serial_live_server, browser):
    live_server = serial_live_server
    _training_today(world)
    context, page, answers = _a_phone_with_the_app(browser, live_server, world.citizen.user)
    _walked(page, 1)
    _wait_for_the_worker(page)
    assert "mestring-sync" in _storage(page)["databases"]

    page.goto(live_server.url + "/app/#/mig")
    page.get_by_role("heading", name="Mig", level=1).wait_for()
    walked = len(answers)
    page.get_by_role("button", name="Log ud på denne enhed").click()
    # The login page (a request of the app still under way when the server ended the login may lead
    # there without the sign-out's "?logget-ud=her").
    page.wait_for_url(LOGIN_PAGE)
    page.get_by_label("Brugernavn").wait_for()
    page.wait_for_load_state("networkidle")
    assert "mestring-sync" not in _storage(page)["databases"]
    assert len(answers) == walked  # no walk made it again on the way out
    context.close()


@pytest.mark.django_db(transaction=True)
def test_a_walk_that_meets_a_401_stops_there_and_the_kept_training_is_deleted(world, serial_live_server, browser):
    from django.contrib.sessions.models import Session

    live_server = serial_live_server
    _training_today(world)
    # Without a service worker, and with the login page held back, what is left on the device is what the
    # app itself left when the login ended (the login page deletes it again).
    context = _with_app_login(_phone(browser, service_workers="block"), live_server, world.citizen.user)
    context.add_init_script(WALKS)
    answers = _sync_answers(context)
    page = context.new_page()
    page.goto(live_server.url + "/app/#/plan")
    page.locator(".app-week-slot", has_text="Styrke og balance").wait_for()
    _walked(page, 2)  # the one Min plan waited for, and the one at start
    page.wait_for_load_state("networkidle")
    assert "mestring-sync" in _storage(page)["databases"]
    context.route(LOGIN_PAGE, lambda route: route.fulfill(content_type="text/html", body=HELD_LOGIN))

    # The login ends on the server (signed out on every device, or unused too long); the connection comes
    # back and the walk that starts meets the 401: it stops there, and the app forgets the login.
    Session.objects.all().delete()
    before = len(answers)
    context.set_offline(True)
    context.set_offline(False)
    page.wait_for_url(LOGIN_PAGE)
    assert page.title() == "Log ind (held back)"
    assert [answer.status for answer in answers[before:]] == [401]
    left = _storage(page)
    assert "mestring-sync" not in left["databases"] and "mestring" not in left["databases"], left
    assert left["local"] == [] and "mestring-data" not in left["caches"], left
    context.close()


@pytest.mark.django_db(transaction=True)
def test_a_relative_keeps_no_training(world, serial_live_server, browser):
    live_server = serial_live_server
    _training_today(world)
    context = _phone(browser)
    context.add_init_script(WALKS)
    answers = _sync_answers(context)
    page = context.new_page()
    _log_in(page, live_server, with_password(world.relative_with_consent.user))
    page.get_by_role("heading", name="Mine borgere", level=1).wait_for()
    page.wait_for_load_state("networkidle")
    assert answers == [] and "mestring-sync" not in _storage(page)["databases"]
    context.close()
