"""Effekt month by month in a real browser (Debian's Chromium through Playwright) with axe-core, on the demo's
own data: the demo's team leader logs in and reads goal attainment for the team, last year against this,
month by month, with the quiet months hidden in the table and marked in the chart, in a 1280×800 window and at
200 % zoom (1280×800 at 200 % lays out as 640×400). With ``SCREENSHOTS_DIR`` set, the README's screenshots."""

import io
import os
from pathlib import Path
from typing import Any

import pyotp
import pytest
from django.core.management import call_command

from backend.management.commands.seed_demo import DEMO_PASSWORD
from backend.models import User
from tests.staffweb.test_browser import assert_accessible, pytestmark  # noqa: F401 — skips without Chromium
from tests.staffweb.test_browser import browser_page as browser_page  # the fixture
from tests.staffweb.test_layout_browser import _sideways_overflow

MONTHS_TABLE = "table:has(#goal_attainment-months-caption)"
MONTHS_CHART = "svg[aria-labelledby='goal_attainment-months-title goal_attainment-months-desc']"


def _screenshot(page: Any, name: str) -> None:
    folder = os.environ.get("SCREENSHOTS_DIR")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _log_in(page: Any, url: str, user: User) -> None:
    page.goto(url + "/staff/effekt/")
    assert page.url.startswith(url + "/staff/log-ind/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.fill("#id_totp_code", pyotp.TOTP(user.totp_secret).now())
    page.keyboard.press("Enter")
    page.wait_for_url(url + "/staff/effekt/")


def _months_read(page: Any) -> None:
    """Last year's quiet April is hidden in the table, said in words, and marked in the chart."""
    table = page.locator(MONTHS_TABLE)
    april = table.locator("tbody tr", has=page.locator("th", has_text="April"))
    assert "Skjult (under 5 borgere eller kan regnes ud)" in april.inner_text()
    march = table.locator("tbody tr", has=page.locator("th", has_text="Marts")).locator("td").all_inner_texts()
    assert march[0] == "7"  # last year's March: 7 citizens
    assert page.locator(f"{MONTHS_CHART} text.effekt-gap").count() >= 1
    assert (
        "Skjult er ikke det samme som 0"
        in page.locator("section[aria-labelledby='indicator-goal_attainment']").inner_text()
    )


@pytest.mark.django_db(transaction=True)
def test_the_demo_team_leader_reads_the_months_at_1280_and_at_200_percent_zoom(live_server, browser_page):
    call_command("seed_demo", stdout=io.StringIO())
    page = browser_page
    # Effekt computes several indicators and series per page: on a busy machine that takes its time.
    page.set_default_timeout(60_000)
    page.set_default_navigation_timeout(60_000)
    _log_in(page, live_server.url, User.objects.get(username="teamleder"))

    assert page.locator("h1").inner_text() == "Effekt"
    _months_read(page)
    assert not _sideways_overflow(page)
    assert_accessible(page)
    _screenshot(page, "staff-effekt")

    page.set_viewport_size({"width": 640, "height": 400})
    page.reload()
    _months_read(page)
    assert not _sideways_overflow(page)
    # The chart keeps the column's width (its labels stay at their size), the table scrolls in its own region.
    assert page.locator(MONTHS_CHART).bounding_box()["width"] >= 560
    region = page.locator(f".table--responsive-scroll[tabindex='0']:has({MONTHS_TABLE})")
    assert region.count() == 1
    assert_accessible(page)
    _screenshot(page, "staff-effekt-200")

    # A month chosen with the keyboard: April against April, and April marked in the months.
    page.set_viewport_size({"width": 1280, "height": 800})
    page.focus("#id_period")
    page.select_option("#id_period", "M04")
    page.focus("form.staff-filters button[type='submit']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/staff/effekt/?*period=M04*")
    assert page.locator(f"{MONTHS_TABLE} tr.effekt-chosen th").inner_text().startswith("April")
    assert_accessible(page)
