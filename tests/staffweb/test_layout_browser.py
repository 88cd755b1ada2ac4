"""The main staff pages at the sizes staff use them: a laptop (1280×800), a tablet (768 wide) and 200 % zoom
(1280×800 at 200 % lays out as 640×400): nothing is cut off or needs scrolling sideways, and axe finds
nothing at 200 %."""

from datetime import timedelta

import pytest

from backend.timeutil import municipal_today
from selvbetjening.models import Episode
from tests.selvbetjening.factories import CitizenRequestFactory, GoalFactory, GoalRatingFactory
from tests.staffweb.helpers import episode, listed_conditions, plan_with_pain_alert
from tests.staffweb.test_browser import (  # noqa: F401 — pytestmark skips without Chromium
    _log_in_with_the_keyboard,
    _therapist,
    assert_accessible,
    pytestmark,
)
from tests.staffweb.test_browser import browser_page as browser_page  # the fixture

SIZES = {"laptop": (1280, 800), "tablet": (768, 1024), "200 % zoom": (640, 400)}


def _sideways_overflow(page) -> list[str]:
    """What sticks out to the right of the window, if the page scrolls sideways."""
    return page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            if (document.documentElement.scrollWidth <= width + 1) return [];
            return Array.from(document.querySelectorAll('main *'))
                .filter(element => element.getBoundingClientRect().right > width + 1)
                .slice(0, 5)
                .map(element => element.tagName + '.' + element.className);
        }"""
    )


@pytest.mark.django_db(transaction=True)
def test_the_main_pages_fit_a_laptop_a_tablet_and_200_percent_zoom(world, live_server, browser_page):
    page = browser_page
    page.set_default_timeout(60_000)
    plan = plan_with_pain_alert(world)
    running = episode(world)
    running.status = Episode.Status.ACTIVE
    running.start_date = municipal_today() - timedelta(days=3)
    running.save()
    goal = GoalFactory(episode=running, description="Jeg vil selv kunne gå ned efter avisen om morgenen")
    GoalRatingFactory(goal=goal, gas_score=-1, function_level=3, copm_performance=4, copm_satisfaction=3)
    CitizenRequestFactory(citizen=world.citizen)
    listed_conditions()  # the goal page shows its form with the condition select
    _log_in_with_the_keyboard(page, live_server, _therapist(world))
    pages = {
        "Mit team": "/staff/",
        "borgeren": f"/staff/borgere/{world.citizen.pk}/",
        "ny plan": f"/staff/forloeb/{running.pk}/ny-plan/",
        "ny version": f"/staff/planer/{plan.pk}/ny-version/",
        "nyt mål": f"/staff/forloeb/{running.pk}/nyt-maal/",
        "henvendelser": "/staff/henvendelser/",
        "opgaver": "/staff/opgaver/",
    }
    problems = {}
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        for name, path in pages.items():
            page.goto(live_server.url + path)
            if overflow := _sideways_overflow(page):
                problems[f"{name} ({size})"] = overflow
            if size == "200 % zoom":
                assert_accessible(page)
    assert not problems
