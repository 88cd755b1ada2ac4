"""Browser logins to the staff pages: password + one-time code, the session they make, timeouts, logout."""

from datetime import timedelta
from importlib import import_module

import pyotp
import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from backend.models import AccountLockout, AppSession, Token
from tests.conftest import ApiClient, access_token_for
from tests.staffweb.helpers import SESSION_KEY, web_client

PASSWORD = "a-long-demo-password"


@pytest.fixture
def therapist(world):
    user = world.staff_in_team.user
    user.set_password(PASSWORD)
    user.totp_secret = pyotp.random_base32()
    user.save()
    return user


def _login(client: Client, user, *, code: str | None = None, password: str = PASSWORD, next_url: str = ""):
    code = code if code is not None else pyotp.TOTP(user.totp_secret).now()
    data = {"username": user.username, "password": password, "totp_code": code, "next": next_url}
    return client.post("/staff/log-ind/", data)


@pytest.mark.django_db
def test_anonymous_is_sent_to_the_login_with_the_page_to_return_to(world):
    response = Client().get(f"/staff/borgere/{world.citizen.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/staff/log-ind/?next=")


@pytest.mark.django_db
def test_login_makes_a_staff_session_with_a_new_cookie_and_the_web_lifetime(therapist):
    client = Client()
    client.get("/staff/log-ind/")
    before = client.cookies.get(settings.SESSION_COOKIE_NAME)
    response = _login(client, therapist, next_url="/staff/henvendelser/")
    assert response.status_code == 302 and response["Location"] == "/staff/henvendelser/"
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert before is None or cookie.value != before.value
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    session = AppSession.objects.get(user=therapist, acr="password+totp")
    assert session.audience == AppSession.Audience.STAFF and session.acr == "password+totp"
    assert session.expires_at - session.created_at <= timedelta(hours=12)
    assert client.get("/staff/").status_code == 200


@pytest.mark.django_db
def test_a_wrong_code_is_refused_in_danish_and_counted(therapist):
    client = Client()
    response = _login(client, therapist, code="000000")
    assert response.status_code == 200
    assert "Forkert brugernavn, adgangskode eller engangskode." in response.content.decode()
    assert not AppSession.objects.filter(user=therapist, acr="password+totp").exists()
    assert AccountLockout.objects.get(scope="account", key=therapist.username.lower()).failures == 1


@pytest.mark.django_db
def test_a_malformed_code_gets_its_error_beside_the_field(therapist):
    response = _login(Client(), therapist, code="12")
    body = response.content.decode()
    assert 'id="id_totp_code-error"' in body and "Skriv de seks cifre." in body
    assert not AppSession.objects.filter(user=therapist, acr="password+totp").exists()


@pytest.mark.django_db
def test_a_citizen_cannot_log_in_to_the_staff_pages(world):
    user = world.citizen.user
    user.set_password(PASSWORD)
    user.totp_secret = pyotp.random_base32()
    user.save()
    client = Client()
    response = _login(client, user)
    assert response.status_code == 200
    assert "Forkert brugernavn" in response.content.decode()
    assert not AppSession.objects.filter(user=user, acr="password+totp", revoked_at__isnull=True).exists()
    assert client.get("/staff/").status_code == 302


@pytest.mark.django_db
def test_an_idle_session_is_logged_out_and_revoked(world, settings):
    client = web_client(world.staff_in_team.user)
    session = client.app_session
    AppSession.objects.filter(pk=session.pk).update(
        last_used_at=timezone.now() - timedelta(minutes=settings.STAFF_WEB_IDLE_MINUTES + 1)
    )
    assert client.get("/staff/").status_code == 302
    session.refresh_from_db()
    assert session.revoked_at is not None and session.revoke_reason == AppSession.RevokeReason.EXPIRED


