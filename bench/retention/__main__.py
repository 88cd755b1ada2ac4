"""Retention of the access log: dropping a month's partition against ``DELETE`` of the same rows, side by
side, with a writer inserting access-log rows throughout.

Creates ``mestring_bench_retention`` on the loopback server, migrates it (the shipped schema: the access log
partitioned by month, its triggers), makes two partitions for months 15 and 14 months back and fills each
with ``--rows`` rows (as the ``postgres`` superuser, foreign-key checks off: the rows' citizens are not what
is measured). Then, as the application's role (the delete-floor trigger fires for every row deleted, as in
production), with a writer thread inserting one access-log row at a time for now:

1. ``DELETE`` of every row of the older month (what retention did before partitions),
2. ``SELECT mestring_partition_drop(…)`` of the younger month (what ``purge_expired`` does now),

each timed to its commit, and the writer's slowest insert while each ran (does it block writers?). Drops the
database at the end.

    .venv/bin/python -m bench.retention --database-url "$DATABASE_URL" --rows 1000000
"""

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg

ROOT = Path(__file__).resolve().parents[2]
DATABASE = "mestring_bench_retention"
TABLE = "backend_accesslogentry"
ROW = "(at, actor_id, actor_name, actor_role, citizen_id, resource_type, resource_id, action, purpose, request_id)"
VALUES = (
    "gen_random_uuid(), 'Anne Marie Hansen', 'therapist', gen_random_uuid(), 'training', "
    "gen_random_uuid()::text, 'read', 'care', md5(random()::text)"
)


def month_back(months: int) -> date:
    today = datetime.now(UTC).date().replace(day=1)
    index = today.year * 12 + today.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


class Writer(threading.Thread):
    """Inserts one access-log row at a time and records how long each took, from when it started."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.samples: list[tuple[float, float]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as connection:
            # Foreign-key checks off, as for the rows filled in: the citizen is not what is measured.
            connection.execute("SET session_replication_role = replica")
            while not self.stop.is_set():
                started = time.monotonic()
                connection.execute(
                    f"INSERT INTO {TABLE} {ROW} SELECT now(), {VALUES}",  # noqa: S608
                )
                self.samples.append((started, time.monotonic() - started))
                time.sleep(0.005)

    def slowest_between(self, start: float, end: float) -> tuple[float, int]:
        during = [seconds for started, seconds in self.samples if start - 0.5 <= started <= end]
        return (max(during) * 1000 if during else float("nan")), len(during)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in each of the two months")
    arguments = parser.parse_args()
    url = urlparse(arguments.database_url)
    if url.scheme not in ("postgres", "postgresql") or url.hostname not in ("127.0.0.1", "localhost"):
        parser.error("--database-url must name PostgreSQL on loopback")
    admin = f"host={url.hostname} port={url.port} user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        connection.execute(f"CREATE DATABASE {DATABASE} OWNER {url.username}")
    app_url = urlunparse(url._replace(path=f"/{DATABASE}"))
    try:
        subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": app_url, "EMBEDDED_WORKER": "0"},
            check=True,
            capture_output=True,
        )
        older, younger = month_back(15), month_back(14)
        with psycopg.connect(f"host={url.hostname} port={url.port} user=postgres dbname={DATABASE}") as connection:
            connection.execute("SET session_replication_role = replica")
            for month in (older, younger):
                name = f"{TABLE}_p{month:%Y%m}"
                connection.execute(
                    f"CREATE TABLE {name} PARTITION OF {TABLE} FOR VALUES FROM ('{month}') TO ('{next_month(month)}')"
                )
                connection.execute(
                    f"INSERT INTO {TABLE} {ROW} SELECT %s::timestamptz + (n * interval '1 second') * %s, {VALUES} "  # noqa: S608
                    "FROM generate_series(1, %s) AS n",
                    [month, 28 * 86400 / arguments.rows, arguments.rows],
                )
            connection.commit()
            connection.autocommit = True
            connection.execute(f"VACUUM ANALYZE {TABLE}")
        print(f"access log with {arguments.rows:,} rows in each of {older:%Y-%m} and {younger:%Y-%m}")
        writer = Writer(f"host={url.hostname} port={url.port} user=postgres dbname={DATABASE}")
        writer.start()
        time.sleep(2)
        results = []
        with psycopg.connect(app_url, autocommit=True) as connection:
            for label, statement, parameters in (
                (
                    f"DELETE of {older:%Y-%m}",
                    f"DELETE FROM {TABLE} WHERE at >= %s AND at < %s",  # noqa: S608
                    [older, next_month(older)],
                ),
                (
                    f"mestring_partition_drop of {younger:%Y-%m}",
                    "SELECT mestring_partition_drop(%s, %s)",
                    [TABLE, f"{TABLE}_p{younger:%Y%m}"],
                ),
            ):
                started = time.monotonic()
                connection.execute(statement, parameters)
                seconds = time.monotonic() - started
                time.sleep(0.5)
                slowest, inserts = writer.slowest_between(started, started + seconds)
                results.append((label, seconds, slowest, inserts))
                time.sleep(2)
        writer.stop.set()
        writer.join()
        typical = statistics.median(seconds for _, seconds in writer.samples) * 1000
        print(f"writer: {len(writer.samples):,} single-row inserts, median {typical:.2f} ms")
        print(f"{'operation':40} {'seconds':>9} {'writer slowest ms':>18} {'inserts during':>15}")
        for label, seconds, slowest, inserts in results:
            print(f"{label:40} {seconds:9.3f} {slowest:18.1f} {inserts:15}")
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


if __name__ == "__main__":
    main()
