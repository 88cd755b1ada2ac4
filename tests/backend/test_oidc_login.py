"""OpenID Connect login end to end: the app, this backend and a real provider on loopback.

Each test walks the redirects a phone's browser would follow: our /authorize sends it to the
provider, the provider approves the configured person and sends it back to our callback, the
callback hands the app a one-time code, and the app exchanges that code with its PKCE verifier.
"""

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.http import HttpResponse
from django.test import Client

from backend import oidc
from backend.models import AppSession, ExternalIdentity, LoginFlow, Token, User
from tests import factories
from tests.conftest import ApiClient, World
from tests.fake_oidc import (
    CPR_CLAIM,
    HIGH,
    LOW,
    SUBSTANTIAL,
    FakeOidcProvider,
    FakePerson,
    Misbehaviour,
    running_provider,
    s256,
)

APP_REDIRECT_URI = "dk.mestring.app:/oauth/callback"
TESTSERVER = "http://testserver"


@dataclass
class IdentityProviders:
    citizen: FakeOidcProvider
    staff: FakeOidcProvider

    def of(self, audience: str) -> FakeOidcProvider:
        return self.citizen if audience == "citizen" else self.staff


@pytest.fixture
def idps(settings: Any) -> Iterator[IdentityProviders]:
    with running_provider() as citizen_idp, running_provider() as staff_idp:
        citizen_idp.register_client("mestring-app", "citizen-secret", f"{TESTSERVER}/api/v1/auth/citizen/callback")
        staff_idp.register_client("mestring-staff", "staff-secret", f"{TESTSERVER}/api/v1/auth/staff/callback")
        settings.PUBLIC_BASE_URL = TESTSERVER
        settings.OIDC_PROVIDERS = {
            "citizen": {
                "issuer": citizen_idp.issuer,
                "client_id": "mestring-app",
                "client_secret": "citizen-secret",
                "scope": "openid mitid",
                "accepted_acr": [SUBSTANTIAL, HIGH],
                "cpr_claim": CPR_CLAIM,
                "name_claim": "name",
            },
            "staff": {
                "issuer": staff_idp.issuer,
                "client_id": "mestring-staff",
                "client_secret": "staff-secret",
                "scope": "openid profile email",
                "accepted_acr": [],
                "username_claim": "preferred_username",
                "name_claim": "name",
            },
        }
        yield IdentityProviders(citizen_idp, staff_idp)


def new_verifier() -> str:
    return secrets.token_urlsafe(48)


def start_app_login(
    browser: Client, audience: str, *, verifier: str, redirect_uri: str = APP_REDIRECT_URI
) -> HttpResponse:
    return browser.get(
        f"/api/v1/auth/{audience}/authorize",
        {
            "redirect_uri": redirect_uri,
            "code_challenge": s256(verifier),
            "code_challenge_method": "S256",
            "state": "xyz",
        },
    )


def through_provider(started: HttpResponse) -> str:
    """Follow our redirect to the provider; returns the path on this server it sends the browser back to."""
    assert started.status_code == 302, started.content
    answer = requests.get(started["Location"], allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    assert f"{back.scheme}://{back.netloc}" == TESTSERVER
    return f"{back.path}?{back.query}"


def app_code_from(callback: HttpResponse) -> str:
    assert callback.status_code == 302, callback.content
    location = urlsplit(callback["Location"])
    assert f"{location.scheme}:{location.path}" == APP_REDIRECT_URI
    params = parse_qs(location.query)
    assert params["state"] == ["xyz"]
    return params["code"][0]


def redeem(code: str, verifier: str, redirect_uri: str = APP_REDIRECT_URI) -> HttpResponse:
    return ApiClient().post(
        "/api/v1/auth/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": redirect_uri,
        },
    )


def callback_of_app_login(idps: IdentityProviders, audience: str, person: FakePerson) -> tuple[HttpResponse, str]:
    """Walk the browser part of a login; returns our callback's answer and the app's PKCE verifier."""
    idps.of(audience).next_person = person
    browser, verifier = Client(), new_verifier()
    callback_path = through_provider(start_app_login(browser, audience, verifier=verifier))
    return browser.get(callback_path), verifier


def app_login(idps: IdentityProviders, audience: str, person: FakePerson) -> dict[str, Any]:
    callback, verifier = callback_of_app_login(idps, audience, person)
    response = redeem(app_code_from(callback), verifier)
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def me(access_token: str) -> dict[str, Any]:
    response = ApiClient(access_token).get("/api/v1/me")
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def session_rows() -> tuple[int, int]:
    return AppSession.objects.count(), Token.objects.count()


