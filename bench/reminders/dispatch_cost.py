"""CPU per reminder of the whole dispatch, two builds interleaved pass by pass on one seeded database.

    bash .ci/services start && eval "$(bash .ci/services env)"
    .venv/bin/python -m bench.reminders.dispatch_cost --build before=/path/to/other/checkout --build after=.
        [--reminders 5000] [--rounds 3]

Seeds ``--reminders`` users with a login, an install and a reminder each (the seeding of ``bench.reminders``)
in its own database once, starts the fake FCM server, and then, round after round, for each build in the
order given: puts every reminder back to due (the notifications, stream events and push deliveries of the
pass before deleted, the tables vacuumed), and runs one worker of that build (``bench/reminders/worker.py``
from its checkout: production's ``dispatch_reminders`` command against the fake FCM) until every reminder is
sent. Each pass is checked (every reminder sent, one sent push delivery per reminder, one FCM request per
notification, none twice) and reports the CPU of the worker process (its threads included) and of its
PostgreSQL backend per 1,000 reminders. The CPU a pass takes does not depend much on how busy the machine
is (the wall time does), and the builds alternate, so a change in the machine's speed touches both; the
ratio per round (build after the first against the first) is the figure to compare.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.__main__ import ROOT, RunDatabase, free_port, say
from bench.reminders.__main__ import (
    FCM_PROJECT,
    fcm_stats,
    migrated_and_seeded,
    prepared_run,
    start,
    stop,
    wait_for_file,
)

RUN_DIRECTORY = ROOT / "var" / "bench-reminder-cost"
RESET = (
    "DELETE FROM notifications_pushdelivery",
    "DELETE FROM notifications_streamevent",
    "UPDATE notifications_reminderoccurrence SET status = 'scheduled', claimed_by = '', claimed_until = NULL, "
    "notification_id = NULL, suppressed_reason = '', due_at = now() - interval '30 seconds', "
    "expires_at = now() + interval '8 hours'",
    "DELETE FROM notifications_notification",
)
VACUUMED = (
    "notifications_pushdelivery",
    "notifications_streamevent",
    "notifications_reminderoccurrence",
    "notifications_notification",
)


class Database(RunDatabase):
    name = "mestring_bench_reminder_cost"
    postgresql_only = 'give a PostgreSQL --database-url (eval "$(bash .ci/services env)")'


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.reminders.dispatch_cost", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""))
    parser.add_argument("--reminders", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="after the rounds, one more pass of each build under cProfile (not counted), into var/bench-reminder-cost",
    )
    parser.add_argument(
        "--build",
        action="append",
        required=True,
        metavar="NAME=CHECKOUT",
        help="a build to measure: a name and the directory of its checkout (its .venv or this one's Python)",
    )
    arguments = parser.parse_args(argv)
    builds: dict[str, Path] = {}
    for item in arguments.build:
        name, _, directory = item.partition("=")
        path = Path(directory).resolve()
        if not name or not (path / "bench" / "reminders" / "worker.py").exists():
            raise SystemExit(f"--build {item!r}: give NAME=CHECKOUT, a checkout with bench/reminders/worker.py")
        builds[name] = path
    arguments.builds = builds
    if not arguments.redis_url:
        raise SystemExit('give --redis-url (eval "$(bash .ci/services env)")')
    return arguments


def reset() -> None:
    """Every reminder due again and nothing of the pass before left; the tables vacuumed, as after a quiet night."""
    from django.db import connection

    with connection.cursor() as cursor:
        for statement in RESET:
            cursor.execute(statement)
        for table in VACUUMED:
            cursor.execute(f"VACUUM ANALYZE {table}")


def counts() -> dict[str, int]:
    from bench.reminders.__main__ import scalar

    return {
        "sent": scalar("SELECT count(*) FROM notifications_reminderoccurrence WHERE status = 'sent'"),
        "pushed": scalar("SELECT count(*) FROM notifications_pushdelivery WHERE status = 'sent'"),
        "deliveries": scalar("SELECT count(*) FROM notifications_pushdelivery"),
    }


def one_pass(
    checkout: Path, environment: dict[str, str], port: int, log: Path, profile: Path | None = None
) -> dict[str, Any]:
    """One worker of the build in ``checkout`` (run there, so that its code is the build's) until all is sent;
    with ``profile``, under cProfile (CPU time), its statistics written there."""
    python = checkout / ".venv" / "bin" / "python"
    command = [
        str(python if python.exists() else Path(sys.executable)),
        *("-m", "bench.reminders.worker", "--worker-id", "cost", "--fcm-url", f"http://127.0.0.1:{port}"),
        *("--project", FCM_PROJECT, "--start-at", "0"),
        *(("--profile", str(profile)) if profile is not None else ()),
    ]
    with log.open("ab") as errors:
        completed = subprocess.run(  # noqa: S603 — our own interpreter and module
            command, cwd=checkout, env=environment, stdout=subprocess.PIPE, stderr=errors, timeout=1800, check=False
        )
    lines = [line for line in completed.stdout.decode().splitlines() if line.startswith("{")]
    if completed.returncode != 0 or not lines:
        raise SystemExit(f"the worker of {checkout} failed (log: {log})")
    return dict(json.loads(lines[-1]))


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    database = Database(arguments.database_url, RUN_DIRECTORY)
    environment, log = prepared_run(database, arguments.redis_url, RUN_DIRECTORY)
    database.create()
    fcm = None
    try:
        migrated_and_seeded(environment, log, arguments.reminders, 1)
        from django.db import connection

        port_file = RUN_DIRECTORY / "fcm.port"
        port_file.unlink(missing_ok=True)
        fcm = start(
            [
                sys.executable,
                "-m",
                "bench.reminders.fake_fcm",
                "--port-file",
                str(port_file),
                "--port",
                str(free_port()),
            ],
            environment,
            log,
        )
        port = int(wait_for_file(port_file, fcm, 30))
        per_thousand: dict[str, list[tuple[float, float]]] = {name: [] for name in arguments.builds}
        requests_before = 0
        for round_number in range(1, arguments.rounds + 1):
            for name, checkout in arguments.builds.items():
                reset()
                connection.close()
                started = time.monotonic()
                result = one_pass(checkout, environment, port, log)
                wall = time.monotonic() - started
                found, stats = counts(), fcm_stats(port)
                connection.close()
                requests = stats["requests"] - requests_before
                requests_before = stats["requests"]
                expected = arguments.reminders
                if not (
                    result["sent"] == found["sent"] == found["pushed"] == found["deliveries"] == requests == expected
                    and stats["notifications_pushed_twice"] == 0
                ):
                    raise SystemExit(
                        f"round {round_number}, {name}: a pass lost or doubled something: {result}, {found}"
                    )
                worker = result["cpu_seconds"] * 1000 / expected
                backend = result["database_cpu_seconds"] * 1000 / expected
                per_thousand[name].append((worker, backend))
                say(
                    f"round {round_number} {name}: CPU s per 1,000 reminders: worker {worker:.3f}, "
                    f"its PostgreSQL backend {backend:.3f}; {wall:.1f} s wall"
                )
        if arguments.profile:
            for name, checkout in arguments.builds.items():
                reset()
                connection.close()
                one_pass(checkout, environment, port, log, RUN_DIRECTORY / f"{name}.prof")
                say(f"-- profile of {name}: {RUN_DIRECTORY / f'{name}.prof'}")
        names = list(arguments.builds)
        say("")
        for name in names:
            workers = [worker for worker, _ in per_thousand[name]]
            backends = [backend for _, backend in per_thousand[name]]
            say(
                f"{name}: worker {', '.join(f'{value:.3f}' for value in workers)} (median "
                f"{statistics.median(workers):.3f}); backend {', '.join(f'{value:.3f}' for value in backends)} "
                f"(median {statistics.median(backends):.3f})"
            )
        for name in names[1:]:
            ratios = [
                (new[0] + new[1]) / (old[0] + old[1])
                for new, old in zip(per_thousand[name], per_thousand[names[0]], strict=True)
            ]
            say(
                f"{name} / {names[0]}, worker + backend, per round: {', '.join(f'{value:.2f}' for value in ratios)}; "
                f"median {statistics.median(ratios):.2f}"
            )
        return 0
    finally:
        if fcm is not None:
            stop(fcm)
        from django.db import connections

        connections.close_all()
        database.drop()


if __name__ == "__main__":
    sys.exit(main())
