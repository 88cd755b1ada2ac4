"""The citizen app's MitID login: the citizen OIDC flow ending in the app's cookie login, not in tokens."""

import pytest
from django.conf import settings
from django.test import Client

from backend.models import AppSession
from tests import factories
from tests.backend.test_oidc_login import FakePerson, idps, through_provider  # noqa: F401 — the fixture

pytestmark = pytest.mark.django_db


def test_mitid_login_to_the_citizen_app_ends_in_a_cookie_login_the_api_accepts(idps):  # noqa: F811
    citizen = factories.CitizenFactory(cpr_number="0103451234", given_name="Inger", family_name="Holm")
    idps.citizen.next_person = FakePerson(sub="mitid-sub-inger", name="Inger Holm", cpr="010345-1234")
    browser = Client()
    login_page = browser.get("/app/log-ind/")
    assert 'href="/app/log-ind/mitid/"' in login_page.content.decode()

    started = browser.get("/app/log-ind/mitid/")
    binding = started.cookies[settings.APP_LOGIN_STATE_COOKIE_NAME]
    assert binding["samesite"] == "Lax" and binding["httponly"] and binding["path"] == "/api/v1/auth/citizen/callback"
    callback = browser.get(through_provider(started))
    # The provider's redirect back is cross-site and carries no SameSite=Strict cookie: the login's
    # cookie is set on this answer, and the page moves on from the platform itself.
    assert callback.status_code == 200
    page = callback.content.decode()
    assert '<meta http-equiv="refresh" content="0;url=/app/">' in page and 'href="/app/"' in page
    assert "code=" not in page  # no app code: the login stays in this browser's cookie
    cookie = callback.cookies[settings.APP_SESSION_COOKIE_NAME]
    assert cookie["samesite"] == "Strict" and cookie["httponly"]
    assert callback.cookies[settings.APP_LOGIN_STATE_COOKIE_NAME].value == ""  # used up
    session = AppSession.objects.filter(user=citizen.user).latest("created_at")
    assert session.audience == AppSession.Audience.CITIZEN and session.revoked_at is None
    assert "_auth_user_id" not in browser.session
    assert browser.get("/app/").status_code == 200
    assert browser.get("/api/v1/me").json()["citizen"]["id"] == str(citizen.pk)


def test_a_login_returned_to_another_browser_is_refused(idps):  # noqa: F811
    factories.CitizenFactory(cpr_number="0103451234", given_name="Inger", family_name="Holm")
    idps.citizen.next_person = FakePerson(sub="mitid-sub-inger", name="Inger Holm", cpr="010345-1234")
    started = Client().get("/app/log-ind/mitid/")
    # Someone else's browser, without the cookie that says it began this login.
    callback = Client().get(through_provider(started))
    assert callback.status_code == 401 and callback.json()["code"] == "login_expired"
    assert not AppSession.objects.filter(audience=AppSession.Audience.CITIZEN).exists()