def assert_refused(response: HttpResponse, code: str) -> None:
    assert response.status_code == 401, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code


# --- logins that succeed ------------------------------------------------------------------------


@pytest.mark.django_db
def test_citizen_found_by_cpr_is_linked_and_second_login_reuses_the_identity(idps: IdentityProviders) -> None:
    citizen = factories.CitizenFactory(cpr_number="0103451234", user=None, given_name="Inger", family_name="Holm")
    person = FakePerson(sub="mitid-sub-inger", name="Inger Holm", cpr="010345-1234")

    callback, verifier = callback_of_app_login(idps, "citizen", person)
    assert "0103451234" not in callback["Location"] and "010345" not in callback["Location"]
    first = redeem(app_code_from(callback), verifier)
    assert first.status_code == 200, first.content
    tokens = first.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["access_token"].startswith("mat_") and tokens["refresh_token"].startswith("mrt_")

    profile = me(tokens["access_token"])
    assert profile["citizen"]["id"] == str(citizen.id)
    assert [role["code"] for role in profile["roles"]] == ["citizen"]
    assert profile["audience"] == "citizen"
    citizen.refresh_from_db()
    assert citizen.user is not None and str(citizen.user.pk) == profile["id"]
    session = AppSession.objects.get(pk=tokens["session_id"])
    assert session.acr == SUBSTANTIAL

    second = app_login(idps, "citizen", person)
    assert me(second["access_token"])["id"] == profile["id"]
    assert ExternalIdentity.objects.filter(subject="mitid-sub-inger").count() == 1
    assert User.objects.filter(citizen=citizen).count() == 1

    sent = idps.citizen.authorizations[0].query
    assert sent["acr_values"].split() == [SUBSTANTIAL, HIGH]
    assert sent["redirect_uri"] == f"{TESTSERVER}/api/v1/auth/citizen/callback"
    assert idps.citizen.token_requests[0].form["client_secret"] == "citizen-secret"


@pytest.mark.django_db
def test_citizen_who_already_has_an_account_gets_that_account(world: World, idps: IdentityProviders) -> None:
    citizen = factories.CitizenFactory(cpr_number="1207551111", municipality=world.municipality)
    tokens = app_login(idps, "citizen", FakePerson(sub="mitid-sub-2", cpr="1207551111", acr=HIGH))
    assert me(tokens["access_token"])["id"] == str(citizen.user.pk)


@pytest.mark.django_db
def test_mitid_person_without_citizen_record_becomes_a_relative(idps: IdentityProviders) -> None:
    person = FakePerson(sub="mitid-sub-relative", name="Jens Holm", cpr="0202601234")
    tokens = app_login(idps, "citizen", person)
    profile = me(tokens["access_token"])
    assert [role["code"] for role in profile["roles"]] == ["relative"]
    assert profile["citizen"] is None
    assert profile["display_name"] == "Jens Holm"

    # Registered as a citizen later: the next login sees the citizen record too.
    citizen = factories.CitizenFactory(cpr_number="0202601234", user=None)
    again = me(app_login(idps, "citizen", person)["access_token"])
    assert again["id"] == profile["id"]
    assert again["citizen"]["id"] == str(citizen.id)
    assert {role["code"] for role in again["roles"]} == {"citizen", "relative"}


@pytest.mark.django_db
def test_staff_matched_by_username_gets_a_staff_session_with_membership_roles(
    world: World, idps: IdentityProviders
) -> None:
    user = world.staff_in_team.user
    person = FakePerson(sub="entra-oid-1", name="Therapist", preferred_username=user.username.upper())
    tokens = app_login(idps, "staff", person)
    profile = me(tokens["access_token"])
    assert profile["id"] == str(user.pk)
    assert profile["audience"] == "staff"
    assert [role["code"] for role in profile["roles"]] == ["therapist"]
    assert [membership["team_name"] for membership in profile["memberships"]] == ["Rehabilitering Syd"]
    assert "acr_values" not in idps.staff.authorizations[0].query

    # Known from now on by the provider's subject, whatever the username claim says.
    renamed = FakePerson(sub="entra-oid-1", preferred_username="someone.else@kommune.dk")
    assert me(app_login(idps, "staff", renamed)["access_token"])["id"] == str(user.pk)


@pytest.mark.django_db
def test_key_rotation_at_the_provider_still_verifies(idps: IdentityProviders) -> None:
    person = FakePerson(sub="mitid-sub-rotation", cpr="0505501234")
    app_login(idps, "citizen", person)
    assert idps.citizen.jwks_fetches == 1
    idps.citizen.rotate_key()
    tokens = app_login(idps, "citizen", person)
    assert me(tokens["access_token"])["roles"] == [{"code": "relative", "name": "Pårørende"}]
    assert idps.citizen.jwks_fetches == 2


