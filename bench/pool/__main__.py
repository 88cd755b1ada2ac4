"""Database connections held by the web process with and without psycopg's pool, under the same load.

Starts ``config.wsgi`` under gunicorn with ``deploy/systemd/mestring-web.service``'s flags (gthread, 2
workers × 8 threads) twice per round — Django's persistent connections (``DB_CONN_MAX_AGE=60``, production's
default) and the pool (``DB_POOL_MAX_SIZE``) — loads ``GET /readyz`` (one ``SELECT 1`` on the database per
request, the in-memory channel layer) with wrk, and samples ``pg_stat_activity`` every 50 ms for the client
connections to the database: the peak, and how many stay open after the load. PostgreSQL on loopback only.

    .venv/bin/python -m bench.pool --database-url "$DATABASE_URL" --rounds 2
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import psycopg

from bench.__main__ import free_port

ROOT = Path(__file__).resolve().parents[2]
GUNICORN_FLAGS = ["--worker-class", "gthread", "--workers", "2", "--threads", "8", "--keep-alive", "5"]
COUNT_SQL = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
)


def serve(database_url: str, extra: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "EMBEDDED_WORKER": "0",
        "LOG_LEVEL": "WARNING",
        **extra,
    }
    command = [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    return subprocess.Popen(  # noqa: S603 — our own interpreter and arguments
        [*command, *GUNICORN_FLAGS],
        cwd=ROOT,
        env=environment,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_ready(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not get ready")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def measure(database_url: str, extra: dict[str, str], seconds: float, connections: int, log: Path) -> dict:
    port = free_port()
    process = serve(database_url, extra, port, log)
    peak = 0
    done = threading.Event()
    try:
        wait_ready(port)
        with psycopg.connect(database_url, autocommit=True) as probe:

            def sample() -> None:
                nonlocal peak
                while not done.is_set():
                    peak = max(peak, probe.execute(COUNT_SQL).fetchone()[0])
                    time.sleep(0.05)

            sampler = threading.Thread(target=sample)
            sampler.start()
            load = subprocess.run(  # noqa: S603
                ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", f"http://127.0.0.1:{port}/readyz"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            done.set()
            sampler.join()
            time.sleep(1)
            after = probe.execute(COUNT_SQL).fetchone()[0]
    finally:
        done.set()
        stop(process)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", load).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", load)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", load)
    return {
        "rate": rate,
        "p99_ms": float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan"),
        "peak": peak,
        "after": after,
        "errors": int(errors.group(1)) if errors else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--pool-size", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    arguments = parser.parse_args()
    url = urlparse(arguments.database_url)
    if url.scheme not in ("postgres", "postgresql") or url.hostname not in ("127.0.0.1", "localhost", "::1"):
        parser.error("--database-url must name PostgreSQL on loopback")
    logs = ROOT / "var" / "bench" / "pool"
    logs.mkdir(parents=True, exist_ok=True)
    modes = [
        ("persistent (DB_CONN_MAX_AGE=60)", {"DB_CONN_MAX_AGE": "60"}),
        (f"pool (DB_POOL_MAX_SIZE={arguments.pool_size})", {"DB_POOL_MAX_SIZE": str(arguments.pool_size)}),
    ]
    print(f"gunicorn gthread 2 x 8, GET /readyz, wrk {arguments.connections} connections, {arguments.seconds:g} s")
    print(f"{'round':>5}  {'mode':34}  {'req/s':>7}  {'p99 ms':>7}  {'peak conns':>10}  {'after':>5}  errors")
    for number in range(1, arguments.rounds + 1):
        for index, (name, extra) in enumerate(modes):
            result = measure(
                arguments.database_url, extra, arguments.seconds, arguments.connections, logs / f"{index}.log"
            )
            print(
                f"{number:5}  {name:34}  {result['rate']:7.1f}  {result['p99_ms']:7.1f}  {result['peak']:10}  "
                f"{result['after']:5}  {result['errors']}",
                flush=True,
            )


if __name__ == "__main__":
    main()
