"""Logging in with password and TOTP, refreshing with rotation, signing devices out, revoking."""

import io
from datetime import timedelta
from unittest import mock

import pyotp
import pytest
from django.utils import timezone

from backend.models import AppSession, Token, User
from tests.conftest import ApiClient

PASSWORD = "correct horse battery"
TOKEN_URL = "/api/v1/auth/token"


def password_login(user, *, install_id: str = "", device_name: str = "", address: str = "127.0.0.1"):
    # Each login stands for one in a new 30-second window: a TOTP code is accepted only once.
    User.objects.filter(pk=user.pk).update(totp_last_step=0)
    return ApiClient().post(
        TOKEN_URL,
        {
            "grant_type": "password",
            "username": user.username,
            "password": PASSWORD,
            "totp_code": pyotp.TOTP(user.totp_secret).now(),
            "install_id": install_id,
            "device_name": device_name,
        },
        REMOTE_ADDR=address,
    )


def refresh(refresh_token: str):
    return ApiClient().post(TOKEN_URL, {"grant_type": "refresh_token", "refresh_token": refresh_token})


def logged_in(user, **kwargs) -> dict:
    response = password_login(user, **kwargs)
    assert response.status_code == 200, response.content
    return response.json()


def me_status(access_token: str) -> int:
    return ApiClient(access_token).get("/api/v1/me").status_code


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code
    return body


@pytest.mark.django_db
def test_password_and_totp_give_working_access_and_refresh_tokens(world):
    body = logged_in(world.citizen.user, install_id="install-1", device_name="Annes telefon")

    assert body["token_type"] == "Bearer"
    assert body["access_token"].startswith("mat_")
    assert body["refresh_token"].startswith("mrt_")
    assert body["expires_in"] == 15 * 60
    session = AppSession.objects.get(pk=body["session_id"])
    assert session.user == world.citizen.user
    assert session.audience == AppSession.Audience.CITIZEN
    assert session.device_name == "Annes telefon"
    me = ApiClient(body["access_token"]).get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["citizen"]["id"] == str(world.citizen.id)
    # Only hashes are stored.
    assert not Token.objects.filter(token_hash=body["access_token"]).exists()


@pytest.mark.django_db
def test_staff_login_gets_a_staff_session(world):
    body = logged_in(world.staff_in_team.user)
    assert AppSession.objects.get(pk=body["session_id"]).audience == AppSession.Audience.STAFF
    me = ApiClient(body["access_token"]).get("/api/v1/me").json()
    assert [role["code"] for role in me["roles"]] == ["therapist"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        {"password": "wrong horse battery"},
        {"totp_code": "000000"},
        {"username": "nobody-by-that-name"},
    ],
)
def test_wrong_password_code_or_username_is_401_and_creates_no_session(world, change):
    user = world.citizen.user
    payload = {
        "grant_type": "password",
        "username": user.username,
        "password": PASSWORD,
        "totp_code": pyotp.TOTP(user.totp_secret).now(),
    }
    if change.get("totp_code") == payload["totp_code"]:
        change = {"totp_code": "999999"}
    payload.update(change)
    sessions_before = AppSession.objects.count()

    response = ApiClient().post(TOKEN_URL, payload)

    assert_problem(response, 401, "invalid_credentials")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert AppSession.objects.count() == sessions_before


@pytest.mark.django_db
def test_user_without_totp_secret_cannot_log_in_with_password(world):
    user = world.citizen.user
    totp = pyotp.TOTP(user.totp_secret).now()
    user.totp_secret = ""
    user.save(update_fields=["totp_secret"])
    response = ApiClient().post(
        TOKEN_URL, {"grant_type": "password", "username": user.username, "password": PASSWORD, "totp_code": totp}
    )
    assert_problem(response, 401, "invalid_credentials")


@pytest.mark.django_db
def test_disabled_account_cannot_log_in_and_its_tokens_stop_working(world):
    body = logged_in(world.citizen.user)
    world.citizen.user.is_active = False
    world.citizen.user.save(update_fields=["is_active"])

    assert_problem(password_login(world.citizen.user), 401, "invalid_credentials")
    assert me_status(body["access_token"]) == 401
    assert_problem(refresh(body["refresh_token"]), 401, "session_revoked")


