"""The citizen app's pages: login and logout at /app/, the shell, the manifest and the service worker."""

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client

from backend.models import AccountLockout, AppSession
from borgerapp import assets
from tests.borgerapp.helpers import PASSWORD, app_client, with_password
from tests.conftest import ApiClient, access_token_for
from tests.staffweb.helpers import web_client


def _login(client: Client, user, *, code: str | None = None, password: str = PASSWORD):
    code = code if code is not None else pyotp.TOTP(user.totp_secret).now()
    return client.post("/app/log-ind/", {"username": user.username, "password": password, "totp_code": code})


@pytest.mark.django_db
def test_anonymous_gets_the_login_and_the_api_no_data(world):
    response = Client().get("/app/")
    assert response.status_code == 302 and response["Location"] == "/app/log-ind/"
    page = Client().get("/app/log-ind/")
    assert page.status_code == 200
    assert 'autocomplete="one-time-code"' in page.content.decode()


@pytest.mark.django_db
def test_the_login_page_speaks_english_when_the_browser_asks_and_switches_language_on_request(world):
    english = Client(HTTP_ACCEPT_LANGUAGE="en")
    page = english.get("/app/log-ind/?logget-ud=her").content.decode()
    assert '<html lang="en">' in page
    for text in ("Log in", "Username", "Password", "One-time code", "You are logged out.", "Skip to content"):
        assert text in page, text
    assert "Brugernavn" not in page and "Adgangskode" not in page
    # A refused login is said in the page's language too.
    refused = english.post("/app/log-ind/", {"username": "nobody", "password": "wrong", "totp_code": "000000"})
    assert refused.status_code == 200
    assert "Wrong username, password or one-time code." in refused.content.decode()

    # A Danish browser gets Danish, and its "English" button switches the login (and the app) for the device.
    danish = Client()
    page = danish.get("/app/log-ind/").content.decode()
    assert '<html lang="da">' in page and "Brugernavn" in page
    assert 'name="language" value="en"' in page
    switched = danish.post("/app/sprog/", {"language": "en", "next": "/app/log-ind/"})
    assert switched.status_code == 302 and switched["Location"] == "/app/log-ind/"
    assert danish.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    page = danish.get("/app/log-ind/").content.decode()
    assert '<html lang="en">' in page and "Username" in page and 'name="language" value="da"' in page


@pytest.mark.django_db
def test_the_shell_speaks_the_chosen_language_before_the_app_starts(world):
    client = app_client(world.citizen.user)
    danish = client.get("/app/").content.decode()
    assert '<html lang="da">' in danish
    for text in ("Gå til sidens indhold", 'aria-label="Hovedmenu"', "Henter …", "Appen kræver JavaScript."):
        assert text in danish, text
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get("/app/").content.decode()
    assert '<html lang="en">' in english
    for text in ("Skip to content", 'aria-label="Main menu"', "Loading …", "The app needs JavaScript."):
        assert text in english, text


@pytest.mark.django_db
def test_a_citizen_logs_in_with_password_and_code_and_gets_a_citizen_session(world):
    user = with_password(world.citizen.user)
    client = Client()
    response = _login(client, user)
    assert response.status_code == 302 and response["Location"] == "/app/"
    session = AppSession.objects.get(user=user, acr="password+totp")
    assert session.audience == AppSession.Audience.CITIZEN and session.device_name == "Borger-web"
    assert session.expires_at - session.created_at <= timedelta(minutes=settings.CITIZEN_WEB_LIFETIME_MINUTES)
    cookie = client.cookies[settings.APP_SESSION_COOKIE_NAME]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert settings.SESSION_COOKIE_NAME not in client.cookies  # the staff web's cookie is not the app's
    assert client.get("/app/").status_code == 200
    assert client.get("/api/v1/me/goals").status_code == 200


@pytest.mark.django_db
def test_the_api_tells_the_app_when_its_login_ends_at_the_latest(world, settings):
    settings.WEB_SESSION_POLICY = {**settings.WEB_SESSION_POLICY, "citizen": {"idle": 60, "lifetime": 90}}
    user = with_password(world.citizen.user)
    client = Client()
    _login(client, user)
    session = AppSession.objects.get(user=user, acr="password+totp")
    body = client.get("/api/v1/me").json()
    # The absolute lifetime fixed at login, not the idle timeout that a use moves on.
    ends = datetime.fromisoformat(body["session_expires_at"])
    assert abs(ends - (session.created_at + timedelta(minutes=90))) < timedelta(milliseconds=1)
    schema = client.get("/api/v1/openapi.json").json()["components"]["schemas"]["MeOut"]
    assert "session_expires_at" in schema["required"]
    assert "absolute lifetime" in schema["properties"]["session_expires_at"]["description"]


