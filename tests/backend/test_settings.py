"""Production safety of the settings: no embedded secrets, a clean deploy check, no demo logins."""

import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings as django_settings

from backend.checks import assert_safe_to_serve, demo_login_errors
from tests import factories

BASE_DIR = Path(django_settings.BASE_DIR)
PUBLIC_HOST = "mestring.example.dk"


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [sys.executable, *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def base_environment(directory: Path) -> dict[str, str]:
    """A clean environment: nothing from the developer's shell, files only under ``directory``."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(directory),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "VAR_DIR": str(directory),
        "STATIC_ROOT": str(directory / "static"),
        "MEDIA_ROOT": str(directory / "media"),
        "DATABASE_URL": f"sqlite:///{directory / 'production.sqlite3'}",
    }


def production_environment(directory: Path) -> dict[str, str]:
    return {
        **base_environment(directory),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(45)[:60],
        "ALLOWED_HOSTS": PUBLIC_HOST,
        "CSRF_TRUSTED_ORIGINS": f"https://{PUBLIC_HOST}",
        "CPR_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "CPR_HASH_KEY": secrets.token_urlsafe(32),
        "PUBLIC_BASE_URL": f"https://{PUBLIC_HOST}",
    }


SETUP = "import django; django.setup(); print('configured')"


@pytest.fixture(scope="module")
def production(tmp_path_factory) -> dict[str, str]:
    """A migrated production database in a temporary directory, and the environment that serves it."""
    environment = production_environment(tmp_path_factory.mktemp("production"))
    migrated = run(environment, "manage.py", "migrate", "--no-input", "-v", "0")
    assert migrated.returncode == 0, migrated.stderr
    return environment


@pytest.fixture
def production_copy(production, tmp_path) -> dict[str, str]:
    """The same migrated production database, copied so that a test may change it."""
    source = Path(production["DATABASE_URL"].removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copy(f"{source}{suffix}", tmp_path / f"production.sqlite3{suffix}")
    return {**production, **{key: value for key, value in base_environment(tmp_path).items() if key != "PATH"}}


def test_settings_refuse_to_load_without_a_secret_key_when_debug_is_off(tmp_path):
    environment = {**base_environment(tmp_path), "DEBUG": "0"}
    result = run(environment, "-c", SETUP)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr
    assert "configured" not in result.stdout


def test_settings_refuse_a_short_secret_key(tmp_path):
    environment = {**production_environment(tmp_path), "SECRET_KEY": "too-short"}
    result = run(environment, "-c", SETUP)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize(
    "lease",
    [
        "REMINDER_CLAIM_LEASE_SECONDS",
        "TASK_RUNNING_LEASE_SECONDS",
        "STREAM_LAYER_PROBE_SECONDS",
        "STREAM_LAYER_PROBE_TIMEOUT_SECONDS",
    ],
)
def test_settings_refuse_a_lease_or_probe_of_zero(tmp_path, lease):
    """A claim lease of 0 would let a second dispatcher take every batch the moment it is claimed."""
    result = run({**base_environment(tmp_path), lease: "0"}, "-c", SETUP)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert lease in result.stderr
    assert run({**base_environment(tmp_path), lease: "30"}, "-c", SETUP).stdout.strip() == "configured"


@pytest.mark.parametrize("missing", ["CPR_ENCRYPTION_KEYS", "CPR_HASH_KEY"])
def test_settings_refuse_the_embedded_cpr_keys_when_debug_is_off(tmp_path, missing):
    environment = production_environment(tmp_path)
    del environment[missing]
    result = run(environment, "-c", SETUP)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "CPR" in result.stderr


def test_settings_load_with_the_production_environment(tmp_path):
    result = run(production_environment(tmp_path), "-c", SETUP)
    assert result.returncode == 0, result.stderr
    assert "configured" in result.stdout


def test_debug_mode_loads_with_no_environment_at_all(tmp_path):
    result = run(base_environment(tmp_path), "-c", SETUP)
    assert result.returncode == 0, result.stderr


def test_seed_demo_remove_works_with_debug_off_and_then_the_service_may_start(production_copy):
    demo = {**production_copy, "DEBUG": "1"}
    assert run(demo, "manage.py", "seed_demo").returncode == 0
    refused = run(production_copy, "manage.py", "check")
    assert refused.returncode != 0 and "mestring.E001" in refused.stderr
    removed = run(production_copy, "manage.py", "seed_demo", "--remove")
    assert removed.returncode == 0, removed.stderr
    assert run(production_copy, "manage.py", "check").returncode == 0


def test_a_database_with_a_missing_access_trigger_fails_check_and_migrate_puts_it_right(production_copy):
    drop = (
        "import django; django.setup(); from django.db import connection; "
        "connection.cursor().execute('DROP TRIGGER backend_user_access_changed_update')"
    )
    assert run(production_copy, "-c", drop).returncode == 0
    failed = run(production_copy, "manage.py", "check")
    assert failed.returncode != 0 and "mestring.E002" in failed.stderr
    migrated = run(production_copy, "manage.py", "migrate", "--no-input", "-v", "0")
    assert migrated.returncode == 0, migrated.stderr
    assert run(production_copy, "manage.py", "check").returncode == 0


def test_the_embedded_origins_and_redirects_follow_port(tmp_path):
    """A browser on the embedded server at another port may open the websocket and finish a login."""
    script = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.WEBSOCKET_ALLOWED_ORIGINS, settings.APP_REDIRECT_URIS, settings.PUBLIC_BASE_URL)"
    )
    result = run({**base_environment(tmp_path), "PORT": "8101"}, "-c", script)
    assert result.returncode == 0, result.stderr
    assert "http://127.0.0.1:8101" in result.stdout and "http://localhost:8101" in result.stdout
    assert "http://127.0.0.1:8101/auth/done" in result.stdout
    assert ":8000" not in result.stdout


def test_deploy_check_passes_with_the_production_environment(production):
    result = run(production, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_are_secure(production):
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_HSTS_SECONDS >= 31536000, s.PASSWORD_LOGIN_ENABLED, s.ALLOWED_HOSTS)"
    )
    result = run(production, "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"False True True True True False ['{PUBLIC_HOST}']"


def test_health_endpoints_are_not_redirected_to_https(production):
    script = (
        "import django; django.setup(); from django.test import Client; "
        f"client = Client(HTTP_HOST='{PUBLIC_HOST}'); "
        "print(client.get('/healthz').status_code, client.get('/api/v1/me').status_code)"
    )
    result = run(production, "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["200", "301"]


def test_demo_user_in_a_production_database_fails_the_check_and_the_start(production_copy):
    create_demo_user = (
        "import django; django.setup(); from backend.models import User; "
        "User.objects.create(username='demo-borger', display_name='Demo', is_demo=True)"
    )
    created = run(production_copy, "-c", create_demo_user)
    assert created.returncode == 0, created.stderr

    check = run(production_copy, "manage.py", "check")
    assert check.returncode != 0
    assert "mestring.E001" in check.stdout + check.stderr

    start = run(production_copy, "-c", "import config.asgi; print('serving')")
    assert start.returncode != 0
    assert "Refusing to start" in start.stderr
    assert "serving" not in start.stdout


def test_the_shared_production_database_has_no_demo_user(production):
    result = run(production, "manage.py", "check")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_assert_safe_to_serve_raises_system_exit_for_demo_logins(settings):
    settings.DEBUG = False
    assert_safe_to_serve()
    factories.UserFactory(username="demo-medarbejder", is_demo=True)

    with pytest.raises(SystemExit, match="Refusing to start"):
        assert_safe_to_serve()
    assert [error.id for error in demo_login_errors()] == ["mestring.E001"]


@pytest.mark.django_db
def test_deactivated_demo_users_and_debug_mode_are_allowed(settings):
    factories.UserFactory(username="demo-borger", is_demo=True, is_active=False)
    settings.DEBUG = False
    assert demo_login_errors() == []
    factories.UserFactory(username="demo-aktiv", is_demo=True)
    settings.DEBUG = True
    assert demo_login_errors() == []
    assert_safe_to_serve()


def test_the_production_websocket_process_starts_under_uvicorn(production):
    """uvicorn imports the application inside its event loop; the start-up check must still run."""
    script = (
        "import asyncio\n"
        "async def main():\n"
        "    import config.asgi\n"
        "    print('serving', callable(config.asgi.application))\n"
        "asyncio.run(main())\n"
    )
    result = run(production, "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["serving", "True"]


def test_the_start_up_check_refuses_demo_logins_inside_an_event_loop_too(production_copy):
    created = run(
        production_copy,
        "-c",
        "import django; django.setup(); from backend.models import User; "
        "User.objects.create(username='demo-borger', display_name='Demo', is_demo=True)",
    )
    assert created.returncode == 0, created.stderr
    script = "import asyncio\nasync def main():\n    import config.asgi\nasyncio.run(main())\n"
    result = run(production_copy, "-c", script)
    assert result.returncode != 0
    assert "Refusing to start" in result.stderr
