"""Rate limits and lockouts on password login and device credentials, with and without the shared cache."""

from datetime import timedelta
from unittest import mock

import pyotp
import pytest
from django.core.cache import caches
from django.utils import timezone

from backend.models import AccountLockout, AppSession, User
from backend.ratelimit import failure_record, lockout_check, lockout_lift
from tests.conftest import ApiClient

PASSWORD = "correct horse battery"
TOKEN_URL = "/api/v1/auth/token"


def login(user, *, password: str = PASSWORD, address: str = "192.0.2.10"):
    # Each attempt stands for a login in a new 30-second window: a TOTP code is accepted only once.
    User.objects.filter(pk=user.pk).update(totp_last_step=0)
    return ApiClient().post(
        TOKEN_URL,
        {
            "grant_type": "password",
            "username": user.username,
            "password": password,
            "totp_code": pyotp.TOTP(user.totp_secret).now(),
        },
        REMOTE_ADDR=address,
    )


def assert_too_many(response, code: str = "rate_limited") -> int:
    assert response.status_code == 429, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code
    retry_after = int(response["Retry-After"])
    assert retry_after >= 1
    return retry_after


@pytest.mark.django_db
def test_password_login_is_limited_per_account(world, settings):
    settings.RATE_LIMIT_PER_ACCOUNT = (3, 60)
    user = world.citizen.user
    sessions_before = AppSession.objects.filter(user=user).count()
    for number in range(3):
        assert login(user, address=f"192.0.2.{number}").status_code == 200

    retry_after = assert_too_many(login(user, address="192.0.2.99"))

    assert retry_after <= 60
    assert AppSession.objects.filter(user=user).count() == sessions_before + 3
    assert login(world.other_citizen.user, address="192.0.2.99").status_code == 200


@pytest.mark.django_db
def test_password_login_is_limited_per_client_address(world, settings):
    settings.RATE_LIMIT_PER_ADDRESS = (3, 60)
    users = [world.citizen.user, world.other_citizen.user, world.staff_in_team.user, world.it_staff.user]
    for user in users[:3]:
        assert login(user, address="198.51.100.7").status_code == 200
    sessions_before = AppSession.objects.count()

    assert_too_many(login(users[3], address="198.51.100.7"))

    assert AppSession.objects.count() == sessions_before
    assert login(users[3], address="198.51.100.8").status_code == 200


@pytest.mark.django_db
def test_the_limit_applies_to_wrong_passwords_too(world, settings):
    settings.RATE_LIMIT_PER_ACCOUNT = (2, 60)
    user = world.citizen.user
    assert login(user, password="wrong password 1").status_code == 401
    assert login(user, password="wrong password 2").status_code == 401
    assert_too_many(login(user))


@pytest.mark.django_db
def test_account_locks_after_repeated_failures_even_for_the_right_password(world, settings):
    settings.LOCKOUT_AFTER_FAILURES = 3
    user = world.citizen.user
    sessions_before = AppSession.objects.filter(user=user).count()
    for _ in range(3):
        assert login(user, password="not the password").status_code == 401

    response = login(user, address="203.0.113.5")

    retry_after = assert_too_many(response, code="locked_out")
    assert retry_after > 60
    assert AppSession.objects.filter(user=user).count() == sessions_before
    lockout = AccountLockout.objects.get(scope=AccountLockout.Scope.ACCOUNT, key=user.username.lower())
    assert lockout.is_locked


@pytest.mark.django_db
def test_lockout_counts_the_account_whatever_its_letter_case(world, settings):
    settings.LOCKOUT_AFTER_FAILURES = 2
    user = world.citizen.user
    for username in (user.username.upper(), f"  {user.username} "):
        response = ApiClient().post(
            TOKEN_URL,
            {"grant_type": "password", "username": username, "password": "x" * 12, "totp_code": "123456"},
        )
        assert response.status_code == 401
    assert_too_many(login(user), code="locked_out")


@pytest.mark.django_db
def test_administrator_lifts_the_lockout_and_login_works_again(world, settings):
    settings.LOCKOUT_AFTER_FAILURES = 3
    user = world.citizen.user
    for _ in range(3):
        login(user, password="not the password")
    assert_too_many(login(user), code="locked_out")
    administrator = world.it_staff.user

    lockout = AccountLockout.objects.get(scope=AccountLockout.Scope.ACCOUNT, key=user.username.lower())
    lockout_lift(lockout, by=administrator)

    assert login(user).status_code == 200
    lockout.refresh_from_db()
    assert lockout.lifted_by == administrator
    assert lockout.lifted_at is not None
    assert not lockout.is_locked