@pytest.mark.django_db
def test_refresh_rotates_the_refresh_token(world):
    first = logged_in(world.citizen.user)

    response = refresh(first["refresh_token"])
    assert response.status_code == 200, response.content
    second = response.json()

    assert second["session_id"] == first["session_id"]
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert me_status(second["access_token"]) == 200
    third = refresh(second["refresh_token"])
    assert third.status_code == 200, third.content


@pytest.mark.django_db
def test_replayed_refresh_token_revokes_the_whole_session(world):
    first = logged_in(world.citizen.user)
    second = refresh(first["refresh_token"]).json()
    third = refresh(second["refresh_token"]).json()
    assert me_status(third["access_token"]) == 200

    replay = refresh(first["refresh_token"])

    body = assert_problem(replay, 401, "refresh_token_reused")
    assert "fornyelsesnøglen" in body["detail"].lower()
    assert me_status(third["access_token"]) == 401
    assert me_status(second["access_token"]) == 401
    assert_problem(refresh(third["refresh_token"]), 401, "session_revoked")
    session = AppSession.objects.get(pk=first["session_id"])
    assert session.revoked_at is not None
    assert session.revoke_reason == AppSession.RevokeReason.REFRESH_REUSE


@pytest.mark.django_db
def test_replay_in_one_session_leaves_the_users_other_logins_alone(world):
    phone = logged_in(world.citizen.user, install_id="phone")
    tablet = logged_in(world.citizen.user, install_id="tablet")
    refresh(phone["refresh_token"])

    assert_problem(refresh(phone["refresh_token"]), 401, "refresh_token_reused")

    assert me_status(tablet["access_token"]) == 200
    assert refresh(tablet["refresh_token"]).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("raw", ["mrt_" + "x" * 43, "not-a-token", "mat_" + "y" * 43])
def test_unknown_or_wrong_kind_of_refresh_token_is_401(world, raw):
    assert_problem(refresh(raw), 401, "invalid_refresh_token")


@pytest.mark.django_db
def test_access_token_is_refused_as_refresh_token(world):
    body = logged_in(world.citizen.user)
    assert_problem(refresh(body["access_token"]), 401, "invalid_refresh_token")
    assert me_status(body["access_token"]) == 200


@pytest.mark.django_db
def test_expired_access_token_is_401_and_refresh_still_works(world, settings):
    body = logged_in(world.citizen.user)
    later = timezone.now() + timedelta(seconds=settings.ACCESS_TOKEN_TTL_SECONDS + 1)

    with mock.patch("django.utils.timezone.now", return_value=later):
        response = ApiClient(body["access_token"]).get("/api/v1/me")
        assert_problem(response, 401, "not_authenticated")
        renewed = refresh(body["refresh_token"])
        assert renewed.status_code == 200, renewed.content
        assert me_status(renewed.json()["access_token"]) == 200


