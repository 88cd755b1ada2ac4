"""GET /api/v1/me/today benchmark: Mestring against a plain app with hand-written SQL and a DRF version.

    .venv/bin/python -m bench.today [--duration 10] [--rounds 3] [--database-url URL] [--write-readme]

Reuses the main harness (``bench/__main__.py``) for the production environment, migration, servers,
load generators and CPU accounting. Creates its own database (a new SQLite file under
``var/bench/<run>/``, or ``mestring_bench_today`` on the PostgreSQL server of ``--database-url``,
dropped at the end), seeds citizens with logins and training (``bench/today/seed.py``), and then:

1. **Saturation**, per round, for each scenario: gunicorn with ``deploy/systemd/mestring-web.service``'s
   flags on a free loopback port, checked to answer the same JSON as the others for several citizens,
   warmed up, then loaded by wrk (or ``bench/loadgen.py``) with 32 keep-alive connections rotating the
   citizens' tokens, for ``--duration`` seconds after the machine is quiet. Figures: the best round's.
2. **Latency at half of saturation**: Mestring again, loaded at a fixed rate of half its best saturation
   throughput by ``bench/today/loadgen.py`` (open loop, latency from when each request was due), for
   ``--latency-duration`` seconds, ``--rounds`` times; the round with the lowest p99 is reported.

Every answer must be 2xx and write its access-log row. See bench/README.md, section "Today".
"""

import argparse
import http.client
import json
import os
import platform
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.__main__ import (
    BUSY_WARNING,
    HOST,
    LUA_SCRIPT,
    RESULTS_DIR,
    ROOT,
    THREADS,
    TICKS_PER_SECOND,
    WORKERS,
    LoadGenerator,
    LoadResult,
    RunDatabase,
    Scenario,
    ScenarioFailed,
    ScenarioOutcome,
    choose_load_generator,
    cpu_model,
    cpu_sample,
    git_revision,
    group_cpu,
    gunicorn_command,
    loud,
    markdown_table,
    other_work,
    parse_result,
    run_environment,
    run_step,
    say,
    serving,
    terminate_on_signal,
    text_table,
    wait_for_quiet,
    wait_until_idle,
    write_readme,
)

BENCH_DATABASE = "mestring_bench_today"
ENDPOINT = "/api/v1/me/today"
READY_TIMEOUT_SECONDS = 60.0
CHECKED_CITIZENS = 8
TARGETS = {
    ("mestring-wsgi", "plain-wsgi"): 0.12,
    ("mestring-wsgi", "drf-wsgi"): 1.5,
}
LATENCY_TARGET_MS = 50.0

SCENARIOS = [
    Scenario(
        "plain-wsgi",
        f"gunicorn gthread {WORKERS}x{THREADS}, bench.today.plain (plain WSGI, hand-written SQL)",
        lambda port, log: gunicorn_command("bench.today.plain:application", port, log),
    ),
    Scenario(
        "mestring-wsgi",
        f"gunicorn gthread {WORKERS}x{THREADS}, config.wsgi (production HTTP API)",
        lambda port, log: gunicorn_command("config.wsgi:application", port, log),
    ),
    Scenario(
        "drf-wsgi",
        f"gunicorn gthread {WORKERS}x{THREADS}, config.wsgi with bench.today.drf_settings (DRF)",
        lambda port, log: gunicorn_command("config.wsgi:application", port, log),
        environment={"DJANGO_SETTINGS_MODULE": "bench.today.drf_settings"},
    ),
]
SCENARIO_NAMES = [scenario.name for scenario in SCENARIOS]
MESTRING = SCENARIOS[1]
# On SQLite the latency is also measured with a connection opened per request (DB_CONN_MAX_AGE=0, as the
# embedded mode ran before it kept one per thread), in the same rounds at the same rate as the shipped one.
PER_REQUEST_CONNECTION = Scenario(
    "mestring-wsgi-connection-per-request",
    f"gunicorn gthread {WORKERS}x{THREADS}, config.wsgi with DB_CONN_MAX_AGE=0",
    lambda port, log: gunicorn_command("config.wsgi:application", port, log),
    environment={"DB_CONN_MAX_AGE": "0"},
)


