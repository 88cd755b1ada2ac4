"""The staff app's login through the municipality's identity provider (the existing OIDC web flow)."""

from datetime import timedelta

import pytest
from django.test import Client

from backend.models import AppSession
from tests.backend.test_oidc_login import FakePerson, idps, through_provider  # noqa: F401 — the fixture

pytestmark = pytest.mark.django_db


def test_provider_login_to_the_staff_app_ends_in_a_staff_app_session(world, idps):  # noqa: F811
    user = world.staff_in_team.user
    idps.staff.next_person = FakePerson(sub="entra-oid-therapist", preferred_username=user.username)
    browser = Client()
    login_page = browser.get("/staff/log-ind/", {"next": "/staff/henvendelser/"})
    assert 'href="/auth/staff/login?next=%2Fstaff%2Fhenvendelser%2F"' in login_page.content.decode()

    callback = browser.get(through_provider(browser.get("/auth/staff/login", {"next": "/staff/henvendelser/"})))
    assert callback.status_code == 302 and callback["Location"] == "/staff/henvendelser/"
    session = AppSession.objects.filter(user=user).latest("created_at")
    assert session.audience == AppSession.Audience.STAFF and session.revoked_at is None
    assert session.expires_at - session.created_at <= timedelta(hours=12)
    assert "_auth_user_id" not in browser.session  # no admin login: the staff app's own session
    assert browser.get("/staff/henvendelser/").status_code == 200