@pytest.mark.django_db
def test_expired_refresh_token_is_401(world, settings):
    body = logged_in(world.citizen.user)
    later = timezone.now() + timedelta(seconds=settings.REFRESH_TOKEN_TTL_SECONDS + 1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert_problem(refresh(body["refresh_token"]), 401, "refresh_token_expired")


@pytest.mark.django_db
def test_sessions_list_shows_the_callers_logins_with_the_current_one_marked(world):
    phone = logged_in(world.citizen.user, install_id="phone", device_name="Telefon")
    logged_in(world.citizen.user, install_id="tablet", device_name="Tablet")
    other = logged_in(world.other_citizen.user, install_id="other", device_name="Andens telefon")

    response = ApiClient(phone["access_token"]).get("/api/v1/me/sessions")

    assert response.status_code == 200
    items = response.json()["items"]
    by_name = {item["device_name"]: item for item in items}
    assert {"Telefon", "Tablet"} <= set(by_name)
    assert "Andens telefon" not in by_name
    assert other["session_id"] not in {item["id"] for item in items}
    assert by_name["Telefon"]["is_current"] is True
    assert by_name["Telefon"]["id"] == phone["session_id"]
    assert by_name["Tablet"]["is_current"] is False
    assert sum(item["is_current"] for item in items) == 1


@pytest.mark.django_db
def test_signing_out_another_device_stops_its_tokens_on_the_next_request(world):
    phone = logged_in(world.citizen.user, install_id="phone")
    tablet = logged_in(world.citizen.user, install_id="tablet")
    assert me_status(tablet["access_token"]) == 200

    response = ApiClient(phone["access_token"]).delete(f"/api/v1/me/sessions/{tablet['session_id']}")

    assert response.status_code == 204
    assert me_status(tablet["access_token"]) == 401
    assert_problem(refresh(tablet["refresh_token"]), 401, "session_revoked")
    assert me_status(phone["access_token"]) == 200
    listed = ApiClient(phone["access_token"]).get("/api/v1/me/sessions").json()["items"]
    assert tablet["session_id"] not in {item["id"] for item in listed}


@pytest.mark.django_db
def test_another_users_session_is_404_and_stays_signed_in(world):
    mine = logged_in(world.citizen.user)
    theirs = logged_in(world.other_citizen.user)

    response = ApiClient(mine["access_token"]).delete(f"/api/v1/me/sessions/{theirs['session_id']}")

    assert_problem(response, 404, "not_found")
    assert me_status(theirs["access_token"]) == 200
    assert AppSession.objects.get(pk=theirs["session_id"]).revoked_at is None


@pytest.mark.django_db
def test_logout_signs_out_this_device_only(world):
    phone = logged_in(world.citizen.user, install_id="phone")
    tablet = logged_in(world.citizen.user, install_id="tablet")

    response = ApiClient(phone["access_token"]).post("/api/v1/auth/logout")

    assert response.status_code == 204
    assert me_status(phone["access_token"]) == 401
    assert_problem(refresh(phone["refresh_token"]), 401, "session_revoked")
    assert me_status(tablet["access_token"]) == 200


@pytest.mark.django_db
def test_logout_without_a_token_is_401(world):
    assert_problem(ApiClient().post("/api/v1/auth/logout"), 401, "not_authenticated")


@pytest.mark.django_db
def test_new_login_from_the_same_install_replaces_its_earlier_session(world):
    first = logged_in(world.citizen.user, install_id="phone")
    second = logged_in(world.citizen.user, install_id="phone")
    assert me_status(first["access_token"]) == 401
    assert me_status(second["access_token"]) == 200


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["access_token", "refresh_token"])
def test_revoking_a_token_signs_its_session_out(world, kind):
    body = logged_in(world.citizen.user)
    response = ApiClient().post("/api/v1/auth/revoke", {"token": body[kind]})
    assert response.status_code == 204
    assert me_status(body["access_token"]) == 401
    assert_problem(refresh(body["refresh_token"]), 401, "session_revoked")


@pytest.mark.django_db
@pytest.mark.parametrize("raw", ["mat_" + "z" * 43, "mrt_" + "z" * 43, "something-else"])
def test_revoking_an_unknown_token_is_204_and_changes_nothing(world, raw):
    body = logged_in(world.citizen.user)
    tokens_before = Token.objects.count()

    response = ApiClient().post("/api/v1/auth/revoke", {"token": raw})

    assert response.status_code == 204
    assert response.content == b""
    assert Token.objects.count() == tokens_before
    assert not AppSession.objects.filter(revoked_at__isnull=False).exists()
    assert me_status(body["access_token"]) == 200


@pytest.mark.django_db
def test_password_login_disabled_is_404_problem(world, settings):
    settings.PASSWORD_LOGIN_ENABLED = False
    sessions_before = AppSession.objects.count()

    response = password_login(world.citizen.user)

    assert_problem(response, 404, "not_found")
    assert AppSession.objects.count() == sessions_before


@pytest.mark.django_db
def test_refresh_still_works_when_password_login_is_disabled(world, settings):
    body = logged_in(world.citizen.user)
    settings.PASSWORD_LOGIN_ENABLED = False
    assert refresh(body["refresh_token"]).status_code == 200


@pytest.mark.django_db
def test_a_one_time_code_works_only_once(world):
    import pyotp

    from backend.services.identity import totp_verify

    user = world.staff_in_team.user
    code = pyotp.TOTP(user.totp_secret).now()
    assert totp_verify(user, code)
    user.refresh_from_db()
    assert not totp_verify(user, code)


@pytest.mark.django_db
def test_the_daily_purge_removes_tokens_expired_a_day_ago_and_keeps_the_rest(world):
    from django.core.management import call_command

    valid = logged_in(world.citizen.user)
    stale = logged_in(world.other_citizen.user)
    Token.objects.filter(session_id=stale["session_id"]).update(expires_at=timezone.now() - timedelta(days=2))
    call_command("purge_expired", stdout=io.StringIO())
    assert not Token.objects.filter(session_id=stale["session_id"]).exists()
    assert Token.objects.filter(session_id=valid["session_id"]).count() == 2
    assert me_status(valid["access_token"]) == 200
