"""Telemetry ingest benchmark: POST /api/v1/telemetry over HTTP, served as production serves it, versus a
binary COPY of the same rows into the same table, in one run (PostgreSQL only).

    .venv/bin/python -m bench.velfaerdsteknologi --database-url postgres://…@127.0.0.1:25432/mestring \
        [--devices 20] [--batches 20] [--rounds 3] [--markdown FILE]

Reuses the main harness (``bench/__main__.py``) for the production environment, migration, servers and CPU
accounting. Creates ``mestring_bench_vt`` on the server (dropped at the end), seeds devices in use with
tokens and the model's default rules (``bench/velfaerdsteknologi/seed.py``), and per round:

1. serves ``config.wsgi:application`` with ``deploy/systemd/mestring-web.service``'s gunicorn flags
   (gthread, 2 workers × 8 threads) on a free loopback port, and warms it up;
2. **ingest, rules active**: from a second process (``bench/velfaerdsteknologi/loadgen.py``), one keep-alive
   connection per device posts that device's batches of 500 readings with rising sequence numbers, all
   devices at once, into an emptied reading table;
3. **ingest, rules inactive**: the same with every alert rule switched off (the difference is rule evaluation);
4. **COPY**: the same rows, built from the same JSON bodies (untimed), written with one
   ``COPY … FROM STDIN (FORMAT BINARY)`` and committed into the emptied table (timed).

Every answer must be 200 with one result per reading, all "stored"; the stored row count must equal the
readings sent; with rules active there is one open alert per device and breached rule, without none.
"""

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.__main__ import (
    HOST,
    ROOT,
    THREADS,
    WORKERS,
    RunDatabase,
    Scenario,
    cpu_model,
    cpu_sample,
    git_revision,
    group_cpu,
    markdown_table,
    other_work,
    per_round_ratios,
    run_environment,
    run_step,
    say,
    serving,
    text_table,
    wait_for_quiet,
    wait_until_idle,
)

BENCH_DATABASE = "mestring_bench_vt"
BATCH = 500
READING_TABLE = "velfaerdsteknologi_reading"
COPY_COLUMNS = ("device_id", "sequence", "kind", "value", "numeric_value", "measured_at", "received_at")
COPY_TYPES = ["uuid", "int8", "varchar", "jsonb", "float8", "timestamptz", "timestamptz"]
SCENARIO = Scenario(
    "telemetry-wsgi",
    f"gunicorn gthread {WORKERS}x{THREADS}, config.wsgi",
    lambda port, log: gunicorn_command(port, log),
)


def gunicorn_command(port: int, log: Path) -> list[str]:
    from bench.__main__ import gunicorn_command as production_flags

    return production_flags("config.wsgi:application", port, log)


class TelemetryDatabase(RunDatabase):
    """The harness's run database under this benchmark's own name, so that both can run at once."""

    name = BENCH_DATABASE
    postgresql_only = "the telemetry benchmark compares with PostgreSQL's COPY: give --database-url"


# ------------------------------------------------------------------------------------ workload


def make_bodies(device_count: int, batches: int, start: datetime) -> list[list[str]]:
    """Per device, its batches: half heartbeats, half battery readings (one in twenty low), one fall in 100."""
    devices = []
    for _ in range(device_count):
        bodies = []
        for batch in range(batches):
            readings: list[dict[str, Any]] = []
            for index in range(BATCH):
                sequence = batch * BATCH + index + 1
                at = (start + timedelta(seconds=sequence)).isoformat()
                if index % 100 == 99:
                    readings.append({"sequence": sequence, "kind": "fall", "measured_at": at, "value": True})
                elif index % 2:
                    level = 15 if index % 40 == 1 else 80
                    readings.append({"sequence": sequence, "kind": "battery", "measured_at": at, "value": level})
                else:
                    readings.append({"sequence": sequence, "kind": "heartbeat", "measured_at": at})
            bodies.append(json.dumps({"readings": readings}))
        devices.append(bodies)
    return devices


