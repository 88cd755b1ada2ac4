"""Walks every page of the citizen app for every role with the browser login that role can have.

No page adds or removes a row of the platform's tables, except that logging out ends the login (its
tokens go) — and only the app's login, never the staff web's in the same browser; the shell shows
nobody's personal data; and every page of ``borgerapp.urls`` has its rows.
"""

from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern

from backend.models import AppSession
from borgerapp import urls
from tests.matrix import PAGE_ROWS, ROLES, Row
from tests.staffweb.helpers import web_client
from tests.test_matrix import table_counts

LOGOUTS = {"/app/log-ud/", "/app/log-ud-alle/"}
CITIZEN_LOGINS = {"citizen", "other_citizen", "relative_with_consent", "relative_without_consent"}
STAFF_LOGINS = {"staff_in_team", "staff_out_of_team", "it", "analyst"}
PEOPLE_OF = {
    "citizen": "citizen",
    "other_citizen": "other_citizen",
    "relative_with_consent": "relative_with_consent",
    "relative_without_consent": "relative_without_consent",
    "staff_in_team": "staff_in_team",
    "staff_out_of_team": "staff_out_of_team",
    "it": "it_staff",
    "analyst": "analyst",
}


def browser_of(world: Any, role: str) -> Client:
    if role in CITIZEN_LOGINS:
        return web_client(getattr(world, PEOPLE_OF[role]).user, AppSession.Audience.CITIZEN)
    if role in STAFF_LOGINS:
        return web_client(getattr(world, PEOPLE_OF[role]).user, AppSession.Audience.STAFF)
    return Client()


def test_every_page_of_the_app_has_its_rows_and_every_row_a_page():
    pages = {f"/app/{pattern.pattern}" for pattern in urls.urlpatterns if isinstance(pattern, URLPattern)}
    assert {row.path for row in PAGE_ROWS} == pages
    assert len({row.key for row in PAGE_ROWS}) == len(PAGE_ROWS), "a page has two rows for one method"


@pytest.mark.parametrize("row", PAGE_ROWS, ids=lambda row: f"{row.method} {row.path}")
def test_every_page_row_names_every_role(row: Row):
    assert set(row.expect) == set(ROLES)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", PAGE_ROWS, ids=lambda row: f"{row.method} {row.path}")
def test_role_gets_expected_page_status(row: Row, role: str, world):
    browser = browser_of(world, role)
    before = table_counts()
    if row.method == "GET":
        response = browser.get(row.path)
    else:
        response = browser.post(row.path, row.body(world) if row.body else {})
    assert response.status_code == row.expect[role], (role, response.status_code, response.content[:300])
    if response.status_code == 302 and row.path == "/app/":
        assert response["Location"] == "/app/log-ind/"
    if row.method == "POST" and row.path in LOGOUTS and hasattr(browser, "app_session"):
        browser.app_session.refresh_from_db()
        assert (browser.app_session.revoked_at is not None) == (role in CITIZEN_LOGINS)
    else:
        assert table_counts() == before, "a page added or removed data"
    content = response.content.decode(errors="replace")
    for person in (world.citizen, world.other_citizen):
        assert str(person.pk) not in content and person.family_name not in content
