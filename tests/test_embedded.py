"""The embedded mode as a new user runs it: migrate, demo data, one process serving everything."""

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pyotp
import pytest
from django.db import OperationalError
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from backend.management.commands.seed_demo import DEMO_CITIZENS, DEMO_PASSWORD
from backend.management.commands.serve import EmbeddedWorker
from backend.tasks import retention_purge

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def http_json(url: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def start_embedded_server(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """`manage.py serve` on a free port, ready. A port taken between choosing and binding it, or a start
    slowed by a busy machine, is tried again rather than failing the test."""
    for _attempt in range(3):
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=10) as response:
                    if response.status == 200:
                        return server, base
            except OSError:
                time.sleep(0.2)
        server.terminate()
        server.wait(timeout=15)
    pytest.fail("the embedded server did not become ready")


@pytest.fixture
def embedded_env(tmp_path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="config.settings", DEBUG="1")
    return env


def test_seed_demo_is_idempotent_and_the_platform_serves_it(embedded_env):
    assert manage("migrate", "--noinput", env=embedded_env).returncode == 0
    first = manage("seed_demo", env=embedded_env)
    second = manage("seed_demo", env=embedded_env)
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    server, base = start_embedded_server(embedded_env)
    try:
        username, *_, secret, _team = DEMO_CITIZENS[0]
        status, tokens = http_json(
            f"{base}/api/v1/auth/token",
            {
                "grant_type": "password",
                "username": username,
                "password": DEMO_PASSWORD,
                "totp_code": pyotp.TOTP(secret).now(),
            },
        )
        assert status == 200, tokens
        status, me = http_json(f"{base}/api/v1/me", token=tokens["access_token"])
        assert status == 200
        assert me["roles"] == [{"code": "citizen", "name": "Borger"}]
        with urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=60) as response:
            assert "/api/v1/me" in json.loads(response.read())["paths"]
    finally:
        server.terminate()
        server.wait(timeout=15)


@pytest.mark.django_db(transaction=True)
def test_the_in_process_worker_runs_queued_tasks():
    result = retention_purge.enqueue()
    worker = EmbeddedWorker(interval=0.05)
    worker.start()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if DBTaskResult.objects.get(pk=result.id).status == TaskResultStatus.SUCCESSFUL:
                    break
            except OperationalError:
                pass  # in-memory SQLite locks the table while the worker thread writes: poll again
            time.sleep(0.05)
        else:
            pytest.fail("the embedded worker did not run the task")
    finally:
        worker.stop()


@pytest.mark.django_db
def test_the_embedded_scheduler_runs_each_periodic_command_on_its_interval(monkeypatch):
    from backend.management.commands import serve

    calls: list[str] = []
    monkeypatch.setattr(serve, "call_command", lambda name, **kwargs: calls.append(name))
    scheduler = serve.EmbeddedScheduler([("every_minute", 60), ("daily", 86400)], first_run_after=0)
    start = time.monotonic()
    scheduler.run_due(start)
    assert sorted(calls) == ["daily", "every_minute"]
    scheduler.run_due(start + 30)
    assert len(calls) == 2
    scheduler.run_due(start + 61)
    assert calls[-1] == "every_minute" and len(calls) == 3


def test_every_periodic_command_exists():
    from django.conf import settings
    from django.core.management import get_commands

    for name, interval in settings.PERIODIC_COMMANDS:
        assert name in get_commands()
        assert interval > 0


def test_every_periodic_command_has_a_systemd_unit_that_runs_it():
    from django.conf import settings

    units = Path(settings.BASE_DIR, "deploy", "systemd")
    started = {
        line.split("manage.py", 1)[1].split()[0]
        for unit in units.glob("*.service")
        for line in unit.read_text().splitlines()
        if line.startswith("ExecStart=") and "manage.py" in line
    }
    assert {name for name, _ in settings.PERIODIC_COMMANDS} <= started


def test_run_periodic_runs_the_jobs_until_it_is_told_to_stop(monkeypatch):
    from django.core.management import CommandError, call_command

    from backend.management.commands import serve

    calls: list[str] = []

    def record(name: str, **kwargs: object) -> None:
        calls.append(name)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(serve, "call_command", record)
    monkeypatch.setattr(serve, "close_old_connections", lambda: None)
    monkeypatch.setattr("django.conf.settings.PERIODIC_COMMANDS", [("first", 60), ("skipped", 60), ("second", 60)])
    previous = signal.getsignal(signal.SIGTERM)
    try:
        call_command("run_periodic", "--skip", "skipped", stdout=io.StringIO())
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert calls == ["first", "second"]
    with pytest.raises(CommandError):
        call_command("run_periodic", "--skip", "nonsense", stdout=io.StringIO())