def copy_rows(device_ids: list[str], bodies: list[list[str]], received_at: datetime) -> list[tuple[Any, ...]]:
    """The rows the ingest stores, from the same JSON bodies: the value as sent (psycopg's jsonb dumper
    encodes it), battery levels also as float."""
    from uuid import UUID

    rows = []
    for device_id, device_bodies in zip(device_ids, bodies, strict=True):
        device = UUID(device_id)
        for body in device_bodies:
            for reading in json.loads(body)["readings"]:
                value = reading.get("value")
                numeric = float(value) if reading["kind"] == "battery" else None
                rows.append(
                    (
                        device,
                        reading["sequence"],
                        reading["kind"],
                        value,
                        numeric,
                        datetime.fromisoformat(reading["measured_at"]),
                        received_at,
                    )
                )
    return rows


# ------------------------------------------------------------------------------------- running


@dataclass
class Measurement:
    seconds: float
    readings: int
    server_cpu_seconds: float = 0.0
    database_cpu_seconds: float = 0.0
    client_cpu_seconds: float = 0.0
    other_cpu: float = 0.0
    latency_ms: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.readings / self.seconds


@dataclass
class Outcome:
    name: str
    rounds: list[Measurement] = field(default_factory=list)

    @property
    def best(self) -> Measurement:
        return max(self.rounds, key=lambda measurement: measurement.rate)

    @property
    def spread(self) -> float:
        return min(measurement.rate for measurement in self.rounds) / self.best.rate


class Failed(Exception):
    pass


# The postmaster of the server under test: only its children are counted (other PostgreSQL servers on the
# machine run their own background processes under the same user).
POSTMASTER: dict[str, int] = {}


def postmaster_find(database: TelemetryDatabase) -> None:
    import psycopg

    with psycopg.connect(database.url, autocommit=True) as connection:
        row = connection.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        # Read while the backend is there: it exits when the connection closes.
        fields = Path(f"/proc/{row[0]}/stat").read_text().rsplit(")", 1)[1].split()
    POSTMASTER["pid"] = int(fields[1])


def database_cpu(owner: int | None) -> int:
    """Jiffies of the PostgreSQL processes that work for this run: the server's backends connected to its
    database and its background processes (WAL writer, checkpointer, autovacuum), not other databases'
    backends nor other servers' processes."""
    if owner is None:
        return 0
    used = 0
    postmaster = POSTMASTER.get("pid")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if stat.stat().st_uid != owner:
                continue
            command = (stat.parent / "cmdline").read_bytes().decode(errors="replace")
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if postmaster is not None and int(fields[1]) != postmaster:
            continue
        is_backend = "(" in command or "[local]" in command
        if not is_backend or f" {BENCH_DATABASE} " in command:
            used += sum(int(value) for value in fields[11:15])
    return used


def reset(database: TelemetryDatabase, *, rules_active: bool) -> None:
    import psycopg

    with psycopg.connect(database.url, autocommit=True) as connection:
        connection.execute(f"TRUNCATE {READING_TABLE}")
        connection.execute("DELETE FROM velfaerdsteknologi_alert")
        connection.execute(
            "UPDATE velfaerdsteknologi_device SET last_seen_at = NULL, battery_level = NULL, battery_measured_at = NULL"
        )
        connection.execute("UPDATE velfaerdsteknologi_alertrule SET is_active = %s", [rules_active])
        for table in (READING_TABLE, "velfaerdsteknologi_device", "velfaerdsteknologi_alert"):
            connection.execute(f"VACUUM ANALYZE {table}")


