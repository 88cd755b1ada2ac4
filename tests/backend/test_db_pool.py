"""psycopg's connection pool for the web and websocket processes (DB_POOL_MAX_SIZE), on PostgreSQL."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the pool is psycopg's")

# Eight threads, each running five requests' worth of queries and ending each as a request ends; prints the
# distinct server processes (connections) they used, and the settings the process ran with.
THREADS_SCRIPT = """
import json, threading
import django
django.setup()
from django.conf import settings
from django.db import connection, close_old_connections
pids, lock = set(), threading.Lock()
def work():
    for _ in range(5):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid(), pg_sleep(0.01)")
            pid = cursor.fetchone()[0]
        with lock:
            pids.add(pid)
        close_old_connections()
    connection.close()
threads = [threading.Thread(target=work) for _ in range(8)]
[thread.start() for thread in threads]
[thread.join() for thread in threads]
database = settings.DATABASES["default"]
print(json.dumps({"connections": len(pids), "pool": database["OPTIONS"].get("pool"),
                  "conn_max_age": database["CONN_MAX_AGE"]}))
"""

# One thread holds the only pooled connection in a transaction; another asks for one.
EXHAUSTED_SCRIPT = """
import json, threading
import django
django.setup()
from django.db import connection, transaction, OperationalError
held, done, outcome = threading.Event(), threading.Event(), {}
def holder():
    with transaction.atomic():
        connection.cursor().execute("SELECT 1")
        held.set()
        done.wait(60)
    connection.close()
def asker():
    held.wait(60)
    try:
        connection.cursor().execute("SELECT 1")
        outcome["error"] = None
    except OperationalError as error:
        outcome["error"] = type(error).__module__ + "." + type(error).__name__
    finally:
        done.set()
threads = [threading.Thread(target=holder), threading.Thread(target=asker)]
[thread.start() for thread in threads]
[thread.join() for thread in threads]
print(json.dumps(outcome))
"""


def run(script: str, **environment: str) -> dict:
    database = settings.DATABASES["default"]
    url = (
        f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": url,
        "EMBEDDED_WORKER": "0",
        **environment,
    }
    done = subprocess.run(  # noqa: S603 — our interpreter, our script
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_threads_of_a_process_share_the_pools_connections():
    pooled = run(THREADS_SCRIPT, DB_POOL_MAX_SIZE="2")
    assert pooled["pool"]["max_size"] == 2 and pooled["conn_max_age"] == 0
    assert 1 <= pooled["connections"] <= 2
    # Without the pool every thread keeps a connection of its own.
    kept = run(THREADS_SCRIPT, DB_CONN_MAX_AGE="60")
    assert kept["pool"] is None and kept["connections"] == 8


def test_a_request_that_finds_the_pool_exhausted_fails_as_a_database_outage():
    """After DB_POOL_TIMEOUT the wait ends in Django's OperationalError, which the platform answers with 503."""
    outcome = run(EXHAUSTED_SCRIPT, DB_POOL_MAX_SIZE="1", DB_POOL_TIMEOUT="1")
    assert outcome["error"] == "django.db.utils.OperationalError"
