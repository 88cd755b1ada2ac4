"""A short mixed load on the citizen side: three kinds of request at once, each at its own fixed rate.

A fresh database seeded by ``bench.today.seed`` (citizens with logins, plans and two weeks of slots),
``config.wsgi`` under gunicorn with ``mestring-web.service``'s flags, and three open-loop load generators
(``bench.today.loadgen``, separate processes) at the same time for ``--duration`` seconds:
``GET /api/v1/me/today`` (``--today-rate``), ``GET /api/v1/me`` (``--me-rate``) and ``GET /api/v1/me/sync``
(``--sync-rate``), each rotating the citizens' tokens. Reported per kind: rate, p50, p99, max, errors; and the
server's resident memory (all its processes) before and after the load. Telemetry, the staff triage,
websockets and reminders are not in it.

    .venv/bin/python -m bench.mixed --duration 60                       # SQLite
    .venv/bin/python -m bench.mixed --duration 60 --database-url "$DATABASE_URL"
"""

import argparse
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench.__main__ import (
    ROOT,
    THREADS,
    WORKERS,
    RunDatabase,
    Scenario,
    gunicorn_command,
    parse_result,
    run_environment,
    run_step,
    say,
    serving,
)

P99_TARGET_MS = 1000.0


class MixedDatabase(RunDatabase):
    name = "mestring_bench_mixed"


def group_rss_kib(group: int) -> int:
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != group:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, ProcessLookupError):
            continue
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--citizens", type=int, default=1000)
    parser.add_argument("--today-rate", type=float, default=20)
    parser.add_argument("--me-rate", type=float, default=20)
    parser.add_argument("--sync-rate", type=float, default=10)
    arguments = parser.parse_args()
    started = datetime.now(UTC)
    base_url = arguments.database_url or "sqlite:///"
    kind = "sqlite" if base_url.startswith("sqlite:") else "postgresql"
    directory = ROOT / "var" / "bench" / f"{started:%Y%m%d-%H%M%S}-mixed-{kind}"
    directory.mkdir(parents=True, exist_ok=True)
    database = MixedDatabase(base_url, directory)
    environment = run_environment(database.url, directory)
    database.create()
    try:
        log = directory / "setup.log"
        run_step("migrate", [sys.executable, "manage.py", "migrate", "--noinput"], environment, log, timeout=900)
        run_step(
            f"seed {arguments.citizens} citizens",
            [sys.executable, "-m", "bench.today.seed", "--out", str(directory), "--citizens", str(arguments.citizens)],
            environment | {"ACCESS_TOKEN_TTL_SECONDS": str(24 * 3600)},
            log,
            timeout=900,
        )
        tokens = directory / "citizen_tokens.txt"
        day = (directory / "day.txt").read_text().strip()
        kinds = [
            ("today", f"/api/v1/me/today?date={day}", arguments.today_rate),
            ("me", "/api/v1/me", arguments.me_rate),
            ("sync", "/api/v1/me/sync", arguments.sync_rate),
        ]
        scenario = Scenario(
            "mestring-wsgi",
            f"gunicorn gthread {WORKERS}x{THREADS}, config.wsgi",
            lambda port, log: gunicorn_command("config.wsgi:application", port, log),
        )
        with serving(scenario, environment, directory / "server.log") as server:
            server.wait_ready(tokens.read_text().split()[0])
            group = server.process.pid
            rss_before = group_rss_kib(group)
            say(f"== mixed load for {arguments.duration:g} s: " + ", ".join(f"{k} {r:g}/s" for k, _, r in kinds))
            loads = [
                subprocess.Popen(  # noqa: S603 — our interpreter, our load generator
                    [
                        sys.executable,
                        "-m",
                        "bench.today.loadgen",
                        "--port",
                        str(server.port),
                        "--tokens",
                        str(tokens),
                        "--path",
                        path,
                        "--rate",
                        str(rate),
                        "--duration",
                        str(arguments.duration),
                        "--connections",
                        "8",
                    ],
                    cwd=ROOT,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
                for _, path, rate in kinds
            ]
            outputs = []
            for load in loads:
                try:
                    outputs.append(load.communicate(timeout=arguments.duration + 300)[0])
                except subprocess.TimeoutExpired:
                    # The server fell so far behind that the requests due did not drain: a failed run.
                    for other in loads:
                        other.kill()
                        other.wait()
                    raise SystemExit("the server could not keep up with the rates asked; no figures") from None
            rss_after = group_rss_kib(group)
    finally:
        database.drop()
    failed = False
    say(f"{'kind':6} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7}")
    for (name, _, _), output in zip(kinds, outputs, strict=True):
        result = parse_result(output)
        errors = result.non_2xx + sum(result.socket_errors.values())
        rate = result.requests / result.duration_seconds
        latency = result.latency_ms
        failed |= errors > 0 or latency["p99"] >= P99_TARGET_MS
        say(f"{name:6} {rate:7.1f} {latency['p50']:8.1f} {latency['p99']:8.1f} {latency['max']:8.1f} {errors:7}")
    growth = (rss_after - rss_before) / rss_before * 100 if rss_before else 0.0
    say(f"server RSS: {rss_before / 1024:.0f} MiB before, {rss_after / 1024:.0f} MiB after ({growth:+.1f} %)")
    say(f"targets: p99 < {P99_TARGET_MS:g} ms for every kind and 0 errors: {'missed' if failed else 'met'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