def stored_state(database: TelemetryDatabase) -> dict[str, int]:
    import psycopg

    with psycopg.connect(database.url, autocommit=True) as connection:
        readings = connection.execute(f"SELECT count(*) FROM {READING_TABLE}").fetchone()
        alerts = connection.execute(
            "SELECT count(*), count(DISTINCT (device_id, rule_id)) FROM velfaerdsteknologi_alert "
            "WHERE status <> 'resolved'"
        ).fetchone()
        devices = connection.execute(
            "SELECT count(*) FILTER (WHERE last_seen_at IS NULL OR battery_level IS NULL) "
            "FROM velfaerdsteknologi_device"
        ).fetchone()
    assert readings and alerts and devices
    return {"readings": readings[0], "open_alerts": alerts[0], "alert_pairs": alerts[1], "devices_unset": devices[0]}


def wait_ready(port: int, token: str, server_process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server_process.poll() is not None:
            raise Failed(f"the server exited with {server_process.returncode}")
        request = urllib.request.Request(
            f"http://{HOST}:{port}/api/v1/device/me", headers={"Authorization": f"Bearer {token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (loopback only)
                if response.status == 200:
                    return
        except (OSError, urllib.error.HTTPError):
            pass
        time.sleep(0.2)
    raise Failed("the server was not ready in 60 s")


def load(port: int, batches_file: Path, first: int = 0) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "bench.velfaerdsteknologi.loadgen",
        "--port",
        str(port),
        "--batches",
        str(batches_file),
        "--first",
        str(first),
    ]
    completed = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False, stdin=subprocess.DEVNULL
    )
    for line in completed.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line.removeprefix("BENCH_RESULT "))
    raise Failed(f"the load generator failed ({completed.returncode}):\n{completed.stderr[-2000:]}")


def access_log_oks(log: Path) -> int:
    path = log.with_suffix(".access.log")
    if not path.exists():
        return 0
    return len(re.findall(r'"POST /api/v1/telemetry HTTP/1\.1" 200 ', path.read_text()))


def measure_ingest(
    *,
    name: str,
    database: TelemetryDatabase,
    port: int,
    group: int,
    log: Path,
    batches_file: Path,
    total: int,
    rules_active: bool,
    quiet_wait: float,
) -> Measurement:
    reset(database, rules_active=rules_active)
    owner = database.owner_uid
    oks_before = access_log_oks(log)
    other_before = wait_for_quiet(group, owner, quiet_wait)
    first, server_first = cpu_sample(group, owner), group_cpu(group)
    database_first = database_cpu(owner)
    result = load(port, batches_file)
    server_cpu = (group_cpu(group) - server_first) / os.sysconf("SC_CLK_TCK")
    database_seconds = (database_cpu(owner) - database_first) / os.sysconf("SC_CLK_TCK")
    other_during = other_work(first, cpu_sample(group, owner))
    requests = total // BATCH
    problems = []
    if result["statuses"] != {"200": requests} or result["socket_errors"]:
        problems.append(f"statuses {result['statuses']}, socket errors {result['socket_errors']}")
    if result["results"] != {"stored": total} or result["mismatches"]:
        problems.append(f"per-reading results {result['results']}, {result['mismatches']} mismatched answers")
    state = stored_state(database)
    if state["readings"] != total:
        problems.append(f"{state['readings']} rows stored, {total} sent")
    if state["devices_unset"]:
        problems.append(f"{state['devices_unset']} devices without last seen or battery level")
    if state["open_alerts"] != state["alert_pairs"] or (state["open_alerts"] > 0) != rules_active:
        problems.append(f"{state['open_alerts']} open alerts over {state['alert_pairs']} device-rule pairs")
    if access_log_oks(log) - oks_before != requests:
        problems.append("the access log does not show one 200 per request")
    if problems:
        raise Failed(f"{name}: " + "; ".join(problems))
    measurement = Measurement(
        seconds=result["seconds"],
        readings=total,
        server_cpu_seconds=server_cpu,
        database_cpu_seconds=database_seconds,
        client_cpu_seconds=result["cpu_seconds"],
        other_cpu=max(other_before, other_during),
        latency_ms=result["latency_ms"],
    )
    say(
        f"   {name}: {measurement.rate:,.0f} readings/s ({result['seconds']:.2f} s), server CPU "
        f"{server_cpu:.2f} s, database CPU {database_seconds:.2f} s, load generator CPU {result['cpu_seconds']:.2f} s, "
        f"p50 {result['latency_ms']['p50']:.0f} ms, open alerts {state['open_alerts']}, other work "
        f"{measurement.other_cpu:.0%}"
    )
    return measurement