@pytest.mark.django_db
def test_after_a_lift_the_account_gets_the_full_number_of_attempts_again(world, settings):
    settings.LOCKOUT_AFTER_FAILURES = 3
    user = world.citizen.user
    for _ in range(3):
        login(user, password="not the password")
    lockout_lift(AccountLockout.objects.get(scope="account", key=user.username.lower()), by=None)

    assert login(user, password="not the password").status_code == 401
    assert login(user, password="not the password").status_code == 401
    assert login(user).status_code == 200


@pytest.mark.django_db
def test_lockout_runs_out_by_itself(world, settings):
    settings.LOCKOUT_AFTER_FAILURES = 2
    user = world.citizen.user
    for _ in range(2):
        login(user, password="not the password")
    assert_too_many(login(user), code="locked_out")

    later = timezone.now() + timedelta(seconds=settings.LOCKOUT_SECONDS + 1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert login(user).status_code == 200


@pytest.mark.django_db
def test_failures_far_apart_do_not_add_up_to_a_lockout(world, settings):
    settings.LOCKOUT_AFTER_FAILURES = 3
    key = "spread-out@example.dk"
    start = timezone.now()
    for day in range(5):
        with mock.patch("django.utils.timezone.now", return_value=start + timedelta(days=day)):
            failure_record(scope="account", key=key)
            lockout_check(scope="account", key=key)
    assert AccountLockout.objects.get(scope="account", key=key).locked_until is None


@pytest.mark.django_db
def test_a_successful_login_clears_the_accounts_failures(world, settings):
    settings.LOCKOUT_AFTER_FAILURES = 3
    user = world.citizen.user
    for _ in range(2):
        login(user, password="not the password")
    assert login(user).status_code == 200
    for _ in range(2):
        assert login(user, password="not the password").status_code == 401
    assert login(user).status_code == 200


@pytest.mark.django_db
def test_one_persons_lockout_does_not_lock_colleagues_behind_the_same_address(world, settings):
    settings.LOCKOUT_AFTER_FAILURES = 3
    for _ in range(3):
        login(world.staff_in_team.user, password="not the password", address="192.0.2.50")
    assert_too_many(login(world.staff_in_team.user, address="192.0.2.50"), code="locked_out")

    assert login(world.analyst.user, address="192.0.2.50").status_code == 200


@pytest.mark.django_db
def test_many_failures_from_one_address_lock_the_address(world, settings):
    settings.LOCKOUT_AFTER_FAILURES = 2
    settings.RATE_LIMIT_PER_ADDRESS = (1000, 60)
    address = "192.0.2.66"
    for number in range(20):
        response = ApiClient().post(
            TOKEN_URL,
            {"grant_type": "password", "username": f"guess{number}", "password": "x" * 12, "totp_code": "1"},
            REMOTE_ADDR=address,
        )
        if response.status_code == 429:
            break
        assert response.status_code == 401
    assert_too_many(login(world.citizen.user, address=address), code="locked_out")
    assert login(world.citizen.user, address="192.0.2.67").status_code == 200


@pytest.mark.django_db
def test_bad_device_tokens_are_rate_limited_per_address(world, settings):
    settings.RATE_LIMIT_PER_ADDRESS = (3, 60)
    bad = ["mdt_0123456789.wrong", "mdt_" + "f" * 10 + ".nope", "garbage", "mat_" + "a" * 43]
    for token in bad[:3]:
        response = ApiClient(token).get("/api/v1/device/me", REMOTE_ADDR="198.51.100.20")
        assert response.status_code == 401

    assert_too_many(ApiClient(bad[3]).get("/api/v1/device/me", REMOTE_ADDR="198.51.100.20"))

    assert ApiClient(world.device_token).get("/api/v1/device/me", REMOTE_ADDR="198.51.100.21").status_code == 200


@pytest.mark.django_db
def test_repeated_device_token_failures_lock_the_address_but_never_the_device(world, settings):
    settings.LOCKOUT_AFTER_FAILURES = 1  # addresses lock at five times the account threshold
    settings.RATE_LIMIT_PER_ADDRESS = (1000, 60)
    forged = world.device_token.rsplit(".", 1)[0] + ".forged-secret"
    attacker = "198.51.100.7"
    for _ in range(5):
        assert ApiClient(forged).get("/api/v1/device/me", REMOTE_ADDR=attacker).status_code == 401

    assert_too_many(ApiClient(forged).get("/api/v1/device/me", REMOTE_ADDR=attacker), code="locked_out")
    # Knowing the token's public prefix locks nobody out: the device itself keeps working, from anywhere.
    assert ApiClient(world.device_token).get("/api/v1/device/me", REMOTE_ADDR=attacker).status_code == 200
    assert ApiClient(world.device_token).get("/api/v1/device/me").status_code == 200
    lockout = AccountLockout.objects.get(scope=AccountLockout.Scope.ADDRESS, key=f"device:{attacker}")
    lockout_lift(lockout, by=world.it_staff.user)
    assert ApiClient(forged).get("/api/v1/device/me", REMOTE_ADDR=attacker).status_code == 401


class BrokenCache:
    """Stands in for a Redis that is down: every operation raises."""

    def __init__(self, monkeypatch, cache) -> None:
        self.calls = 0
        for name in ("add", "incr", "get", "set", "get_many", "set_many", "delete", "touch", "has_key"):
            monkeypatch.setattr(cache, name, self.fail)

    def fail(self, *args, **kwargs):
        self.calls += 1
        raise ConnectionError("Error 111 connecting to redis:6379. Connection refused.")


@pytest.mark.django_db
def test_limits_still_hold_when_the_shared_cache_is_down(world, settings, monkeypatch):
    settings.RATE_LIMIT_PER_ACCOUNT = (3, 60)
    broken = BrokenCache(monkeypatch, caches["shared"])
    user = world.citizen.user

    statuses = [login(user).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]

    assert_too_many(login(user))
    assert broken.calls > 0


@pytest.mark.django_db
def test_device_limit_and_lockout_hold_when_the_shared_cache_is_down(world, settings, monkeypatch):
    settings.RATE_LIMIT_PER_ADDRESS = (2, 60)
    BrokenCache(monkeypatch, caches["shared"])
    for _ in range(2):
        assert ApiClient("mdt_0123456789.bad").get("/api/v1/device/me").status_code == 401
    assert_too_many(ApiClient("mdt_0123456789.bad").get("/api/v1/device/me"))
    assert ApiClient(world.device_token).get("/api/v1/device/me").status_code == 200


@pytest.mark.django_db
def test_refresh_and_wrong_passwords_never_answer_500_when_the_shared_cache_is_down(world, monkeypatch):
    BrokenCache(monkeypatch, caches["shared"])
    user = world.citizen.user
    assert login(user, password="not the password").status_code == 401
    response = login(user)
    assert response.status_code == 200
    refreshed = ApiClient().post(
        TOKEN_URL, {"grant_type": "refresh_token", "refresh_token": response.json()["refresh_token"]}
    )
    assert refreshed.status_code == 200


# --- The real client behind a proxy -----------------------------------------------------------------


def _refresh(refresh_token: str, address: str, forwarded: str | None = None):  # type: ignore[no-untyped-def]
    extra = {"REMOTE_ADDR": address}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return ApiClient().post(TOKEN_URL, {"grant_type": "refresh_token", "refresh_token": refresh_token}, **extra)


def _refresh_token(world) -> str:  # type: ignore[no-untyped-def]
    from backend.models import AppSession
    from backend.services.identity import ClientInfo, session_start

    client = ClientInfo("192.0.2.1", "")
    return session_start(user=world.citizen.user, audience=AppSession.Audience.CITIZEN, client=client).refresh_token


BAD = "mrt_" + "x" * 40


@pytest.mark.django_db
def test_one_client_sending_bad_refresh_tokens_does_not_stop_another_clients_refresh(world):
    statuses = [_refresh(BAD, "203.0.113.7").status_code for _ in range(35)]
    assert statuses.count(401) == 30 and statuses[-1] == 429
    assert _refresh(_refresh_token(world), "198.51.100.20").status_code == 200
    assert _refresh(_refresh_token(world), "203.0.113.7").status_code == 429  # the one sending them waits


@pytest.mark.django_db
def test_behind_a_trusted_proxy_each_client_is_told_apart_by_x_forwarded_for(world, settings):
    from backend import ratelimit

    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    ratelimit._trusted_proxies.cache_clear()
    try:
        for _ in range(35):
            _refresh(BAD, "127.0.0.1", "203.0.113.7")
        assert _refresh(BAD, "127.0.0.1", "203.0.113.7").status_code == 429
        assert _refresh(_refresh_token(world), "127.0.0.1", "198.51.100.20").status_code == 200
        # A client cannot pick another's address: a header from an untrusted peer is its own say.
        assert _refresh(_refresh_token(world), "198.51.100.99", "203.0.113.7").status_code == 200
    finally:
        settings.TRUSTED_PROXIES = []
        ratelimit._trusted_proxies.cache_clear()


def test_the_client_address_is_the_nearest_hop_that_is_not_a_trusted_proxy(settings, rf):
    from backend import ratelimit

    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "127.0.0.1"]
    ratelimit._trusted_proxies.cache_clear()
    try:
        behind = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.1, 203.0.113.7, 10.1.2.3")
        assert ratelimit.client_address(behind) == "203.0.113.7"
        direct = rf.get("/", REMOTE_ADDR="198.51.100.5", HTTP_X_FORWARDED_FOR="203.0.113.7")
        assert ratelimit.client_address(direct) == "198.51.100.5"
        garbage = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="not-an-address")
        assert ratelimit.client_address(garbage) == "127.0.0.1"
    finally:
        settings.TRUSTED_PROXIES = []
        ratelimit._trusted_proxies.cache_clear()