@pytest.mark.django_db
def test_staff_browser_login_ends_in_a_django_session(world: World, idps: IdentityProviders) -> None:
    user = world.staff_in_team.user
    User.objects.filter(pk=user.pk).update(is_staff=True)
    idps.staff.next_person = FakePerson(sub="entra-oid-admin", preferred_username=user.username)
    browser = Client()
    anonymous = browser.get("/admin/")
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    before = session_rows()

    callback_path = through_provider(browser.get("/auth/staff/login", {"next": "/admin/"}))
    callback = browser.get(callback_path)
    assert callback.status_code == 302, callback.content
    assert callback["Location"] == "/admin/"
    assert browser.session["_auth_user_id"] == str(user.pk)
    assert browser.get("/admin/").status_code == 200
    assert session_rows() == before, "a browser login makes a Django session, not app tokens"
    assert not LoginFlow.objects.exclude(app_code_hash="").exists()


@pytest.mark.django_db
def test_staff_browser_login_cannot_be_completed_in_another_browser(world: World, idps: IdentityProviders) -> None:
    user = world.staff_in_team.user
    User.objects.filter(pk=user.pk).update(is_staff=True)
    idps.staff.next_person = FakePerson(sub="entra-oid-attacker", preferred_username=user.username)
    callback_path = through_provider(Client().get("/auth/staff/login", {"next": "/admin/"}))

    victim = Client()
    assert_refused(victim.get(callback_path), "login_expired")
    assert "_auth_user_id" not in victim.session
    assert victim.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_staff_browser_login_never_sends_the_browser_to_another_site(idps: IdentityProviders) -> None:
    browser = Client()
    browser.get("/auth/staff/login", {"next": "https://evil.example/steal"})
    assert LoginFlow.objects.get().web_next == "/admin/"


# --- logins that are refused --------------------------------------------------------------------


@pytest.mark.django_db
def test_unknown_staff_is_refused_without_tokens(world: World, idps: IdentityProviders) -> None:
    before = session_rows()
    callback, _ = callback_of_app_login(
        idps, "staff", FakePerson(sub="entra-oid-unknown", preferred_username="nobody@kommune.dk")
    )
    assert_refused(callback, "unknown_staff")
    assert session_rows() == before
    assert not ExternalIdentity.objects.filter(subject="entra-oid-unknown").exists()


@pytest.mark.django_db
def test_citizen_account_cannot_log_in_as_staff(world: World, idps: IdentityProviders) -> None:
    """A citizen's username is not a staff login, even when the staff provider sends it."""
    before = session_rows()
    callback, _ = callback_of_app_login(
        idps, "staff", FakePerson(sub="entra-oid-citizen", preferred_username=world.citizen.user.username)
    )
    assert_refused(callback, "unknown_staff")
    assert session_rows() == before


@pytest.mark.django_db
def test_assurance_below_substantial_is_refused(idps: IdentityProviders) -> None:
    before, users = session_rows(), User.objects.count()
    callback, _ = callback_of_app_login(idps, "citizen", FakePerson(sub="mitid-low", acr=LOW, cpr="0101701234"))
    assert_refused(callback, "insufficient_assurance")
    assert session_rows() == before
    assert User.objects.count() == users


@pytest.mark.django_db
@pytest.mark.parametrize("fault", ["nonce", "aud", "iss", "expired", "signature"])
def test_faulty_id_token_is_refused(idps: IdentityProviders, fault: Misbehaviour) -> None:
    idps.citizen.misbehave = {fault}
    before, users = session_rows(), User.objects.count()
    callback, _ = callback_of_app_login(idps, "citizen", FakePerson(sub=f"mitid-{fault}", cpr="0101701234"))
    assert_refused(callback, "invalid_id_token")
    assert idps.citizen.token_requests[-1].status == 200
    assert session_rows() == before
    assert User.objects.count() == users
    assert not ExternalIdentity.objects.exists()


@pytest.mark.django_db
def test_error_answer_from_the_token_endpoint_is_refused(idps: IdentityProviders) -> None:
    idps.citizen.misbehave = {"error"}
    before = session_rows()
    callback, _ = callback_of_app_login(idps, "citizen", FakePerson(sub="mitid-error"))
    assert_refused(callback, "login_refused")
    assert session_rows() == before


@pytest.mark.django_db
def test_provider_refusal_at_authorize_is_refused(idps: IdentityProviders) -> None:
    browser = Client()
    idps.citizen.next_person = None  # the provider answers error=invalid_request
    callback_path = through_provider(start_app_login(browser, "citizen", verifier=new_verifier()))
    assert "error=" in callback_path
    assert_refused(browser.get(callback_path), "login_refused")