def measure_copy(
    database: TelemetryDatabase, device_ids: list[str], bodies: list[list[str]], total: int, quiet_wait: float
) -> tuple[Measurement, float]:
    import psycopg

    reset(database, rules_active=True)
    owner = database.owner_uid
    with psycopg.connect(database.url) as connection:
        connection.execute("SELECT 1")
        connection.commit()
        built = time.perf_counter()
        rows = copy_rows(device_ids, bodies, datetime.now(UTC))
        build_seconds = time.perf_counter() - built
        other_before = wait_for_quiet(os.getpid(), owner, quiet_wait)
        first = cpu_sample(os.getpid(), owner)
        database_first, client_first = database_cpu(owner), time.process_time()
        began = time.perf_counter()
        with (
            connection.cursor() as cursor,
            cursor.copy(
                f"COPY {READING_TABLE} ({', '.join(COPY_COLUMNS)}) FROM STDIN (FORMAT BINARY)"  # noqa: S608
            ) as copier,
        ):
            copier.set_types(COPY_TYPES)
            for row in rows:
                copier.write_row(row)
        connection.commit()
        seconds = time.perf_counter() - began
        client_seconds = time.process_time() - client_first
        database_seconds = (database_cpu(owner) - database_first) / os.sysconf("SC_CLK_TCK")
        other_during = other_work(first, cpu_sample(os.getpid(), owner))
    state = stored_state(database)
    if state["readings"] != total:
        raise Failed(f"COPY stored {state['readings']} rows of {total}")
    measurement = Measurement(
        seconds=seconds,
        readings=total,
        server_cpu_seconds=client_seconds,
        database_cpu_seconds=database_seconds,
        other_cpu=max(other_before, other_during),
    )
    say(
        f"   binary COPY: {measurement.rate:,.0f} readings/s ({seconds:.2f} s; building the rows from the JSON "
        f"took a further {build_seconds:.2f} s), other work {measurement.other_cpu:.0%}"
    )
    return measurement, build_seconds


