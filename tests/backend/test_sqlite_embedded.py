"""The embedded mode's SQLite: WAL, immediate transactions, a busy timeout, and a connection kept per thread
so that a logged read does not open one (bench/README.md, "The embedded mode's writers")."""

import json
import os
import subprocess
import sys

from django.conf import settings as django_settings

SCRIPT = """
import json, os, django
django.setup()
if os.environ.get("AS_SERVE"):
    from backend.management.commands.serve import connections_per_request
    connections_per_request()
from django.core import signals
from django.db import connection
signals.request_started.send(sender=None)
with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE IF NOT EXISTS row (n INTEGER)")
    cursor.execute("SELECT count(*) FROM row")
    cursor.execute("PRAGMA journal_mode")
    journal = cursor.fetchone()[0]
first = connection.connection
in_transaction = first.in_transaction
signals.request_finished.send(sender=None)
signals.request_started.send(sender=None)
with connection.cursor() as cursor:
    cursor.execute("SELECT count(*) FROM row")
kept = connection.connection is first
signals.request_finished.send(sender=None)
db = connection.settings_dict
print(json.dumps({
    "engine": db["ENGINE"], "options": db["OPTIONS"], "max_age": db["CONN_MAX_AGE"], "journal": journal,
    "in_transaction": in_transaction, "autocommit": connection.get_autocommit(), "kept": kept,
}))
"""


def embedded(tmp_path, **environment: str) -> dict:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'embedded.sqlite3'}",
        "VAR_DIR": str(tmp_path),
        **environment,
    }
    done = subprocess.run(  # noqa: S603 — our interpreter, our script
        [sys.executable, "-c", SCRIPT],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_embedded_database_is_wal_with_immediate_transactions_and_a_busy_timeout(tmp_path):
    database = embedded(tmp_path)
    assert database["engine"] == "django.db.backends.sqlite3"
    assert database["options"]["transaction_mode"] == "IMMEDIATE"
    assert database["options"]["timeout"] == 20
    assert database["journal"] == "wal"


def test_a_read_runs_under_autocommit_outside_any_transaction(tmp_path):
    database = embedded(tmp_path)
    assert database["autocommit"] is True
    assert database["in_transaction"] is False


def test_each_thread_keeps_its_connection_from_request_to_request(tmp_path):
    database = embedded(tmp_path)
    assert database["max_age"] == 60
    assert database["kept"] is True


def test_db_conn_max_age_0_still_closes_the_connection_after_each_request(tmp_path):
    database = embedded(tmp_path, DB_CONN_MAX_AGE="0")
    assert database["max_age"] == 0
    assert database["kept"] is False


def test_the_embedded_asgi_server_closes_each_connection_after_its_request(tmp_path):
    database = embedded(tmp_path, AS_SERVE="1")
    assert database["max_age"] == 0
    assert database["kept"] is False
