"""Effekt in a real browser (Debian's Chromium through Playwright) with axe-core: the team leader logs in,
opens Effekt from the navigation and reads goal attainment and FSIII change this year against last by
condition, small cells suppressed, and the theory of change with its figures; then the indicator and
theory pages, with the keyboard."""

import pyotp
import pytest

from effekt.models import AggregateRead
from tests.effekt.test_pages import population, team_lead, theory
from tests.staffweb.test_browser import CHROMIUM, PASSWORD, assert_accessible
from tests.staffweb.test_browser import browser_page as browser_page  # the fixtures
from tests.staffweb.test_browser import live_asgi_server as live_asgi_server

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"),
]


def _log_in(page, server, user):
    page.goto(server.url + "/staff/effekt/")
    assert page.url.startswith(server.url + "/staff/log-ind/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.fill("#id_totp_code", pyotp.TOTP(user.totp_secret).now())
    page.keyboard.press("Enter")
    page.wait_for_url(server.url + "/staff/effekt/")


def test_the_team_leader_reads_effekt_with_suppressed_cells_and_the_theory_of_change(
    world, live_asgi_server, browser_page
):
    population(world)
    lead = team_lead(world)
    made = theory(world, lead)
    lead.user.set_password(PASSWORD)
    lead.user.totp_secret = pyotp.random_base32()
    lead.user.save()
    page = browser_page
    # Effekt computes several indicators per page: on a busy machine that takes its time.
    page.set_default_timeout(60_000)
    page.set_default_navigation_timeout(60_000)

    _log_in(page, live_asgi_server, lead.user)
    assert page.locator("nav.staff-nav a[aria-current='page']").inner_text() == "Effekt"
    assert page.locator("h1").inner_text() == "Effekt"
    goal_table = page.locator("section[aria-labelledby='indicator-goal_attainment'] table").first
    assert "Rehabilitering Syd" in goal_table.inner_text()
    function = page.locator("section[aria-labelledby='indicator-function_change']")
    assert function.locator("h2").inner_text() == "Funktionsevne (FSIII) pr. tilstand"
    dressing = function.locator("tr", has=page.locator("th", has_text="Tage tøj på"))
    assert "Skjult" in dressing.inner_text()
    walking = function.locator("tr", has=page.locator("th", has_text="Gå"))
    assert "Skjult" not in walking.inner_text()
    assert function.locator("svg[role='img'] title").count() == 2  # the years side by side, and month by month
    theories = page.locator("section[aria-labelledby='theories-heading']")
    assert "Flere når deres mål" in theories.inner_text()
    assert_accessible(page)

    # The filters with the keyboard: the whole municipality, then submit.
    page.focus("#id_area")
    page.select_option("#id_area", "")
    page.focus("form.staff-filters button[type='submit']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/staff/effekt/?*")
    rows = page.locator("section[aria-labelledby='indicator-goal_attainment'] tbody th").all_inner_texts()
    assert rows[:1] == ["Odense"] and "Ældre og Handicap" in rows
    assert_accessible(page)

    page.get_by_role("link", name="Alle tal: Funktionsevne (FSIII)").click()
    page.wait_for_url("**/staff/effekt/indikatorer/function_change/*")
    assert page.locator("h1").inner_text() == "Funktionsevne (FSIII)"
    assert_accessible(page)

    page.goto(f"{live_asgi_server.url}/staff/effekt/forandringsteorier/{made.pk}/")
    assert "Hverdagsrehabilitering i Syd" in page.locator("h1").inner_text()
    assert page.locator(".effekt-chain > li").count() == 4
    assert_accessible(page)

    with page.expect_download() as download:
        page.goto(f"{live_asgi_server.url}/staff/effekt/")
        page.locator("section[aria-labelledby='indicator-goal_attainment'] a", has_text="Hent som CSV").click()
    assert download.value.suggested_filename.startswith("goal_attainment-")
    assert AggregateRead.objects.filter(actor_id=lead.user.pk, surface="csv").exists()