# --------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""), required=False)
    parser.add_argument("--devices", type=int, default=20, help="devices, one keep-alive connection each (20)")
    parser.add_argument("--batches", type=int, default=20, help="batches of 500 readings per device (20)")
    parser.add_argument("--warmup-batches", type=int, default=3, help="each device's unmeasured batches (3)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the headline is the median round's ratio (3)")
    parser.add_argument("--quiet-wait", type=float, default=30.0, help="seconds to wait for other work to stop (30)")
    parser.add_argument("--markdown", type=Path, help="also write the figures as Markdown to this file")
    arguments = parser.parse_args(argv)
    if not arguments.database_url.startswith("postgres"):
        parser.error("give --database-url postgres://…@127.0.0.1:PORT/NAME (or DATABASE_URL)")

    started = datetime.now(UTC)
    run_id = f"{started:%Y%m%d-%H%M%S}-telemetry"
    run_directory = ROOT / "var" / "bench" / run_id
    run_directory.mkdir(parents=True, exist_ok=True)
    database = TelemetryDatabase(arguments.database_url, run_directory)
    environment = run_environment(database.url, run_directory)
    setup_log = run_directory / "setup.log"
    say(f"== telemetry ingest benchmark {run_id}, logs in {run_directory.relative_to(ROOT)}")
    database.create()
    postmaster_find(database)
    try:
        run_step("migrate", [sys.executable, "manage.py", "migrate", "--noinput"], environment, setup_log, 600)
        run_step(
            f"seed {arguments.devices} devices in use",
            [
                sys.executable,
                "-m",
                "bench.velfaerdsteknologi.seed",
                "--out",
                str(run_directory),
                "--devices",
                str(arguments.devices),
            ],
            environment,
            setup_log,
            600,
        )
        devices = json.loads((run_directory / "devices.json").read_text())
        bodies = make_bodies(arguments.devices, arguments.batches, started - timedelta(days=2))
        batches_file = run_directory / "batches.json"
        batches_file.write_text(
            json.dumps(
                [
                    {"token": device["token"], "bodies": device_bodies}
                    for device, device_bodies in zip(devices, bodies, strict=True)
                ]
            )
        )
        total = arguments.devices * arguments.batches * BATCH
        outcomes = {name: Outcome(name) for name in ("ingest, rules active", "ingest, rules inactive", "binary COPY")}
        build_seconds: list[float] = []
        for round_number in range(1, arguments.rounds + 1):
            say(f"== round {round_number} of {arguments.rounds}")
            log = run_directory / f"{SCENARIO.name}-{round_number}.log"
            with serving(SCENARIO, environment, log) as server:
                wait_ready(server.port, devices[0]["token"], server.process)
                reset(database, rules_active=True)
                load(server.port, batches_file, first=arguments.warmup_batches)
                wait_until_idle(server.process.pid)
                for name, rules_active in (("ingest, rules active", True), ("ingest, rules inactive", False)):
                    outcomes[name].rounds.append(
                        measure_ingest(
                            name=name,
                            database=database,
                            port=server.port,
                            group=server.process.pid,
                            log=log,
                            batches_file=batches_file,
                            total=total,
                            rules_active=rules_active,
                            quiet_wait=arguments.quiet_wait,
                        )
                    )
            copy, build = measure_copy(
                database, [device["id"] for device in devices], bodies, total, arguments.quiet_wait
            )
            outcomes["binary COPY"].rounds.append(copy)
            build_seconds.append(build)
        version = database.scalar("SHOW server_version")
    finally:
        database.drop()

    report = figures(arguments, outcomes, min(build_seconds), total, started, str(version).split()[0])
    say("")
    say(report["text"])
    if arguments.markdown:
        arguments.markdown.write_text(report["markdown"] + "\n")
        say(f"\nMarkdown: {arguments.markdown}")
    return 0