@pytest.mark.django_db
def test_a_wrong_code_is_refused_in_danish_and_counted_towards_the_lockout(world):
    user = with_password(world.citizen.user)
    response = _login(Client(), user, code="000000")
    assert response.status_code == 200
    assert "Forkert brugernavn, adgangskode eller engangskode." in response.content.decode()
    assert not AppSession.objects.filter(user=user, acr="password+totp").exists()
    assert AccountLockout.objects.get(scope="account", key=user.username.lower()).failures == 1


@pytest.mark.django_db
def test_staff_cannot_log_in_to_the_citizen_app(world):
    user = with_password(world.staff_in_team.user)
    client = Client()
    response = _login(client, user)
    assert response.status_code == 200 and "Forkert brugernavn" in response.content.decode()
    assert not AppSession.objects.filter(user=user, acr="password+totp", revoked_at__isnull=True).exists()
    assert client.get("/app/").status_code == 302


@pytest.mark.django_db
def test_the_login_form_needs_the_csrf_token(world):
    user = with_password(world.citizen.user)
    assert _login(Client(enforce_csrf_checks=True), user).status_code == 403
    assert not AppSession.objects.filter(user=user, acr="password+totp").exists()


@pytest.mark.django_db
def test_logout_here_ends_this_browser_and_empties_its_storage(world):
    client = app_client(world.citizen.user)
    other_browser = app_client(world.citizen.user)
    token = client.cookies["csrftoken"].value
    response = client.post("/app/log-ud/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == "/app/log-ind/?logget-ud=her"
    assert "Du er logget ud." in client.get(response["Location"]).content.decode()
    assert response["Clear-Site-Data"] == '"cache", "storage"'
    assert client.get("/api/v1/me/goals").status_code == 401
    assert other_browser.get("/api/v1/me/goals").status_code == 200
    assert AppSession.objects.get(pk=client.app_session.pk).revoked_at is not None  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_logout_everywhere_ends_the_phone_apps_tokens_too(world):
    client = app_client(world.citizen.user)
    phone = ApiClient(access_token_for(world.citizen.user))
    assert phone.get("/api/v1/me").status_code == 200
    response = client.post("/app/log-ud-alle/", {"csrfmiddlewaretoken": client.cookies["csrftoken"].value})
    assert response.status_code == 302 and response["Location"] == "/app/log-ind/?logget-ud=alle"
    # The citizen sees that it worked.
    assert "Du er logget ud på alle dine enheder." in client.get(response["Location"]).content.decode()
    assert "logget ud" not in Client().get("/app/log-ind/?logget-ud=noget-andet").content.decode()
    assert phone.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me").status_code == 401


@pytest.mark.django_db
def test_logout_needs_the_csrf_token(world):
    client = app_client(world.citizen.user)
    assert client.post("/app/log-ud/").status_code == 403
    assert client.get("/api/v1/me").status_code == 200


@pytest.mark.django_db
def test_the_shell_has_no_inline_script_or_style_and_a_strict_csp(world):
    client = app_client(world.citizen.user)
    response = client.get("/app/")
    body = response.content.decode()
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "unsafe-inline" not in policy
    scripts = re.findall(r"<script([^>]*)>", body)
    assert all('src="' in attributes or 'type="application/json"' in attributes for attributes in scripts)
    assert 'type="module"' in body
    assert " style=" not in body and "<style" not in body
    assert "csrftoken" in client.cookies
    # The catalogue of problem texts is the shell's data, the same codes as the API's.
    problems = json.loads(re.search(r'<script id="problems" type="application/json">(.*?)</script>', body, re.S)[1])
    assert problems["da"]["invalid_credentials"] == "Forkert brugernavn, adgangskode eller engangskode."
    assert set(problems["en"]) <= set(problems["da"])


def test_the_service_worker_is_served_from_the_app_and_precaches_files_that_exist(client):
    response = client.get("/app/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/app/"
    body = response.content.decode()
    assert f'const VERSION = "{assets.version()}"' in body
    precache = json.loads(re.search(r"const PRECACHE = (\[.*?\]);", body)[1])
    assert precache == assets.precache_urls()
    for path in assets.STYLESHEETS + assets.FONTS + assets.ICONS + assets.MODULES:
        assert finders.find(path), path


def test_the_manifest_makes_the_app_installable(client):
    response = client.get("/app/manifest.webmanifest")
    assert response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert manifest["start_url"] == "/app/" and manifest["scope"] == "/app/" and manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes


def test_the_italic_face_of_the_citizens_own_words_is_precached():
    css = Path(str(finders.find("borgerapp/app.css"))).read_text(encoding="utf-8")
    assert re.search(r"\.app-own-words\s*\{[^}]*font-style:\s*italic", css)
    faces = Path(str(finders.find(f"{assets.DKFDS}fonts/plex-latin1.css"))).read_text(encoding="utf-8")
    italic = re.search(r'font-style: italic; font-weight: 400;[^}]*url\("([^"]+)"\)', faces)[1]
    assert f"{assets.DKFDS}fonts/{italic}" in assets.FONTS


def test_every_module_the_app_imports_is_precached():
    found = set()
    for path in assets.MODULES:
        source = Path(str(finders.find(path))).read_text(encoding="utf-8")
        base = path.rsplit("/", 1)[0]
        for target in re.findall(r'(?:from|import\()\s*"(\.[^"]+)"', source):
            parts = base.split("/")
            for piece in target.split("/"):
                if piece == "..":
                    parts.pop()
                elif piece != ".":
                    parts.append(piece)
            found.add("/".join(parts))
    assert found <= set(assets.MODULES)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "opens"),
    [
        ("citizen", True),
        ("other_citizen", True),
        ("relative_with_consent", True),
        ("relative_without_consent", True),
        ("staff_in_team", False),
        ("it", False),
        ("analyst", False),
    ],
)
def test_the_shell_by_role(world, role, opens):
    """A person of the citizen audience gets the shell, staff cannot log in to it (their cookie login is
    for the staff pages) and are sent to the app's login."""
    person = {"it": world.it_staff, "analyst": world.analyst}.get(role) or getattr(world, role)
    audience = AppSession.Audience.CITIZEN if opens else AppSession.Audience.STAFF
    client = web_client(person.user, audience)
    response = client.get("/app/")
    if opens:
        assert response.status_code == 200
        config = re.search(r'<script id="app-config" type="application/json">(.*?)</script>', response.content.decode())
        assert config is not None and "roles" not in json.loads(config[1])
    else:
        assert response.status_code == 302 and response["Location"] == "/app/log-ind/"


