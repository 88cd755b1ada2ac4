"""Where one telemetry post's CPU goes: batches posted in-process through the WSGI application (every
middleware, the device's token, validation, storing, the rules, the answer), without an HTTP server.

    .venv/bin/python -m bench.velfaerdsteknologi.profile --database-url postgres://…@127.0.0.1:PORT/NAME \
        [--batches 60] [--warmup 10] [--profile FILE] [--top 40]
    .venv/bin/python -m bench.velfaerdsteknologi.profile --database-url sqlite:

Creates ``mestring_profile_vt`` (or a new SQLite file under ``var/bench/``), migrated and seeded as the
ingest benchmark seeds it (a fall detector in use, with its default rules), then posts the benchmark's
batches of 500 readings (``bench.velfaerdsteknologi.make_bodies``) one after the other from one thread and
prints the CPU per reading of this process and, on PostgreSQL, of its database backend: without a profiler
first, then (``--profile``) under ``cProfile`` with CPU time as its clock, the statistics written to FILE
and the heaviest functions printed. Every answer must be 200 with every reading stored.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.__main__ import ROOT, RunDatabase, run_environment, run_step, say

PROFILE_DATABASE = "mestring_profile_vt"


class ProfileDatabase(RunDatabase):
    name = PROFILE_DATABASE

    def drop(self) -> None:
        """As the run database drops itself, waiting out an autovacuum worker that works on it just then
        (which the benchmark's role may not end)."""
        for attempt in range(10):
            try:
                super().drop()
            except Exception as error:
                if type(error).__name__ != "InsufficientPrivilege" or attempt == 9:
                    raise
                time.sleep(1)
            else:
                return


def _backend_cpu(pid: int | None) -> float:
    """Seconds of CPU the PostgreSQL backend ``pid`` has used (user + system)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:13]) / os.sysconf("SC_CLK_TCK")


def _post(application: Any, token: str, body: bytes) -> tuple[str, bytes]:
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/v1/telemetry",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "127.0.0.1",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    status: list[str] = []

    def start_response(line: str, _headers: list[tuple[str, str]], _info: Any = None) -> None:
        status.append(line)

    answer = application(environ, start_response)
    try:
        content = b"".join(answer)
    finally:
        close = getattr(answer, "close", None)
        if close is not None:
            close()
    return status[0], content


# The steps of a post timed on their own (CPU time, each including the steps it calls), as module and name.
PHASES = (
    ("velfaerdsteknologi.credentials", "device_for_token"),
    ("backend.ratelimit", "rate_limit"),
    ("backend.parser.StrictJsonParser", "parse_body"),
    ("ninja.operation.Operation", "run"),
    ("velfaerdsteknologi.services.telemetry", "telemetry_ingest"),
    ("velfaerdsteknologi.services.telemetry", "_insert"),
    ("velfaerdsteknologi.services.telemetry", "copy_rows"),
    ("velfaerdsteknologi.services.telemetry", "_device_state_update"),
    ("velfaerdsteknologi.services.telemetry", "_rules_in_context"),
    ("velfaerdsteknologi.services.telemetry", "rules_evaluate"),
    ("velfaerdsteknologi.services.telemetry", "_alerts_add"),
    ("velfaerdsteknologi.presenters", "telemetry_out"),
)


def _timed_phases() -> dict[str, float]:
    """Wrap each of ``PHASES`` (where it exists) in a CPU-time counter; returns the counters."""
    import functools
    import importlib

    spent: dict[str, float] = {}
    for path, name in PHASES:
        try:
            owner: Any = importlib.import_module(path)
        except ImportError:
            module_path, _, owner_name = path.rpartition(".")
            owner = getattr(importlib.import_module(module_path), owner_name)
        original = getattr(owner, name, None)
        if original is None:
            continue
        spent[name] = 0.0

        def timed(*args: Any, __original: Any = original, __name: str = name, **kwargs: Any) -> Any:
            began = time.process_time()
            try:
                return __original(*args, **kwargs)
            finally:
                spent[__name] += time.process_time() - began

        setattr(owner, name, functools.wraps(original)(timed))
    return spent


def child(arguments: argparse.Namespace) -> int:
    """In the run's environment: post the batches and measure."""
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application
    from django.db import connection

    from bench.velfaerdsteknologi.__main__ import make_bodies

    device = json.loads((arguments.out / "devices.json").read_text())[0]
    count = arguments.warmup + arguments.batches * (3 if arguments.profile else 2)
    bodies = [body.encode() for body in make_bodies(1, count, datetime.now(UTC) - timedelta(days=2))[0]]
    application = get_wsgi_application()

    per_post: list[float] = []

    def post_all(batch: list[bytes]) -> None:
        for body in batch:
            began = time.process_time()
            status, content = _post(application, device["token"], body)
            per_post.append(time.process_time() - began)
            answer = json.loads(content) if status.startswith("200") else {}
            if answer.get("stored") != body.count(b'"sequence"'):
                raise SystemExit(f"not every reading was stored: {status} {content[:300]!r}")

    post_all(bodies[: arguments.warmup])
    backend: int | None = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
    readings = arguments.batches * 500
    measured = bodies[arguments.warmup : arguments.warmup + arguments.batches]
    process, database, began = time.process_time(), _backend_cpu(backend), time.perf_counter()
    per_post.clear()
    post_all(measured)
    ordered = sorted(per_post)
    process, database = time.process_time() - process, _backend_cpu(backend) - database
    wall = time.perf_counter() - began
    say(
        f"{arguments.batches} batches of 500 on {connection.vendor}: this process {process * 1e6 / readings:.1f} µs "
        f"CPU per reading ({process * 1e3 / arguments.batches:.2f} ms per batch), its database backend "
        f"{database * 1e6 / readings:.1f} µs, wall {wall * 1e3 / arguments.batches:.2f} ms per batch; "
        f"this process per post: median {ordered[len(ordered) // 2] * 1e3:.2f} ms, lowest quarter "
        f"{ordered[len(ordered) // 4] * 1e3:.2f} ms (other work on the machine slows a post, never speeds it up)"
    )
    spent = _timed_phases()
    post_all(bodies[arguments.warmup + arguments.batches : arguments.warmup + 2 * arguments.batches])
    say("CPU per batch of each step, including what it calls (timed again, each step wrapped in a counter):")
    for name, seconds in spent.items():
        say(f"   {name:28s} {seconds * 1e3 / arguments.batches:6.3f} ms")
    if arguments.profile:
        profiler = cProfile.Profile(time.process_time)
        profiler.runcall(post_all, bodies[arguments.warmup + 2 * arguments.batches :])
        profiler.dump_stats(arguments.profile)
        for order in ("tottime", "cumulative"):
            output = io.StringIO()
            pstats.Stats(profiler, stream=output).sort_stats(order).print_stats(arguments.top)
            say(output.getvalue())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", "sqlite:"))
    parser.add_argument("--batches", type=int, default=60, help="measured batches of 500 readings (60)")
    parser.add_argument("--warmup", type=int, default=10, help="unmeasured batches first (10)")
    parser.add_argument("--profile", type=Path, help="profile as many batches again, the statistics to this file")
    parser.add_argument("--top", type=int, default=40, help="functions printed per ordering (40)")
    parser.add_argument("--keep-database", action="store_true", help="leave the database in place")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.child:
        return child(arguments)

    started = datetime.now(UTC)
    run_directory = ROOT / "var" / "bench" / f"{started:%Y%m%d-%H%M%S}-telemetry-profile"
    run_directory.mkdir(parents=True, exist_ok=True)
    database = ProfileDatabase(arguments.database_url, run_directory)
    environment = run_environment(database.url, run_directory)
    # One device posts far faster here than any real one may: the quota is counted, never reached.
    environment["TELEMETRY_POSTS_PER_MINUTE"] = "1000000"
    log = run_directory / "setup.log"
    database.create()
    try:
        run_step("migrate", [sys.executable, "manage.py", "migrate", "--noinput"], environment, log, 600)
        seed = [sys.executable, "-m", "bench.velfaerdsteknologi.seed", "--out", str(run_directory), "--devices", "1"]
        run_step("seed a device in use", seed, environment, log, 600)
        database.analyze()
        command = [sys.executable, "-m", "bench.velfaerdsteknologi.profile", "--child", "--out", str(run_directory)]
        command += ["--batches", str(arguments.batches), "--warmup", str(arguments.warmup), "--top", str(arguments.top)]
        if arguments.profile:
            command += ["--profile", str(arguments.profile.resolve())]
        import subprocess

        completed = subprocess.run(command, cwd=ROOT, env=environment, check=False, stdin=subprocess.DEVNULL)
        return completed.returncode
    finally:
        if not arguments.keep_database:
            database.drop()


if __name__ == "__main__":
    sys.exit(main())