def figures(
    arguments: argparse.Namespace,
    outcomes: dict[str, Outcome],
    build_seconds: float,
    total: int,
    started: datetime,
    version: str,
) -> dict[str, str]:
    ingest, bare, copy = (
        outcomes[name].best for name in ("ingest, rules active", "ingest, rules inactive", "binary COPY")
    )
    copy_with_build = total / (copy.seconds + build_seconds)
    rows = []
    for name, outcome in outcomes.items():
        best = outcome.best
        rows.append(
            [
                name,
                f"{best.rate:,.0f}",
                f"{best.seconds:.2f}",
                f"{best.server_cpu_seconds * 1e6 / total:.1f}" if best.server_cpu_seconds else "-",
                f"{best.database_cpu_seconds * 1e6 / total:.1f}" if best.database_cpu_seconds else "-",
                f"{best.latency_ms['p50']:.0f}" if best.latency_ms else "-",
                f"{outcome.spread:.2f}",
                f"{best.other_cpu:.0%}",
            ]
        )
    header = [
        "measurement",
        "readings/s",
        "seconds",
        "server (COPY: client) CPU µs/reading",
        "PostgreSQL CPU µs/reading",
        "p50 ms/batch",
        "worst/best round",
        "other CPU",
    ]
    wall_rule_cost = (1 / ingest.rate - 1 / bare.rate) * 1e6
    cpu_rule_cost = (
        (ingest.server_cpu_seconds - bare.server_cpu_seconds + ingest.database_cpu_seconds - bare.database_cpu_seconds)
        * 1e6
        / total
    )

    def rounds(name: str) -> list[float]:
        return [measurement.rate for measurement in outcomes[name].rounds]

    with_rules = per_round_ratios(rounds("ingest, rules active"), rounds("binary COPY"))
    without_rules = per_round_ratios(rounds("ingest, rules inactive"), rounds("binary COPY"))
    ratios = [
        [
            "ingest (rules active) / binary COPY, median of the rounds' own ratios",
            f"{with_rules.median:.2f}",
            with_rules.spread(),
        ],
        [
            "ingest (rules inactive) / binary COPY, median of the rounds' own ratios",
            f"{without_rules.median:.2f}",
            without_rules.spread(),
        ],
        [
            "ingest (rules active) / binary COPY, best round of each (for comparison)",
            f"{ingest.rate / copy.rate:.2f}",
            "-",
        ],
        [
            "ingest (rules active) / binary COPY including building its rows from the JSON, best rounds",
            f"{ingest.rate / copy_with_build:.2f}",
            "-",
        ],
    ]

    def cpu_per_reading(name: str) -> list[float]:
        return [measurement.server_cpu_seconds + measurement.database_cpu_seconds
                for measurement in outcomes[name].rounds]  # fmt: skip

    # The inverse for CPU: COPY's CPU per reading over the ingest's. Under other work on the machine the
    # throughput ratio favours the ingest (many processes get a larger share of the CPUs than COPY's one
    # connection); CPU spent per reading does not depend on that share.
    cpu_ratio = per_round_ratios(cpu_per_reading("binary COPY"), cpu_per_reading("ingest, rules active"))
    ratios.insert(
        2,
        [
            "CPU per reading, binary COPY (client + PostgreSQL) / ingest with rules (server + "
            "PostgreSQL), median of the rounds' own ratios",
            f"{cpu_ratio.median:.2f}",
            cpu_ratio.spread(),
        ],
    )
    ratio_header = ["ratio", "×", "lowest–highest round (each round)"]
    context = (
        f"Run {started:%Y-%m-%d %H:%M} UTC on PostgreSQL {version}, commit {git_revision()}; {os.cpu_count()} CPUs "
        f"({cpu_model()}), Python {platform.python_version()}; {arguments.devices} devices × {arguments.batches} "
        f"batches × {BATCH} readings = {total:,} readings per measurement, one keep-alive connection per device "
        f"(bench.velfaerdsteknologi.loadgen, a separate process); {arguments.rounds} rounds, each measuring the "
        f"three one after the other; load average before the run {os.getloadavg()[0]:.2f}."
    )
    rule_line = (
        f"Rule evaluation: {wall_rule_cost:.1f} µs of wall time per reading at full load "
        f"(1/rate with rules − 1/rate without), {cpu_rule_cost:.1f} µs of CPU (server + PostgreSQL) per reading."
    )
    text = "\n".join(
        [
            context,
            "",
            text_table(header, rows),
            "",
            text_table(ratio_header, ratios),
            "",
            rule_line,
            f"Building the COPY rows from the JSON bodies took {build_seconds:.2f} s more (not in the COPY figure).",
        ]
    )
    markdown = "\n".join(
        [
            context,
            "",
            markdown_table(header, rows, numeric_from=1),
            "",
            markdown_table(ratio_header, ratios, 1),
            "",
            rule_line,
            "",
            f"Building the COPY rows from the JSON bodies took {build_seconds:.2f} s more; "
            "it is not in the COPY figure.",
            'Every answer was 200 with a "stored" result per reading, and the stored row count matched.',
        ]
    )
    return {"text": text, "markdown": markdown}


if __name__ == "__main__":
    sys.exit(main())