@pytest.mark.django_db
def test_the_shell_is_the_same_for_everyone_so_a_cached_one_shows_nobody_s_data(world):
    """The service worker keeps the shell and opens the app from it for whoever logs in next on the device:
    it holds nothing of the person (the app asks the API who is logged in)."""
    shells = set()
    for person in (world.citizen, world.other_citizen, world.relative_with_consent):
        body = web_client(person.user, AppSession.Audience.CITIZEN).get("/app/").content.decode()
        for value in (person.user.username, str(person.user.pk), person.user.display_name):
            assert not value or value not in body
        shells.add(body)
    assert len(shells) == 1


@pytest.mark.django_db
def test_exercise_pictures_open_with_the_cookie_login(world):
    missing = "/api/v1/exercise-images/00000000-0000-0000-0000-000000000000/medium"
    assert Client().get(missing).status_code == 401
    assert app_client(world.citizen.user).get(missing).status_code == 404


@pytest.mark.django_db
def test_the_app_and_the_staff_web_keep_their_logins_in_separate_cookies(world):
    browser = web_client(world.staff_in_team.user)
    app = app_client(world.citizen.user)
    browser.cookies[settings.APP_SESSION_COOKIE_NAME] = app.cookies[settings.APP_SESSION_COOKIE_NAME].value
    # One browser, both logins: each web app sees its own, and the API only the app's.
    assert browser.get("/staff/").status_code == 200
    assert browser.get("/app/").status_code == 200
    assert browser.get("/api/v1/me").json()["citizen"]["id"] == str(world.citizen.pk)
    assert browser.post("/app/log-ud/").status_code == 302
    assert browser.get("/app/").status_code == 302
    assert browser.get("/staff/").status_code == 200  # signing out of the app leaves the staff web alone
