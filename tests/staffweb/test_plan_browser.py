"""Building and changing a plan, completing the episode and the English pages in a real browser (Debian's
Chromium through Playwright), with axe-core on every page and the plan built with the keyboard alone."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from backend.timeutil import municipal_today
from selvbetjening.models import Episode, TrainingPlan
from tests.selvbetjening.factories import FollowUpResultFactory, GoalFactory
from tests.selvbetjening.training_factories import ExerciseFactory
from tests.staffweb.helpers import episode, plan_with_pain_alert
from tests.staffweb.test_browser import (  # noqa: F401 — pytestmark skips without Chromium
    _log_in_with_the_keyboard,
    _therapist,
    assert_accessible,
    pytestmark,
)
from tests.staffweb.test_browser import browser_page as browser_page  # the fixture


def _patient(page):
    # The machine the suite runs on is shared: wait on conditions, generously.
    page.set_default_timeout(60_000)
    return page


def _running(world):
    running = episode(world)
    running.status = Episode.Status.ACTIVE
    running.start_date = municipal_today() - timedelta(days=2)
    running.planned_end_date = municipal_today() + timedelta(days=60)
    running.save()
    return running


def _focused(page) -> str:
    return page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()")


@pytest.mark.django_db(transaction=True)
def test_a_plan_is_built_with_the_keyboard_only_with_a_preview_of_the_next_times(world, live_server, browser_page):
    page = _patient(browser_page)
    running = _running(world)
    goal = GoalFactory(episode=running, description="Jeg vil gå på trappen", rank=1)
    for number in range(120):  # a library of hundreds: the one wanted is far down by title
        ExerciseFactory(title_da=f"Øvelse {number:03d}", body_area="upper_body")
    exercise = ExerciseFactory(title_da="Trappetrin med støtte", body_area="lower_body", equipment="stairs")
    key = f"ex_{exercise.pk.hex}"
    _log_in_with_the_keyboard(page, live_server, _therapist(world))
    page.goto(f"{live_server.url}/staff/borgere/{world.citizen.pk}/")
    page.get_by_role("link", name="Lav en træningsplan").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/staff/forloeb/{running.pk}/ny-plan/")
    assert "af 121 øvelser" in page.locator("#library-count").inner_text()
    assert_accessible(page)

    page.focus("#id_title")
    page.keyboard.type("Trapper")
    page.keyboard.press("Tab")  # the episode's one goal
    assert _focused(page) == "id_goal_ids_0"
    page.keyboard.press("Space")
    page.focus("#id_library-q")
    page.keyboard.type("trappe")
    page.keyboard.press("Enter")  # searches, saves nothing
    expect(page.locator("#library-count")).to_contain_text("af 1 øvelser")
    assert _focused(page) == "id_library-q"
    page.keyboard.press("Tab")  # body area
    page.keyboard.press("Tab")  # equipment
    page.keyboard.press("Tab")  # the search button
    page.keyboard.press("Tab")  # the one exercise found: its add button
    assert page.evaluate("document.activeElement.value") == str(exercise.pk)
    page.keyboard.press("Enter")
    expect(page.locator(f"#id_{key}_sets")).to_be_focused()  # the focus goes to its dosage
    assert page.locator("#chosen-heading").inner_text().endswith("(1)")
    assert page.locator(".staff-library-grid").get_by_text("I planen").is_visible()
    page.keyboard.type("3")
    page.keyboard.press("Tab")
    page.keyboard.type("8")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focus is visible
    page.locator(f"#chosen-{key} summary").focus()  # the progression rule opens from the keyboard
    page.keyboard.press("Enter")
    page.focus(f"#id_{key}_stop_pain_level")
    page.keyboard.press("Control+A")
    page.keyboard.type("6")
    assert_accessible(page)
    page.focus("#id_weekdays_1")  # Tuesday
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # Thursday
    page.focus("#id_times")
    page.keyboard.type("07:30, 19:00")
    page.get_by_role("button", name="Vis de næste træningstider").last.focus()
    page.keyboard.press("Enter")
    preview = page.locator("#preview")
    preview.wait_for()
    assert preview.locator("li").count() == 8
    text = preview.inner_text()
    assert "07:30" in text and "19:00" in text and ("tirsdag" in text or "torsdag" in text)
    assert_accessible(page)
    assert not TrainingPlan.objects.exists()

    page.get_by_role("button", name="Gem planen").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/staff/borgere/{world.citizen.pk}/#plans-heading")
    assert "Træningsplanen „Trapper“ er lavet." in page.content()
    plan = TrainingPlan.objects.get()
    assert plan.current_version.recurrence_rule == "FREQ=DAILY;BYDAY=TU,TH;BYHOUR=7,19;BYMINUTE=0,30;BYSETPOS=2,3"
    item = plan.current_version.exercises.get()
    assert (item.exercise_id, item.sets, item.repetitions, item.stop_pain_level) == (exercise.pk, 3, 8, 6)
    assert list(plan.goals.all()) == [goal]
    assert "tirsdag og torsdag kl. 07:30 og 19:00" in page.content()
    assert_accessible(page)  # the citizen page with the new plan, its versions and decisions


@pytest.mark.django_db(transaction=True)
def test_the_plan_is_changed_and_the_episode_completed_in_the_browser(world, live_server, browser_page):
    page = _patient(browser_page)
    running = _running(world)
    plan = plan_with_pain_alert(world)
    FollowUpResultFactory(code="E1", display_da="Målet er nået")
    FollowUpResultFactory(code="E2", display_da="Målet er delvist nået")
    _log_in_with_the_keyboard(page, live_server, _therapist(world))
    page.goto(f"{live_server.url}/staff/borgere/{world.citizen.pk}/")
    page.get_by_role("link", name="Ændr planen").click()
    page.wait_for_url(f"{live_server.url}/staff/planer/{plan.pk}/ny-version/")
    assert_accessible(page)
    page.get_by_label("Tidspunkter").fill("25:00")
    page.get_by_role("button", name="Gem ny version").click()
    assert "ikke et klokkeslæt" in page.locator("#id_times-error").inner_text()
    assert "Skal udfyldes" in page.content() or page.locator("#id_change_note-error").is_visible()
    assert_accessible(page)  # the page with its errors
    page.get_by_label("Tidspunkter").fill("11:00")
    page.get_by_label("Begrundelse for ændringen").fill("Træner hellere før frokost.")
    page.get_by_role("button", name="Gem ny version").click()
    page.wait_for_url(f"{live_server.url}/staff/borgere/{world.citizen.pk}/#plans-heading")
    plan.refresh_from_db()
    assert plan.current_version.number == 2 and plan.current_version.start_time.hour == 11

    page.get_by_role("link", name="Skift status eller afslut").first.click()
    page.wait_for_url(f"{live_server.url}/staff/forloeb/{running.pk}/status/")
    assert_accessible(page)
    page.get_by_label("Afslut forløbet med opfølgning").check()
    page.get_by_role("button", name="Gem").click()
    assert "Vælg opfølgningsresultatet" in page.locator("#id_follow_up_result-error").inner_text()
    assert_accessible(page)
    page.get_by_label("Afslut forløbet med opfølgning").check()
    page.get_by_label("E1: Målet er nået").check()
    page.get_by_role("button", name="Gem").click()
    page.wait_for_url(f"{live_server.url}/staff/borgere/{world.citizen.pk}/#episodes-heading")
    running.refresh_from_db()
    assert (running.status, running.follow_up_result_id) == ("completed", "E1")
    assert_accessible(page)


@pytest.mark.django_db(transaction=True)
def test_the_pages_switch_to_english_and_stay_so(world, live_server, browser_page):
    page = _patient(browser_page)
    plan_with_pain_alert(world)
    _log_in_with_the_keyboard(page, live_server, _therapist(world))
    page.get_by_role("button", name="English").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.url == f"{live_server.url}/staff/"  # back where the switch was pressed
    assert page.get_by_role("link", name="My team").is_visible()
    assert_accessible(page)
    page.goto(f"{live_server.url}/staff/borgere/{world.citizen.pk}/")
    assert page.get_by_role("heading", name="Network").is_visible()
    assert_accessible(page)
    page.goto(f"{live_server.url}/staff/opgaver/")
    assert page.evaluate("document.documentElement.lang") == "en"  # kept across pages
    page.get_by_role("button", name="Dansk").click()
    page.wait_for_function("document.documentElement.lang === 'da'")
    assert page.url == f"{live_server.url}/staff/opgaver/"