@pytest.mark.django_db
def test_a_session_revoked_elsewhere_logs_the_browser_out_on_its_next_request(world):
    client = web_client(world.staff_in_team.user)
    assert client.get("/staff/").status_code == 200
    AppSession.objects.filter(pk=client.app_session.pk).update(revoked_at=timezone.now())
    assert client.get("/staff/").status_code == 302
    assert SESSION_KEY not in client.session


@pytest.mark.django_db
def test_a_deactivated_user_is_logged_out(world):
    client = web_client(world.staff_in_team.user)
    type(world.staff_in_team.user).objects.filter(pk=world.staff_in_team.user.pk).update(is_active=False)
    assert client.get("/staff/").status_code == 302


@pytest.mark.django_db
def test_logout_everywhere_ends_the_apps_tokens_too(world):
    user = world.staff_in_team.user
    client = web_client(user)
    other_browser = web_client(user)
    app_token = access_token_for(user, AppSession.Audience.STAFF)
    assert ApiClient(app_token).get("/api/v1/me").status_code == 200
    response = client.post("/staff/log-ud-alle/")
    assert response.status_code == 302
    assert ApiClient(app_token).get("/api/v1/me").status_code == 401
    assert other_browser.get("/staff/").status_code == 302
    assert not AppSession.objects.filter(user=user, acr="password+totp", revoked_at__isnull=True).exists()
    assert not Token.objects.filter(session__user=user, kind=Token.Kind.ACCESS).exists()


@pytest.mark.django_db
def test_logout_ends_only_this_browser(world):
    user = world.staff_in_team.user
    client, other_browser = web_client(user), web_client(user)
    assert client.post("/staff/log-ud/").status_code == 302
    assert client.get("/staff/").status_code == 302
    assert other_browser.get("/staff/").status_code == 200


@pytest.mark.django_db
def test_forms_need_the_csrf_token(therapist):
    client = Client(enforce_csrf_checks=True)
    assert _login(client, therapist).status_code == 403
    assert not AppSession.objects.filter(user=therapist, acr="password+totp").exists()


# --- The login read in one statement (backend/token_lookup.web_login) ---------------------------------------


@pytest.mark.django_db
def test_a_login_past_its_absolute_lifetime_is_logged_out(world):
    client = web_client(world.staff_in_team.user)
    assert client.get("/staff/").status_code == 200
    AppSession.objects.filter(pk=client.app_session.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/staff/").status_code == 302
    assert SESSION_KEY not in client.session


@pytest.mark.django_db
def test_a_membership_that_ended_takes_its_pages_away_on_the_next_request(world):
    client = web_client(world.staff_in_team.user)
    assert client.get("/staff/").status_code == 200
    world.staff_in_team.memberships.update(valid_to=timezone.localdate() - timedelta(days=2))
    assert client.get("/staff/").status_code == 404


@pytest.mark.django_db
def test_a_staff_page_reads_the_login_with_its_roles_in_one_statement(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = web_client(world.staff_in_team.user)
    client.get("/staff/")
    headers = {"X-Mestring-Background": "1"}
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/staff/", headers=headers).status_code == 200
    login_reads = [query["sql"] for query in queries.captured_queries if "backend_appsession" in query["sql"]]
    assert len(login_reads) == 1 and "backend_membership" in login_reads[0], login_reads
    own_memberships = str(world.staff_in_team.pk).replace("-", "")
    assert not [sql for sql in queries.captured_queries[1:] if own_memberships in sql["sql"]]


@pytest.mark.django_db
def test_a_citizen_login_acts_in_no_team_even_when_its_user_is_staff_too(world):
    from backend.web_sessions import web_actor

    user = world.staff_in_team.user
    client = web_client(user, AppSession.Audience.CITIZEN)
    request = type("Request", (), {})()
    request.session = import_module(settings.SESSION_ENGINE).SessionStore(
        client.cookies[settings.APP_SESSION_COOKIE_NAME].value
    )
    actor = web_actor(request, AppSession.Audience.CITIZEN)
    assert actor is not None and actor.memberships == [] and not actor.roles & {"therapist", "care_worker", "team_lead"}