class TodayDatabase(RunDatabase):
    """The harness's run database under this benchmark's own name, so that both can run at once."""

    name = BENCH_DATABASE


# ------------------------------------------------------------------------------------------- load


def fetch(port: int, path: str, token: str, timeout: float = 10.0) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_ready(server: Any, path: str, token: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    last_problem = "no answer"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ScenarioFailed(f"the server exited with {server.process.returncode} (log: {server.log})")
        try:
            status, body = fetch(server.port, path, token)
        except OSError as error:
            last_problem = type(error).__name__
        else:
            if status == 200:
                return
            last_problem = f"HTTP {status}: {body[:300]!r}"
        time.sleep(0.2)
    raise ScenarioFailed(f"the server was not ready in {READY_TIMEOUT_SECONDS:.0f}s: {last_problem}")


def saturate(generator: LoadGenerator, port: int, tokens: Path, duration: float, path: str) -> LoadResult:
    """bench.__main__.LoadGenerator.run for another path."""
    if generator.kind == "wrk":
        command = [
            "wrk",
            "-t",
            str(generator.threads),
            "-c",
            str(generator.connections),
            "-d",
            f"{max(1, round(duration))}s",
            "--timeout",
            "10s",
            "-s",
            str(LUA_SCRIPT),
            f"http://{HOST}:{port}",
            "--",
            str(tokens),
            path,
        ]
    else:
        command = [
            sys.executable,
            "-m",
            "bench.loadgen",
            "--host",
            HOST,
            "--port",
            str(port),
            "--path",
            path,
            "--tokens",
            str(tokens),
            "--connections",
            str(generator.connections),
            "--duration",
            str(duration),
        ]
    return run_load(command, duration)


def paced(port: int, tokens: Path, duration: float, path: str, rate: float, connections: int) -> LoadResult:
    command = [
        sys.executable,
        "-m",
        "bench.today.loadgen",
        "--host",
        HOST,
        "--port",
        str(port),
        "--path",
        path,
        "--tokens",
        str(tokens),
        "--rate",
        f"{rate:.3f}",
        "--duration",
        str(duration),
        "--connections",
        str(connections),
    ]
    return run_load(command, duration)


def run_load(command: list[str], duration: float) -> LoadResult:
    completed = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=duration + 90,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    if completed.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({completed.returncode}):\n{completed.stderr[-2000:]}")
    result = parse_result(completed.stdout)
    for line in completed.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            raw = json.loads(line.removeprefix("BENCH_RESULT "))
            if "service_latency_us" in raw:
                result.latency_ms |= {
                    f"service_{name}": value / 1000 for name, value in raw["service_latency_us"].items()
                }
    return result


@dataclass
class Run:
    environment: dict[str, str]
    database: TodayDatabase
    generator: LoadGenerator
    tokens: Path
    sample_tokens: list[str]
    path: str
    directory: Path
    duration: float
    warmup: float
    quiet_wait: float
    reference: dict[str, Any] = field(default_factory=dict)


def check_answers(scenario: Scenario, port: int, run: Run) -> None:
    """The same JSON as the first scenario answered, for each sampled citizen."""
    for token in run.sample_tokens:
        status, body = fetch(port, run.path, token)
        if status != 200:
            raise ScenarioFailed(f"GET {run.path} answered {status}: {body[:300]!r}")
        answer = json.loads(body)
        if not answer["slots"]:
            raise ScenarioFailed(f"GET {run.path} answered no slots: the seed's day is not the day asked for")
        expected = run.reference.setdefault(token, (scenario.name, answer))
        if answer != expected[1]:
            raise ScenarioFailed(
                f"GET {run.path} answers {json.dumps(answer)[:400]}… where {expected[0]} answered "
                f"{json.dumps(expected[1])[:400]}…"
            )


def measure_round(scenario: Scenario, run: Run, load: Any) -> LoadResult:
    owner = run.database.owner_uid
    with serving(scenario, run.environment, run.directory / f"{scenario.name}.log") as server:
        wait_ready(server, run.path, run.sample_tokens[0])
        check_answers(scenario, server.port, run)
        group = server.process.pid
        if run.warmup > 0:
            load(server.port, run.warmup)
            wait_until_idle(group)
        rows_before = run.database.access_log_rows()
        other_before = wait_for_quiet(group, owner, run.quiet_wait)
        started, server_started = cpu_sample(group, owner), group_cpu(group)
        result = load(server.port, run.duration)
        result.server_cpu_seconds = (group_cpu(group) - server_started) / TICKS_PER_SECOND
        result.other_cpu_during = other_work(started, cpu_sample(group, owner))
    result.access_log_rows = run.database.access_log_rows() - rows_before
    result.other_cpu_before = other_before
    return result


def record(outcome: ScenarioOutcome, label: str, measure: Any) -> LoadResult | None:
    try:
        result = measure()
    except ScenarioFailed as failure:
        outcome.problems.append(str(failure))
        loud(f"{label}: {failure}")
        return None
    outcome.rounds.append(result)
    if result.errors:
        outcome.problems.append(
            f"{result.errors} errors (non-2xx by status: {result.status_counts or '-'}, socket: {result.socket_errors})"
        )
    if result.access_log_rows < result.ok:
        outcome.problems.append(f"{result.ok} answers but only {result.access_log_rows} access-log rows written")
    latency = result.latency_ms
    say(
        f"   {result.requests_per_second:8.1f} req/s  p50 {latency['p50']:.2f} ms  p90 {latency['p90']:.2f} ms  "
        f"p99 {latency['p99']:.2f} ms  server CPU {result.server_cpu_ms_per_request:.2f} ms/request  "
        f"errors {result.errors}  access-log rows {result.access_log_rows}  "
        f"other work {result.other_cpu_before:.0%} before, {result.other_cpu_during:.0%} during"
    )
    if max(result.other_cpu_before, result.other_cpu_during) > BUSY_WARNING:
        say(f"   (other processes used up to {max(result.other_cpu_before, result.other_cpu_during):.0%} of the CPUs)")
    return result


def interleaved_cpu(run: Run, tokens: list[str], blocks: int, per_block: int) -> dict[str, float]:
    """Server CPU per request of each scenario, all servers up, measured in alternating blocks of sequential
    requests: every scenario sees the same machine within seconds, whatever else runs on it."""
    used = {scenario.name: 0 for scenario in SCENARIOS}
    answered = {scenario.name: 0 for scenario in SCENARIOS}
    with ExitStack() as stack:
        servers = {
            scenario.name: stack.enter_context(
                serving(scenario, run.environment, run.directory / f"{scenario.name}.interleaved.log")
            )
            for scenario in SCENARIOS
        }
        for server in servers.values():
            wait_ready(server, run.path, run.sample_tokens[0])
        position = 0

        def block(name: str, count: int) -> None:
            """``count`` requests on one new keep-alive connection (gunicorn closes idle ones after 5 s)."""
            nonlocal position
            connection = http.client.HTTPConnection(HOST, servers[name].port, timeout=30)
            try:
                for _ in range(count):
                    position = (position + 7919) % len(tokens)
                    connection.request("GET", run.path, headers={"Authorization": f"Bearer {tokens[position]}"})
                    response = connection.getresponse()
                    response.read()
                    if response.status != 200:
                        raise ScenarioFailed(f"{name} answered {response.status} in the interleaved measurement")
            finally:
                connection.close()

        for name in servers:
            block(name, per_block)
        for number in range(blocks):
            names = list(servers)
            names = names[number % len(names) :] + names[: number % len(names)]
            for name in names:
                group = servers[name].process.pid
                before = group_cpu(group)
                block(name, per_block)
                used[name] += group_cpu(group) - before
                answered[name] += per_block
    return {name: used[name] * 1000 / TICKS_PER_SECOND / answered[name] for name in used}


# ---------------------------------------------------------------------------------------- reports


def other_cpu(result: LoadResult | None) -> str:
    return f"{max(result.other_cpu_before, result.other_cpu_during):.0%}" if result else "-"


def saturation_rows(outcomes: dict[str, ScenarioOutcome]) -> list[list[str]]:
    return [
        [
            name,
            outcome.scenario.serving,
            f"{outcome.requests_per_second:.0f}",
            f"{outcome.latency('p50'):.1f}",
            f"{outcome.latency('p99'):.1f}",
            f"{outcome.server_cpu_ms_per_request:.2f}",
            str(outcome.errors),
            f"{outcome.spread:.2f}",
            other_cpu(outcome.best),
        ]
        for name, outcome in outcomes.items()
    ]


SATURATION_HEADER = [
    "scenario",
    "serving",
    "req/s",
    "p50 ms",
    "p99 ms",
    "server CPU ms/req",
    "errors",
    "worst/best round",
    "other CPU",
]
RATIO_HEADER = ["ratio", "req/s", "target", "met", "server CPU per request", "each round (req/s)"]
LATENCY_HEADER = [
    "scenario",
    "rate req/s (target)",
    "p50 ms",
    "p90 ms",
    "p99 ms",
    "p99.9 ms",
    "max ms",
    "p99 from send ms",
    "errors",
    "p99 each round",
    "other CPU",
    "target p99",
    "met",
]


def ratio_rows(outcomes: dict[str, ScenarioOutcome]) -> list[list[str]]:
    rows = []
    for (top_name, bottom_name), target in TARGETS.items():
        if top_name not in outcomes or bottom_name not in outcomes:
            continue
        top, bottom = outcomes[top_name], outcomes[bottom_name]
        value = top.requests_per_second / bottom.requests_per_second if bottom.requests_per_second else 0.0
        cpu = bottom.server_cpu_ms_per_request and top.server_cpu_ms_per_request / bottom.server_cpu_ms_per_request
        per_round = ", ".join(
            f"{upper.requests_per_second / lower.requests_per_second:.2f}"
            for upper, lower in zip(top.rounds, bottom.rounds, strict=False)
            if lower.requests_per_second
        )
        rows.append(
            [
                f"{top_name} / {bottom_name}",
                f"{value:.2f}",
                f"≥ {target:g}",
                "yes" if value >= target else "**no**",
                f"{cpu:.2f}",
                per_round,
            ]
        )
    return rows


def latency_rows(outcomes: dict[str, ScenarioOutcome], rate: float) -> list[list[str]]:
    return [row for outcome in outcomes.values() for row in _latency_row(outcome, rate)]


def _latency_row(outcome: ScenarioOutcome, rate: float) -> list[list[str]]:
    if not outcome.rounds:
        return []
    best = min(outcome.rounds, key=lambda result: result.latency_ms["p99"])
    latency = best.latency_ms
    return [
        [
            outcome.scenario.name,
            f"{best.requests_per_second:.1f} ({rate:.1f})",
            f"{latency['p50']:.1f}",
            f"{latency['p90']:.1f}",
            f"{latency['p99']:.1f}",
            f"{latency['p999']:.1f}",
            f"{latency['max']:.1f}",
            f"{latency.get('service_p99', 0.0):.1f}",
            str(outcome.errors),
            ", ".join(f"{result.latency_ms['p99']:.1f}" for result in outcome.rounds),
            other_cpu(best),
            f"< {LATENCY_TARGET_MS:g} ms",
            "yes" if latency["p99"] < LATENCY_TARGET_MS else "**no**",
        ]
    ]


INTERLEAVED_HEADER = ["scenario", "server CPU ms/req, interleaved", "mestring-wsgi's ÷ this"]


def interleaved_rows(interleaved: dict[str, float]) -> list[list[str]]:
    mestring = interleaved.get(MESTRING.name, 0.0)
    return [[name, f"{value:.2f}", f"{mestring / value:.2f}" if value else "-"] for name, value in interleaved.items()]


def readme_block(
    context: dict[str, Any],
    saturation: dict[str, ScenarioOutcome],
    latency: dict[str, ScenarioOutcome],
    rate: float,
    interleaved: dict[str, float],
    extra_problems: list[str],
) -> str:
    problems = [
        f"{name}: {problem}"
        for name, outcome in [*saturation.items(), *latency.items()]
        for problem in outcome.problems
    ] + extra_problems
    lines = [
        f"Run {context['date']} on {context['database']}, commit {context['revision']}; {context['cpus']} CPUs "
        f"({context['cpu']}), Python {context['python']}; `{context['command']}`; {context['citizens']} citizens' "
        f"tokens in rotation, `GET {context['path']}`, {context['schema']}; load average before the run "
        f"{context['load']}.",
        "",
        f"Saturation: {context['load_generator']}; {context['duration']:g} s per scenario after a "
        f"{context['warmup']:g} s warm-up, best of {context['rounds']} round(s).",
        "",
        markdown_table(SATURATION_HEADER, saturation_rows(saturation), numeric_from=2),
        "",
        markdown_table(RATIO_HEADER, ratio_rows(saturation), numeric_from=1),
        "",
        f"Interleaved CPU: all three servers up, {context['interleaved_blocks']} rounds of 100 sequential requests "
        "to each in turn on one keep-alive connection, the server processes' CPU over all of them (the database "
        "server's is not in it): every app is measured on the same machine within seconds of the others.",
        "",
        markdown_table(INTERLEAVED_HEADER, interleaved_rows(interleaved), numeric_from=1),
        "",
        f"Latency at half of saturation: `bench.today.loadgen` (open loop, {context['latency_connections']} "
        f"keep-alive connections, latency from when each request was due) at {rate:.1f} req/s, half of "
        f"mestring-wsgi's best saturation throughput; {context['latency_duration']:g} s per round after a "
        f"{context['warmup']:g} s warm-up at the same rate, the round with the lowest p99 of {context['rounds']}"
        + (
            f"; {PER_REQUEST_CONNECTION.name} (a connection opened per request) in turn with it in every round."
            if PER_REQUEST_CONNECTION.name in latency
            else "."
        ),
        "",
        markdown_table(LATENCY_HEADER, latency_rows(latency, rate), numeric_from=1),
        "",
        "No errors: every answer was 2xx and wrote its access-log row, and all three apps answered the same "
        f"JSON for the {CHECKED_CITIZENS} citizens checked before every measurement."
        if not problems
        else "**THIS RUN HAD ERRORS**: " + "; ".join(problems),
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------- main


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.today", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of saturating load per scenario (10)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of unmeasured load first (3)")
    parser.add_argument("--connections", type=int, default=32, help="saturating keep-alive connections (32)")
    parser.add_argument(
        "--latency-duration", type=float, default=30.0, help="seconds of fixed-rate load per latency round (30)"
    )
    parser.add_argument("--latency-connections", type=int, default=16, help="connections of the fixed-rate load (16)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help=f"PostgreSQL server to create {BENCH_DATABASE} on (default: $DATABASE_URL, else a new SQLite file)",
    )
    parser.add_argument("--only", action="append", choices=SCENARIO_NAMES, help="saturate only this scenario")
    parser.add_argument("--rounds", type=int, default=1, help="rounds; each figure is the best round's (1)")
    parser.add_argument("--citizens", type=int, default=1000, help="citizens seeded, each with a login (1000)")
    parser.add_argument("--load-generator", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--quiet-wait", type=float, default=60.0, help="seconds to wait for a quiet machine (60)")
    parser.add_argument(
        "--interleaved-blocks",
        type=int,
        default=20,
        help="blocks of 100 sequential requests per app for the interleaved CPU measurement; 0 skips it (20)",
    )
    parser.add_argument("--keep-database", action="store_true", help="leave the run's database in place")
    parser.add_argument("--write-readme", action="store_true", help="rewrite this database's figures in README")
    arguments = parser.parse_args(argv)
    if min(arguments.duration, arguments.latency_duration) <= 0 or arguments.rounds < 1 or arguments.citizens < 1:
        parser.error("--duration, --latency-duration, --rounds and --citizens must be positive")
    return arguments


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    signal.signal(signal.SIGTERM, terminate_on_signal)
    signal.signal(signal.SIGHUP, terminate_on_signal)

    started = datetime.now(UTC)
    load_before = os.getloadavg()[0]
    base_url = arguments.database_url or "sqlite:///"
    kind = "sqlite" if base_url.startswith("sqlite:") else "postgresql"
    run_id = f"{started:%Y%m%d-%H%M%S}-today-{kind}"
    run_directory = ROOT / "var" / "bench" / run_id
    run_directory.mkdir(parents=True, exist_ok=True)
    database = TodayDatabase(base_url, run_directory)
    generator = choose_load_generator(arguments.load_generator, arguments.connections, 1)
    selected = [scenario for scenario in SCENARIOS if not arguments.only or scenario.name in arguments.only]

    say(f"== /me/today benchmark {run_id}, logs in {run_directory.relative_to(ROOT)}")
    environment = run_environment(database.url, run_directory)
    setup_log = run_directory / "setup.log"
    saturation = {scenario.name: ScenarioOutcome(scenario) for scenario in selected}
    latency_scenarios = [MESTRING, PER_REQUEST_CONNECTION] if kind == "sqlite" else [MESTRING]
    latency = {scenario.name: ScenarioOutcome(scenario) for scenario in latency_scenarios}
    rate = 0.0
    interleaved: dict[str, float] = {}
    interleaved_problems: list[str] = []
    database.create()
    try:
        run_step(
            f"migrate a new {kind} database",
            [sys.executable, "manage.py", "migrate", "--noinput"],
            environment,
            setup_log,
            timeout=600,
        )
        run_step(
            f"seed {arguments.citizens} citizens with logins and training plans",
            [
                sys.executable,
                "-m",
                "bench.today.seed",
                "--out",
                str(run_directory),
                "--citizens",
                str(arguments.citizens),
            ],
            environment | {"ACCESS_TOKEN_TTL_SECONDS": str(24 * 3600)},
            setup_log,
            timeout=900,
        )
        database.analyze()
        tokens = run_directory / "citizen_tokens.txt"
        all_tokens = tokens.read_text().split()
        step = max(1, len(all_tokens) // CHECKED_CITIZENS)
        run = Run(
            environment=environment,
            database=database,
            generator=generator,
            tokens=tokens,
            sample_tokens=all_tokens[::step][:CHECKED_CITIZENS],
            path=f"{ENDPOINT}?date={(run_directory / 'day.txt').read_text().strip()}",
            directory=run_directory,
            duration=arguments.duration,
            warmup=arguments.warmup,
            quiet_wait=arguments.quiet_wait,
        )

        def saturating(port: int, seconds: float) -> LoadResult:
            return saturate(generator, port, tokens, seconds, run.path)

        for round_number in range(1, arguments.rounds + 1):
            say(f"== saturation, round {round_number} of {arguments.rounds}")
            for scenario in selected:
                say(f"-- {scenario.name}: {scenario.serving}")
                record(
                    saturation[scenario.name],
                    scenario.name,
                    lambda scenario=scenario: measure_round(scenario, run, saturating),
                )

        if arguments.interleaved_blocks > 0:
            say(f"== interleaved CPU per request: {arguments.interleaved_blocks} blocks of 100 requests per app")
            try:
                interleaved = interleaved_cpu(run, all_tokens, arguments.interleaved_blocks, 100)
            except ScenarioFailed as failure:
                loud(f"interleaved: {failure}")
                interleaved_problems.append(str(failure))
            say("   " + ", ".join(f"{name} {value:.2f} ms" for name, value in interleaved.items()))

        mestring = saturation.get(MESTRING.name)
        if mestring is not None and mestring.requests_per_second:
            rate = mestring.requests_per_second / 2
            latency_run = Run(**{**vars(run), "duration": arguments.latency_duration})

            def pacing(port: int, seconds: float) -> LoadResult:
                return paced(port, tokens, seconds, run.path, rate, arguments.latency_connections)

            for round_number in range(1, arguments.rounds + 1):
                say(f"== latency at {rate:.1f} req/s (half of saturation), round {round_number} of {arguments.rounds}")
                for scenario in latency_scenarios:
                    say(f"-- {scenario.name}: {scenario.serving}")
                    record(
                        latency[scenario.name],
                        f"latency {scenario.name}",
                        lambda scenario=scenario: measure_round(scenario, latency_run, pacing),
                    )
        database_version = database.version()
    finally:
        if not arguments.keep_database:
            database.drop()

    command = "python -m bench.today " + " ".join(argv if argv is not None else sys.argv[1:])
    context = {
        "date": f"{started:%Y-%m-%d %H:%M} UTC",
        "database": database_version,
        "revision": git_revision(),
        "cpus": os.cpu_count(),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "command": command.replace(arguments.database_url, "$DATABASE_URL") if arguments.database_url else command,
        "citizens": arguments.citizens,
        "path": run.path,
        "schema": "the shipped schema",
        "load": f"{load_before:.2f}",
        "load_generator": generator.describe(),
        "duration": arguments.duration,
        "warmup": arguments.warmup,
        "rounds": arguments.rounds,
        "latency_duration": arguments.latency_duration,
        "latency_connections": arguments.latency_connections,
        "interleaved_blocks": arguments.interleaved_blocks,
    }
    say("")
    say(f"== {context['database']}, {context['cpus']} CPUs, GET {run.path}")
    say(text_table(SATURATION_HEADER, saturation_rows(saturation)))
    say("")
    ratios = ratio_rows(saturation)
    if ratios:
        say(text_table(RATIO_HEADER, ratios))
        say("")
    if interleaved:
        say(text_table(INTERLEAVED_HEADER, interleaved_rows(interleaved)))
        say("")
    latencies = latency_rows(latency, rate)
    if latencies:
        say(text_table(LATENCY_HEADER, latencies))

    RESULTS_DIR.mkdir(exist_ok=True)
    result_file = RESULTS_DIR / f"{run_id}.json"
    result_file.write_text(
        json.dumps(
            {
                "context": context,
                "saturation": {
                    name: {"problems": outcome.problems, "rounds": [vars(result) for result in outcome.rounds]}
                    for name, outcome in saturation.items()
                },
                "interleaved_cpu_ms_per_request": interleaved,
                "latency": {
                    "rate": rate,
                    **{
                        name: {"problems": outcome.problems, "rounds": [vars(result) for result in outcome.rounds]}
                        for name, outcome in latency.items()
                    },
                },
            },
            indent=2,
        )
    )
    say(f"\nresults: {result_file.relative_to(ROOT)}")
    problems = [
        f"{name}: {problem}"
        for name, outcome in [*saturation.items(), *latency.items()]
        for problem in outcome.problems
    ] + interleaved_problems
    if arguments.write_readme and not problems:
        write_readme(
            f"today-{kind}",
            readme_block(context, saturation, latency, rate, interleaved, interleaved_problems),
        )
    if problems:
        loud(
            "THIS RUN HAD ERRORS; its figures do not count"
            + (" and bench/README.md was left as it was" if arguments.write_readme else "")
            + ":\n!! "
            + "\n!! ".join(problems)
        )
        return 1
    say("no errors: every answer was 2xx, wrote its access-log row, and the three apps answered the same JSON")
    return 0


if __name__ == "__main__":
    sys.exit(main())
