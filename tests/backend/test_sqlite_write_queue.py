"""The embedded mode's SQLite engine queues writers on a file lock next to the database."""

import fcntl
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.db.utils import OperationalError

from backend.dbengines.sqlite.base import DatabaseWrapper, is_write

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="the embedded mode's engine")


def file_database(path: Path, timeout: float = 5) -> DatabaseWrapper:
    settings = {**connection.settings_dict, "NAME": str(path)}
    settings["OPTIONS"] = {**settings["OPTIONS"], "timeout": timeout}
    settings["TEST"] = {**settings.get("TEST", {}), "NAME": str(path)}
    wrapper = DatabaseWrapper(settings, alias="write_queue_test")
    wrapper.ensure_connection()
    return wrapper


def lock_is_free(path: Path) -> bool:
    fd = os.open(f"{path}-writelock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


@pytest.fixture
def database(tmp_path, django_db_blocker):
    """A database file of its own (the test database is in memory, which has no file to lock)."""
    path = tmp_path / "embedded.sqlite3"
    with django_db_blocker.unblock():
        first = file_database(path)
        with first.cursor() as cursor:
            cursor.execute("CREATE TABLE row (n INTEGER)")
        yield path, first
        first.close()


def engine_under(**environment: str) -> dict:
    script = (
        "import json; from django.conf import settings; db = settings.DATABASES['default']; "
        "print(json.dumps({'engine': db['ENGINE'], 'options': db['OPTIONS']}))"
    )
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DJANGO_SETTINGS_MODULE": "config.settings", **environment}
    done = subprocess.run(  # noqa: S603 — our interpreter, our script
        [sys.executable, "-c", script],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout)


def test_the_embedded_database_is_wal_with_immediate_transactions_and_queues_writers_when_asked(tmp_path):
    url = f"sqlite:///{tmp_path / 'embedded.sqlite3'}"
    stock = engine_under(DATABASE_URL=url)
    assert stock["engine"] == "django.db.backends.sqlite3"
    assert stock["options"]["transaction_mode"] == "IMMEDIATE" and stock["options"]["timeout"] == 20
    assert "journal_mode=WAL" in stock["options"]["init_command"]
    assert engine_under(DATABASE_URL=url, SQLITE_WRITE_QUEUE="1")["engine"] == "backend.dbengines.sqlite"


def test_writes_are_told_from_reads():
    assert is_write("  insert into x values (1)")
    assert is_write("UPDATE x SET a = 1")
    assert is_write("DELETE FROM x")
    assert not is_write("SELECT 1")
    assert not is_write("PRAGMA foreign_keys")


def test_a_transaction_holds_the_write_lock_until_it_commits(database):
    path, first = database
    with first_atomic(first):
        with first.cursor() as cursor:
            cursor.execute("INSERT INTO row VALUES (1)")
        assert not lock_is_free(path)
    assert lock_is_free(path)


def test_a_rolled_back_transaction_releases_the_lock(database):
    path, first = database
    with pytest.raises(RuntimeError), first_atomic(first):
        with first.cursor() as cursor:
            cursor.execute("INSERT INTO row VALUES (1)")
        raise RuntimeError("rolled back")
    assert lock_is_free(path)
    with first.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM row")
        assert cursor.fetchone() == (0,)


def test_an_autocommit_write_waits_for_the_transaction_before_it(database):
    path, first = database
    order: list[str] = []
    started = threading.Event()

    def write() -> None:
        second = file_database(path)
        started.set()
        with second.cursor() as cursor:
            cursor.execute("INSERT INTO row VALUES (2)")
        order.append("second wrote")
        second.close()

    with first_atomic(first):
        with first.cursor() as cursor:
            cursor.execute("INSERT INTO row VALUES (1)")
        writer = threading.Thread(target=write)
        writer.start()
        started.wait(30)
        writer.join(0.2)
        order.append("first commits")
    writer.join(30)
    assert order == ["first commits", "second wrote"]
    assert lock_is_free(path)
    with first.cursor() as cursor:
        cursor.execute("SELECT n FROM row ORDER BY n")
        assert cursor.fetchall() == [(1,), (2,)]


def test_a_write_gives_up_after_the_busy_timeout(database):
    path, _first = database
    impatient = file_database(path, timeout=0.3)
    fd = os.open(f"{path}-writelock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with pytest.raises(OperationalError, match="database is locked"), impatient.cursor() as cursor:
            cursor.execute("INSERT INTO row VALUES (3)")
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
        impatient.close()
    assert lock_is_free(path)


def first_atomic(wrapper: DatabaseWrapper):
    """``transaction.atomic`` on a connection that is not in ``connections``."""
    return _Atomic(wrapper)


class _Atomic:
    def __init__(self, wrapper: DatabaseWrapper) -> None:
        self.wrapper = wrapper

    def __enter__(self) -> None:
        self.wrapper.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.wrapper.commit()
        else:
            self.wrapper.rollback()
        self.wrapper.set_autocommit(True)