@pytest.mark.django_db
def test_wrong_code_verifier_at_token_endpoint_is_invalid_grant(idps: IdentityProviders) -> None:
    callback, verifier = callback_of_app_login(idps, "citizen", FakePerson(sub="mitid-pkce"))
    code = app_code_from(callback)
    before = session_rows()
    assert_refused(redeem(code, new_verifier()), "invalid_grant")
    assert session_rows() == before
    # A failed guess uses the code up: not even the right verifier redeems it afterwards.
    assert_refused(redeem(code, verifier), "invalid_grant")
    assert session_rows() == before


@pytest.mark.django_db
def test_redirect_uri_must_match_the_one_the_login_started_with(idps: IdentityProviders, settings: Any) -> None:
    settings.APP_REDIRECT_URIS = [APP_REDIRECT_URI, "http://127.0.0.1:8000/auth/done"]
    callback, verifier = callback_of_app_login(idps, "citizen", FakePerson(sub="mitid-redirect"))
    assert_refused(redeem(app_code_from(callback), verifier, "http://127.0.0.1:8000/auth/done"), "invalid_grant")


@pytest.mark.django_db
def test_app_code_works_once(idps: IdentityProviders) -> None:
    callback, verifier = callback_of_app_login(idps, "citizen", FakePerson(sub="mitid-twice"))
    code = app_code_from(callback)
    assert redeem(code, verifier).status_code == 200
    before = session_rows()
    assert_refused(redeem(code, verifier), "invalid_grant")
    assert session_rows() == before


@pytest.mark.django_db
def test_callback_with_reused_or_unknown_state_is_refused(idps: IdentityProviders) -> None:
    idps.citizen.next_person = FakePerson(sub="mitid-state")
    browser = Client()
    callback_path = through_provider(start_app_login(browser, "citizen", verifier=new_verifier()))
    assert browser.get(callback_path).status_code == 302
    before = session_rows()
    assert_refused(browser.get(callback_path), "login_expired")
    assert_refused(
        browser.get("/api/v1/auth/citizen/callback", {"state": "never-issued", "code": "whatever"}),
        "login_expired",
    )
    assert session_rows() == before
    assert len(idps.citizen.token_requests) == 1


@pytest.mark.django_db
def test_state_of_a_failed_callback_cannot_be_replayed(idps: IdentityProviders) -> None:
    idps.citizen.next_person = FakePerson(sub="mitid-replay", acr=LOW)
    browser = Client()
    callback_path = through_provider(start_app_login(browser, "citizen", verifier=new_verifier()))
    assert_refused(browser.get(callback_path), "insufficient_assurance")
    assert_refused(browser.get(callback_path), "login_expired")
    assert len(idps.citizen.token_requests) == 1


@pytest.mark.django_db
def test_unregistered_redirect_uri_is_422_naming_it(idps: IdentityProviders) -> None:
    response = start_app_login(Client(), "citizen", verifier=new_verifier(), redirect_uri="https://evil.example/cb")
    assert response.status_code == 422, response.content
    body = response.json()
    assert [error["field"] for error in body["errors"]] == ["redirect_uri"]
    assert not LoginFlow.objects.exists()
    assert idps.citizen.authorizations == []


@pytest.mark.django_db
def test_unreachable_provider_is_503_not_500(idps: IdentityProviders) -> None:
    idps.citizen.stop()
    response = start_app_login(Client(), "citizen", verifier=new_verifier())
    assert response.status_code == 503, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "idp_unavailable"
    assert response["Retry-After"]
    assert not LoginFlow.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("process", ["same web process", "another web process"])
def test_provider_gone_before_the_code_exchange_is_503(idps: IdentityProviders, process: str) -> None:
    idps.citizen.next_person = FakePerson(sub="mitid-gone")
    browser = Client()
    callback_path = through_provider(start_app_login(browser, "citizen", verifier=new_verifier()))
    idps.citizen.stop()
    if process == "another web process":
        oidc._providers.clear()  # nothing cached: the callback must fetch the discovery document
    before = session_rows()
    response = browser.get(callback_path)
    assert response.status_code == 503, response.content
    assert response.json()["code"] == "idp_unavailable"
    assert session_rows() == before


@pytest.mark.django_db
def test_unreachable_provider_for_the_browser_login_is_503_not_500(idps: IdentityProviders) -> None:
    idps.staff.stop()
    response = Client().get("/auth/staff/login", {"next": "/admin/"})
    assert response.status_code == 503, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "idp_unavailable"
