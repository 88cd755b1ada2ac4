"""The database settings the environment names: the replica alias and the connection pool."""

import json
import os
import subprocess
import sys

from django.conf import settings

SCRIPT = """
import json
from django.conf import settings
databases = settings.DATABASES
print(json.dumps({
    alias: {"host": db["HOST"], "port": db["PORT"], "test": db.get("TEST", {}), "pool": db["OPTIONS"].get("pool"),
            "conn_max_age": db["CONN_MAX_AGE"]}
    for alias, db in databases.items()
} | {"routers": settings.DATABASE_ROUTERS}))
"""


def settings_under(**environment: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DJANGO_SETTINGS_MODULE": "config.settings", **environment}
    return subprocess.run(  # noqa: S603 — our interpreter, our script
        [sys.executable, "-c", SCRIPT], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def test_a_replica_url_makes_the_replica_alias_mirrored_in_tests():
    done = settings_under(
        DATABASE_URL="postgres://mestring:secret@10.0.0.1:5432/mestring",
        DATABASE_REPLICA_URL="postgres://mestring:secret@10.0.0.2:5433/mestring",
        DB_POOL_MAX_SIZE="4",
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert (found["replica"]["host"], found["replica"]["port"]) == ("10.0.0.2", 5433)
    assert found["replica"]["test"] == {"MIRROR": "default"}
    assert found["default"]["pool"]["max_size"] == 4 and found["default"]["conn_max_age"] == 0
    assert found["replica"]["pool"]["max_size"] == 4
    assert found["routers"] == ["backend.replica.ReplicaRouter"]


def test_without_a_replica_url_there_is_one_database_and_no_pool():
    done = settings_under(DATABASE_URL="postgres://mestring:secret@10.0.0.1:5432/mestring")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert "replica" not in found
    assert found["default"]["pool"] is None and found["default"]["conn_max_age"] == 60


def test_a_replica_needs_postgresql():
    done = settings_under(DATABASE_REPLICA_URL="postgres://mestring:secret@10.0.0.2:5433/mestring")
    assert done.returncode != 0
    assert "DATABASE_REPLICA_URL needs DATABASE_URL to name PostgreSQL" in done.stderr
