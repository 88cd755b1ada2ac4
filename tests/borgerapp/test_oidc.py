"""The citizen app's MitID login: the citizen OIDC flow ending in the app's cookie login, not in tokens."""

import pytest
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

    callback = browser.get(through_provider(browser.get("/app/log-ind/mitid/")))
    assert callback.status_code == 302 and callback["Location"] == "/app/"
    assert "code=" not in callback["Location"]  # no app code: the login stays in this browser's cookie
    session = AppSession.objects.filter(user=citizen.user).latest("created_at")
    assert session.audience == AppSession.Audience.CITIZEN and session.revoked_at is None
    assert "_auth_user_id" not in browser.session
    assert browser.get("/app/").status_code == 200
    assert browser.get("/api/v1/me").json()["citizen"]["id"] == str(citizen.pk)
