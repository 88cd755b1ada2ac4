"""Mixed load through the scale-out layout: websockets, telemetry, citizen reads, staff triage, requests and
reminders all at once, with p99 per request kind, server errors and each process's memory growth.

    .venv/bin/python -m bench.mixed                 # 10 minutes, the issue's load
    .venv/bin/python -m bench.mixed --short         # 1 minute, 300 citizens (CI): checks 0 errors, reports

PostgreSQL and Redis only (``$DATABASE_URL``, ``$REDIS_URL``; the replica from ``$DATABASE_REPLICA_URL`` or
``$TEST_REPLICA_URL`` when one runs, which the staff triage may read). A fresh ``mestring_bench_mixed`` (dropped
at the end) seeded by ``bench/mixed/seed.py`` (1,000 citizens with plans and logins, 20 staff, 100 devices), and
the layout of ``bench/scaleout``: nginx with the deploy site in front of two gunicorn and two uvicorn, two task
workers, two reminder dispatchers. Through nginx, for ``--duration`` seconds at once:

- ``--citizen-sockets`` citizens' and ``--staff-sockets`` staff sockets (staff following their team), held
  open (``bench/scaleout/clients.py``, which reconnects and resumes as an app does);
- ``POST /api/v1/telemetry`` at ``--telemetry-rate`` (100 devices, a heartbeat each, a battery level every
  tenth), ``GET /api/v1/me/today`` at ``--today-rate``, the staff triage's ``GET
  /api/v1/teams/{id}/caseload`` at ``--triage-rate`` and citizens' ``POST /api/v1/me/requests`` at
  ``--request-rate`` (each a team event and a notification per care member: the staff sockets' traffic);
  open loop, latency from when each request was due (``bench.today.loadgen``, ``bench/mixed/posts.py``);
- reminders falling due at ``--reminder-rate`` throughout, sent by the dispatchers (to the citizens' sockets).

Reported: per request kind rate, p50, p99, max and errors (non-2xx answers and failed connections: the server
errors); per socket the stream events it must get (the database's, after the start) against what it got, once
each; reminders due, sent and their lateness; each process's resident memory (its whole process group)
before the load, after the first ``--warmup`` seconds and at the end. Passed (exit 0) with 0 errors, every
event at every socket once, no resync and every reminder sent; without ``--short`` also p99 < 1 s for every
kind and memory growth < 10 % from the warm-up sample to the end for every process.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.__main__ import ROOT, RunDatabase, parse_result, run_step, say
from bench.scaleout.__main__ import ClientProcess, expected_events, judge, layout_arguments, layout_run
from bench.scaleout.layout import Layout

P99_TARGET_MS = 1000.0
RSS_GROWTH_TARGET = 10.0
SETTLE_TIMEOUT = 300.0


class MixedDatabase(RunDatabase):
    name = "mestring_bench_mixed"
    postgresql_only = "the mixed load runs on the scale-out layout: PostgreSQL and Redis (DATABASE_URL, REDIS_URL)"


def lines(path: Path) -> list[list[str]]:
    return [line.split() for line in path.read_text().splitlines() if line.strip()]


def load_commands(directory: Path, port: int, arguments: argparse.Namespace) -> list[tuple[str, list[str]]]:
    day = (directory / "day.txt").read_text().strip()
    team = (directory / "team.txt").read_text().strip()
    duration = str(arguments.duration)

    # As many connections as requests may be in flight at once from the callers at that rate: an open-loop
    # generator with too few would measure its own queue. A request not answered within a minute (nginx's
    # proxy_read_timeout) is an error.
    def gets(path: str, tokens: Path, rate: float, connections: int) -> list[str]:
        return ["bench.today.loadgen", "--port", str(port), "--tokens", str(tokens), "--path", path,
                "--rate", str(rate), "--duration", duration, "--connections", str(connections),
                "--timeout", "60"]  # fmt: skip

    def posts(kind: str, source: str, path: Path, rate: float, connections: int) -> list[str]:
        return ["bench.mixed.posts", kind, "--port", str(port), source, str(path), "--rate", str(rate),
                "--duration", duration, "--connections", str(connections), "--timeout", "60"]  # fmt: skip

    return [
        ("telemetry", posts("telemetry", "--devices", directory / "devices.json", arguments.telemetry_rate, 32)),
        ("today", gets(f"/api/v1/me/today?date={day}", directory / "citizen_tokens.txt", arguments.today_rate, 16)),
        ("triage", gets(f"/api/v1/teams/{team}/caseload", directory / "team_staff_tokens.txt",
                        arguments.triage_rate, 4)),
        ("request", posts("requests", "--citizens", directory / "citizens.txt", arguments.request_rate, 4)),
    ]  # fmt: skip


def reminder_figures(database: RunDatabase, after: datetime) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(database.url, autocommit=True, connect_timeout=10) as connection:
        rows = connection.execute(
            'SELECT status, EXTRACT(EPOCH FROM (updated_at - due_at)) FROM "notifications_reminderoccurrence" '
            "WHERE created_at >= %s AND due_at <= now()",
            [after],
        ).fetchall()
    late = sorted(float(seconds) for status, seconds in rows if status == "sent")
    return {
        "due": len(rows),
        "sent": len(late),
        "unsent": sum(1 for status, _ in rows if status != "sent"),
        "lateness_p50_s": late[len(late) // 2] if late else None,
        "lateness_p99_s": late[min(len(late) - 1, int(len(late) * 0.99))] if late else None,
    }


def wait_for_reminders(database: RunDatabase, after: datetime) -> dict[str, Any]:
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while True:
        figures = reminder_figures(database, after)
        if figures["unsent"] == 0 or time.monotonic() > deadline:
            return figures
        time.sleep(1)


def run(layout: Layout, database: RunDatabase, directory: Path, arguments: argparse.Namespace) -> dict[str, Any]:
    citizens = lines(directory / "citizens.txt")[: arguments.citizen_sockets]
    staff = lines(directory / "staff.txt")
    staff_sockets = [staff[number % len(staff)] for number in range(arguments.staff_sockets)]
    subscriptions = [(user, "") for user, _ in citizens] + [(user, team) for user, _, team in staff_sockets]
    targets = [[token, ""] for _, token in citizens] + [[token, team] for _, token, team in staff_sockets]
    after = int(database.scalar('SELECT COALESCE(MAX(id), 0) FROM "notifications_streamevent"'))
    clients = ClientProcess(layout.environment, directory / "clients.log")
    try:
        say(f"-- {len(targets)} sockets through nginx ({len(citizens)} citizens, {len(staff_sockets)} staff)")
        opened = clients.ask({"op": "start", "port": layout.port, "after": after, "clients": targets})
        if opened["open"] != len(targets):
            raise SystemExit(f"only {opened['open']} of {len(targets)} sockets opened")
        scheduled_at = datetime.now(UTC)
        run_step(
            f"reminders at {arguments.reminder_rate:g}/s for {arguments.duration:g} s",
            [sys.executable, "-m", "bench.mixed.seed", "--out", str(directory), "--reminders-from", "5",
             "--reminders-for", str(arguments.duration), "--reminders-rate", str(arguments.reminder_rate)],
            layout.environment, directory / "setup.log", timeout=300,
        )  # fmt: skip
        commands = load_commands(directory, layout.port, arguments)
        rss_before = layout.rss_kib()
        say(f"== mixed load for {arguments.duration:g} s: " + ", ".join(name for name, _ in commands))
        loads = [
            (name, subprocess.Popen(  # noqa: S603 — our interpreter, our load generators
                [sys.executable, "-m", *command], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            ))
            for name, command in commands
        ]  # fmt: skip
        time.sleep(arguments.warmup)
        rss_warm = layout.rss_kib()
        outputs: dict[str, str] = {}
        for name, load in loads:
            try:
                outputs[name] = load.communicate(timeout=arguments.duration + 600)[0]
            except subprocess.TimeoutExpired:
                for _, other in loads:
                    other.kill()
                    other.wait()
                raise SystemExit("the servers could not keep up with the rates asked; no figures") from None
        rss_end = layout.rss_kib()
        say("-- load done; waiting for the reminders due and the sockets' events")
        reminders = wait_for_reminders(database, scheduled_at)
        expected = expected_events(database, after, subscriptions)
        answer = clients.ask({"op": "wait", "expect": expected, "timeout": SETTLE_TIMEOUT})
        sockets = judge(expected, answer["clients"]) | {
            "open at the end": sum(client["open"] for client in answer["clients"]),
            "sockets": len(targets),
            "complete": answer["complete"],
        }
    finally:
        clients.stop()
    kinds = {}
    for name, output in outputs.items():
        result = parse_result(output)
        kinds[name] = {
            "rate": result.requests / result.duration_seconds,
            "p50": result.latency_ms["p50"],
            "p99": result.latency_ms["p99"],
            "max": result.latency_ms["max"],
            "errors": result.errors,
            "statuses": result.status_counts,
            "socket_errors": {key: value for key, value in result.socket_errors.items() if value},
        }
    memory = {
        name: {"before_mib": rss_before.get(name, 0) / 1024, "warm_mib": rss_warm.get(name, 0) / 1024,
               "end_mib": rss_end.get(name, 0) / 1024,
               "growth_pct": (rss_end[name] - rss_warm[name]) / rss_warm[name] * 100 if rss_warm.get(name) else 0.0}
        for name in rss_end
    }  # fmt: skip
    return {"kinds": kinds, "sockets": sockets, "reminders": reminders, "memory": memory}


def report(figures: dict[str, Any], short: bool) -> bool:
    say(f"{'kind':10} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7}")
    errors = 0
    slow = []
    for name, kind in figures["kinds"].items():
        errors += kind["errors"]
        if kind["p99"] >= P99_TARGET_MS:
            slow.append(name)
        extra = f"  {kind['statuses']} {kind['socket_errors']}" if kind["errors"] else ""
        say(f"{name:10} {kind['rate']:7.1f} {kind['p50']:8.1f} {kind['p99']:8.1f} {kind['max']:8.1f} "
            f"{kind['errors']:7}{extra}")  # fmt: skip
    sockets = figures["sockets"]
    say(f"sockets: {sockets}")
    reminders = figures["reminders"]
    say(f"reminders: {reminders}")
    say(f"{'process':13} {'before MiB':>10} {'warm MiB':>9} {'end MiB':>8} {'growth':>7}")
    grown = []
    for name, memory in figures["memory"].items():
        if memory["growth_pct"] >= RSS_GROWTH_TARGET:
            grown.append(name)
        say(f"{name:13} {memory['before_mib']:10.0f} {memory['warm_mib']:9.0f} {memory['end_mib']:8.0f} "
            f"{memory['growth_pct']:+6.1f}%")  # fmt: skip
    checks = {
        "0 server errors": errors == 0,
        "every event at every socket, once": sockets["complete"]
        and not (sockets["missing"] or sockets["duplicated"] or sockets["foreign"] or sockets["resyncs"]),
        "every reminder due was sent": reminders["unsent"] == 0 and reminders["due"] > 0,
    }
    targets = {
        f"p99 < {P99_TARGET_MS:g} ms for every kind": not slow,
        f"resident memory growth < {RSS_GROWTH_TARGET:g} % for every process": not grown,
    }
    for name, passed in checks.items():
        say(f"   {'ok  ' if passed else 'FAIL'} {name}")
    for name, met in targets.items():
        verdict = ("met" if met else "MISSED") + (" (not judged in the short form)" if short else "")
        say(f"   target {name}: {verdict}" + ("" if met else f" ({', '.join(slow if 'p99' in name else grown)})"))
    passed = all(checks.values()) and (short or all(targets.values()))
    say(f"mixed load: {'PASSED' if passed else 'FAILED'}")
    return passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    layout_arguments(parser)
    parser.add_argument("--duration", type=float, default=600)
    parser.add_argument("--warmup", type=float, default=60, help="seconds of load before the first memory sample")
    parser.add_argument(
        "--short", action="store_true", help="the CI form: 60 s, 10 s warm-up, 300 citizens, no latency verdict"
    )
    parser.add_argument("--citizens", type=int, default=1000)
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--citizen-sockets", type=int, default=150)
    parser.add_argument("--staff-sockets", type=int, default=50)
    parser.add_argument("--telemetry-rate", type=float, default=50)
    parser.add_argument("--today-rate", type=float, default=20)
    parser.add_argument("--triage-rate", type=float, default=2)
    parser.add_argument("--request-rate", type=float, default=1)
    parser.add_argument("--reminder-rate", type=float, default=2)
    arguments = parser.parse_args(argv)
    if arguments.short:
        arguments.duration, arguments.warmup, arguments.citizens = 60, 10, 300
    seed = (
        f"seed {arguments.citizens} citizens, {arguments.devices} devices",
        [sys.executable, "-m", "bench.mixed.seed", "--citizens", str(arguments.citizens),
         "--devices", str(arguments.devices)],
    )  # fmt: skip
    with layout_run("mixed load", "mixed", MixedDatabase, arguments, seed, analyze=True) as (
        layout,
        database,
        directory,
    ):
        figures = run(layout, database, directory, arguments)
    load = os.getloadavg()
    figures["load_average_after"] = load
    (directory / "result.json").write_text(json.dumps(figures, indent=1))
    say(f"load average after the run: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} CPUs")
    return 0 if report(figures, arguments.short) else 1


if __name__ == "__main__":
    sys.exit(main())
