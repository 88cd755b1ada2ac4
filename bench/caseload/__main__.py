"""Team caseload benchmark: GET /api/v1/teams/{team_id}/caseload over HTTP, served as production serves it,
against an independently written baseline and the physical floor of reading the same rows once, for several
page shapes, in one run (SQLite, or PostgreSQL when a URL is given).

    .venv/bin/python -m bench.caseload [--database-url URL] [--citizens 1000] [--days 30] [--samples 200]
                                       [--rounds 3] [--rate 4] [--load-seconds 30] [--shapes mixed,red,green,sparse]
                                       [--write-readme]

Reuses the main harness (``bench/__main__.py``) for the production environment, migration, servers and CPU
accounting. A fresh database (a new SQLite file under ``var/bench/<run>/``, or ``mestring_bench_caseload``
created on the PostgreSQL server and dropped at the end), migrated and seeded by ``bench/caseload/seed.py``
(one team of 1,000 citizens per page shape, each with an active plan and 30 days of slots and session logs).
Per round:

1. serve ``config.wsgi:application`` with ``deploy/systemd/mestring-web.service``'s gunicorn flags on a free
   loopback port, and warm it up;
2. per shape, **check**: the endpoint's first page (50 citizens, traffic light first) must equal what the
   independent baseline (``bench/caseload/independent.py``: the rows read once, the rules applied in Python)
   gives at the instant the endpoint reports (``computed_at``): the same citizens in the same order with the
   same figures, lights and reasons;
3. per shape, **sequential**: ``--samples`` times, one request over a keep-alive connection, then the baseline
   once on the harness's own open connection (its reads timed apart: the floor), alternating, so that all
   see the same machine;
4. **light load** on the first shape's team: ``--rate`` requests a second on a fixed schedule over two
   keep-alive connections for ``--load-seconds`` from a separate process (``bench/caseload/loadgen.py``),
   latency from the scheduled start.

Every answer must be 200 and write one access-log row per citizen on the page. The headline ratios are each
round's own (endpoint median over floor median, and over the baseline's), their median and spread.
"""

import argparse
import http.client
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from bench.__main__ import (
    HOST,
    README,
    ROOT,
    THREADS,
    WORKERS,
    RoundRatios,
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
from bench.caseload import independent
from bench.caseload.seed import SHAPES

BENCH_DATABASE = "mestring_bench_caseload"
PAGE_SIZE = 50
SORT = "status"
# The mixed team's page sorted by status is all red (a quarter of its citizens train a third of their slots);
# sorted by name its first page has every light.
SHAPE_SORT = {"mixed": "name"}
RATIO_TARGET = 3.0
P99_TARGET_MS = 300.0
TICKS = os.sysconf("SC_CLK_TCK")
SCENARIO = Scenario(
    "caseload-wsgi",
    f"gunicorn gthread {WORKERS}x{THREADS}, config.wsgi",
    lambda port, log: _gunicorn(port, log),
)
SECTION_TITLE = "## Team caseload against an independent baseline and the floor (issues 4 and 18)"
ZONE = ZoneInfo("Europe/Copenhagen")


def _gunicorn(port: int, log: Path) -> list[str]:
    from bench.__main__ import gunicorn_command

    return gunicorn_command("config.wsgi:application", port, log)


class CaseloadDatabase(RunDatabase):
    """The harness's run database under this benchmark's own name on PostgreSQL, so both can run at once."""

    name = BENCH_DATABASE


class Failed(Exception):
    pass


# ------------------------------------------------------------------------------------- the statement


class Baseline:
    """The independent baseline on one open connection of the harness's own."""

    def __init__(self, database: CaseloadDatabase) -> None:
        self.database = database
        if database.is_sqlite:
            self.connection: Any = sqlite3.connect(database.path, timeout=30)
        else:
            import psycopg

            self.connection = psycopg.connect(database.url, autocommit=True)

    def _execute(self, statement: str, parameters: dict[str, Any]) -> list[tuple[Any, ...]]:
        return self.connection.execute(statement, parameters).fetchall()

    def run(self, team_id: str, now: datetime, sort: str = SORT) -> tuple[list[independent.Item], float, float]:
        """The page at ``now``, the milliseconds its reads took (the floor) and the milliseconds in all."""
        moments = independent.Moments(now=now, today=now.astimezone(ZONE).date())
        started = time.perf_counter()
        rows = independent.read(self._execute, team_id, moments, sqlite=self.database.is_sqlite)
        read = time.perf_counter()
        items = independent.page(rows, moments, limit=PAGE_SIZE, sort=sort)
        finished = time.perf_counter()
        return items, (read - started) * 1000, (finished - started) * 1000

    def floor(self, team_id: str, now: datetime) -> tuple[int, float]:
        """The rows the page depends on, read once by the database and counted; how many, and the milliseconds."""
        moments = independent.Moments(now=now, today=now.astimezone(ZONE).date())
        started = time.perf_counter()
        count = independent.floor(self._execute, team_id, moments, sqlite=self.database.is_sqlite)
        return count, (time.perf_counter() - started) * 1000

    def close(self) -> None:
        self.connection.close()


# ------------------------------------------------------------------------------------------ HTTP


class Endpoint:
    """One keep-alive connection sending the same GET, with a bearer token or the ``headers`` given."""

    def __init__(self, port: int, token: str, path: str, headers: dict[str, str] | None = None) -> None:
        self.port, self.path = port, path
        self.headers = headers if headers is not None else {"Authorization": f"Bearer {token}"}
        self.connection = http.client.HTTPConnection(HOST, port, timeout=60)

    def reconnect(self) -> None:
        self.connection.close()
        self.connection = http.client.HTTPConnection(HOST, self.port, timeout=60)

    def get(self) -> tuple[int, bytes, float]:
        """One request; a keep-alive connection the server closed while idle is opened again (untimed)."""
        try:
            return self._get()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self.reconnect()
            return self._get()

    def _get(self) -> tuple[int, bytes, float]:
        started = time.perf_counter()
        self.connection.request("GET", self.path, headers=self.headers)
        response = self.connection.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.will_close:
            self.reconnect()
        return response.status, body, elapsed

    def close(self) -> None:
        self.connection.close()


def wait_ready(endpoint: Endpoint, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    problem = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise Failed(f"the server exited with {process.returncode}")
        try:
            status, body, _ = endpoint.get()
        except OSError as error:
            problem = type(error).__name__
            endpoint.reconnect()
        else:
            if status == 200:
                return
            problem = f"HTTP {status}: {body[:200]!r}"
        time.sleep(0.3)
    raise Failed(f"the server was not ready in {seconds:g} s: {problem}")


# -------------------------------------------------------------------------------------- measuring


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(fraction * len(ordered) + 0.999999) - 1))
    return ordered[index]


@dataclass
class Series:
    """Latencies in milliseconds of one measurement in one round."""

    values: list[float]
    server_cpu_ms: float = 0.0
    other_cpu: float = 0.0
    rate: float = 0.0

    def at(self, fraction: float) -> float:
        return percentile(self.values, fraction)

    @property
    def median(self) -> float:
        return statistics.median(self.values)


@dataclass
class ShapeRound:
    """One shape's sequential measurement in one round, taken alternately: the endpoint, the floor (the same
    rows read once in the database), and the independent baseline in all and its reads alone."""

    endpoint: Series
    floor: Series
    baseline: Series
    reads: Series
    rows: int
    lights: dict[str, int]


@dataclass
class Round:
    shapes: dict[str, ShapeRound]
    light: Series


@dataclass
class Run:
    rounds: list[Round] = field(default_factory=list)

    def ratios(self, shape: str, over: str) -> RoundRatios:
        """Each round's endpoint median over its ``over`` median (``floor`` or ``baseline``)."""
        return per_round_ratios(
            [one.shapes[shape].endpoint.median for one in self.rounds],
            [getattr(one.shapes[shape], over).median for one in self.rounds],
        )


def access_log_rows(database: CaseloadDatabase) -> int:
    return database.access_log_rows()


def api_path(team_id: str, sort: str = SORT, limit: int = PAGE_SIZE) -> str:
    return f"/api/v1/teams/{team_id}/caseload?" + urlencode({"limit": limit, "sort": sort})


def measure_shape(
    *,
    database: CaseloadDatabase,
    baseline: Baseline,
    port: int,
    group: int,
    team_id: str,
    sort: str,
    token: str,
    samples: int,
    quiet_wait: float,
) -> ShapeRound:
    endpoint = Endpoint(port, token, api_path(team_id, sort))
    try:
        for _ in range(10):
            endpoint.get()
            baseline.run(team_id, datetime.now(UTC), sort)
        status, body, _ = endpoint.get()
        if status != 200:
            raise Failed(f"the endpoint answered {status}: {body[:300]!r}")
        answer = json.loads(body)
        computed_at = datetime.fromisoformat(answer["computed_at"].replace("Z", "+00:00"))
        items, _, _ = baseline.run(team_id, computed_at, sort)
        problems = independent.differences(answer["items"], items)
        if problems:
            raise Failed("the endpoint and the independent baseline disagree: " + "; ".join(problems))
        lights = [item.status for item in items]
        counted = {light: lights.count(light) for light in independent.LIGHTS}
        wait_until_idle(group)
        owner = database.owner_uid
        other_before = wait_for_quiet(group, owner, quiet_wait)
        first, server_first = cpu_sample(group, owner), group_cpu(group)
        rows_before = access_log_rows(database)
        endpoint.reconnect()
        endpoint_ms, floor_ms, reads_ms, baseline_ms, statuses = [], [], [], [], []
        for _ in range(samples):
            status, _, elapsed = endpoint.get()
            statuses.append(status)
            endpoint_ms.append(elapsed)
            rows, floor_elapsed = baseline.floor(team_id, datetime.now(UTC))
            floor_ms.append(floor_elapsed)
            _, read_ms, total_ms = baseline.run(team_id, datetime.now(UTC), sort)
            reads_ms.append(read_ms)
            baseline_ms.append(total_ms)
        server_cpu = (group_cpu(group) - server_first) / TICKS
        other = max(other_before, other_work(first, cpu_sample(group, owner)))
        written = access_log_rows(database) - rows_before
    finally:
        endpoint.close()
    if set(statuses) != {200}:
        raise Failed(f"sequential answers were not all 200: {sorted(set(statuses))}")
    if written != len(items) * samples:
        raise Failed(f"{written} access-log rows for {samples} pages of {len(items)}")
    return ShapeRound(
        endpoint=Series(endpoint_ms, server_cpu_ms=server_cpu * 1000 / samples, other_cpu=other),
        floor=Series(floor_ms, other_cpu=other),
        baseline=Series(baseline_ms, other_cpu=other),
        reads=Series(reads_ms, other_cpu=other),
        rows=rows,
        lights=counted,
    )


def measure_round(
    *,
    database: CaseloadDatabase,
    baseline: Baseline,
    port: int,
    group: int,
    teams: dict[str, str],
    tokens_file: Path,
    tokens: list[str],
    arguments: argparse.Namespace,
) -> Round:
    shapes = {}
    for shape, team_id in teams.items():
        measured = shapes[shape] = measure_shape(
            database=database,
            baseline=baseline,
            port=port,
            group=group,
            team_id=team_id,
            sort=SHAPE_SORT.get(shape, SORT),
            token=tokens[0],
            samples=arguments.samples,
            quiet_wait=arguments.quiet_wait,
        )
        say(
            f"   {shape} ({measured.lights['red']} red, {measured.lights['yellow']} yellow, "
            f"{measured.lights['green']} green on the page): endpoint median {measured.endpoint.median:.1f} ms, "
            f"baseline {measured.baseline.median:.1f} ms (its reads {measured.reads.median:.1f} ms), floor "
            f"{measured.floor.median:.1f} ms ({measured.rows:,} rows); endpoint / floor "
            f"{measured.endpoint.median / measured.floor.median:.2f}, server CPU {measured.endpoint.server_cpu_ms:.1f} "
            f"ms/request; other work {measured.endpoint.other_cpu:.0%}"
        )
    first_shape = next(iter(teams))
    light = measure_light_load(
        port=port,
        path=api_path(teams[first_shape]),
        tokens_file=tokens_file,
        group=group,
        database=database,
        arguments=arguments,
        page_size=min(PAGE_SIZE, arguments.citizens),
    )
    say(
        f"   light load {light.rate:g}/s on {first_shape}: p50 {light.at(0.5):.1f} ms, "
        f"p99 {light.at(0.99):.1f} ms; other work {light.other_cpu:.0%}"
    )
    return Round(shapes=shapes, light=light)


def measure_light_load(
    *,
    port: int,
    path: str,
    tokens_file: Path,
    group: int,
    database: CaseloadDatabase,
    arguments: argparse.Namespace,
    page_size: int,
) -> Series:
    owner = database.owner_uid
    other_before = wait_for_quiet(group, owner, arguments.quiet_wait)
    first, server_first = cpu_sample(group, owner), group_cpu(group)
    rows_before = access_log_rows(database)
    command = [
        sys.executable,
        "-m",
        "bench.caseload.loadgen",
        "--port",
        str(port),
        "--path",
        path,
        "--tokens",
        str(tokens_file),
        "--rate",
        str(arguments.rate),
        "--connections",
        "2",
        "--duration",
        str(arguments.load_seconds),
        "--timeout",
        "30",
    ]
    completed = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=arguments.load_seconds + 120,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    result = None
    for line in completed.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            result = json.loads(line.removeprefix("BENCH_RESULT "))
    if result is None:
        raise Failed(f"the load generator failed ({completed.returncode}):\n{completed.stderr[-2000:]}")
    server_cpu = (group_cpu(group) - server_first) / TICKS
    other = max(other_before, other_work(first, cpu_sample(group, owner)))
    written = access_log_rows(database) - rows_before
    if result["statuses"] != {"200": result["requests"]} or result["errors"]:
        raise Failed(f"light load: statuses {result['statuses']}, errors {result['errors']}")
    if written != page_size * result["requests"]:
        raise Failed(f"light load: {written} access-log rows for {result['requests']} pages of {page_size}")
    return Series(
        result["latencies_ms"],
        server_cpu_ms=server_cpu * 1000 / max(1, result["requests"]),
        other_cpu=other,
        rate=arguments.rate,
    )


# ------------------------------------------------------------------------------------------ report


def figures(arguments: argparse.Namespace, run: Run, context: dict[str, Any]) -> dict[str, str]:
    shapes = list(run.rounds[0].shapes)
    header = [
        "shape (lights on the page)",
        "endpoint p50 ms",
        "endpoint p99 ms",
        "rows read",
        "floor p50 ms",
        "baseline p50 ms (its reads)",
        "server CPU ms/req",
        "endpoint ÷ floor, median (lowest–highest, each round)",
        "endpoint ÷ baseline, median (lowest–highest, each round)",
    ]
    rows = []
    verdicts = []
    for shape in shapes:
        middle = sorted(run.rounds, key=lambda one: one.shapes[shape].endpoint.median)[len(run.rounds) // 2]
        measured = middle.shapes[shape]
        over_floor, over_baseline = run.ratios(shape, "floor"), run.ratios(shape, "baseline")
        lights = ", ".join(f"{count} {light}" for light, count in measured.lights.items() if count)
        rows.append(
            [
                f"{shape}, by {SHAPE_SORT.get(shape, SORT)} ({lights})",
                f"{measured.endpoint.median:.1f}",
                f"{measured.endpoint.at(0.99):.1f}",
                f"{measured.rows:,}",
                f"{measured.floor.median:.1f}",
                f"{measured.baseline.median:.1f} ({measured.reads.median:.1f})",
                f"{measured.endpoint.server_cpu_ms:.1f}",
                f"**{over_floor.median:.2f}** ({over_floor.spread()})",
                f"**{over_baseline.median:.2f}** ({over_baseline.spread()})",
            ]
        )
        verdicts.append(
            f"{shape} {'met' if over_baseline.high <= RATIO_TARGET else 'MISSED'} ({over_baseline.median:.2f}×, "
            f"worst round {over_baseline.high:.2f}×; the floor {over_floor.median:.1f}×)"
        )
    light = sorted(run.rounds, key=lambda one: one.light.at(0.99))[len(run.rounds) // 2].light
    light_line = (
        f"Light load on the {shapes[0]} team ({arguments.rate:g} req/s paced, 2 connections, "
        f"{arguments.load_seconds:g} s): p50 {light.median:.0f} ms, p99 {light.at(0.99):.0f} ms in the median round "
        f"(each round: {', '.join(f'{one.light.at(0.99):.0f}' for one in run.rounds)} ms); other work on the CPUs "
        f"{', '.join(f'{one.light.other_cpu:.0%}' for one in run.rounds)}."
    )
    verdict = (
        f"Target (issue 4): the endpoint within {RATIO_TARGET:g}× of an answer computed by hand, here the independent "
        "baseline, in every round (the floor computes nothing: it bounds from below what any answer costs, and is "
        "no target) — "
        + "; ".join(verdicts)
        + f". p99 under light load below {P99_TARGET_MS:g} ms — "
        + f"{'met' if light.at(0.99) < P99_TARGET_MS else 'MISSED'} at {light.at(0.99):.0f} ms."
    )
    text = "\n".join([context["line"], "", text_table(header, rows), "", light_line, "", verdict])
    markdown = "\n".join(
        [context["line"], "", markdown_table(header, rows, numeric_from=1), "", light_line, "", verdict]
    )
    return {"text": text, "markdown": markdown}


def write_readme(kind: str, block: str) -> None:
    begin, end = f"<!-- figures:caseload-{kind}:begin -->", f"<!-- figures:caseload-{kind}:end -->"
    text = README.read_text()
    if SECTION_TITLE not in text:
        text = text.rstrip("\n") + f"\n\n{SECTION_TITLE}\n"
    replacement = f"{begin}\n{block}\n{end}"
    if begin in text and end in text:
        before, rest = text.split(begin, 1)
        text = before + replacement + rest.split(end, 1)[1]
    else:
        heading = "SQLite" if kind == "sqlite" else "PostgreSQL"
        section_start = text.index(SECTION_TITLE)
        next_section = text.find("\n## ", section_start + len(SECTION_TITLE))
        insertion = f"\n### {heading}\n\n{replacement}\n"
        if next_section == -1:
            text = text.rstrip("\n") + "\n" + insertion
        else:
            text = text[:next_section].rstrip("\n") + "\n" + insertion + text[next_section:]
    README.write_text(text)
    say(f"-- updated the caseload {kind} figures in {README.relative_to(ROOT)}")


# ------------------------------------------------------------------------------------------- main


@dataclass
class Prepared:
    """A run's seeded database (the caseload's seed, also the triage benchmark's), its environment and files."""

    database: RunDatabase
    kind: str
    directory: Path
    environment: dict[str, str]
    setup_log: Path
    seeded: dict[str, Any]
    tokens_file: Path
    tokens: list[str]


def seed_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every benchmark on the caseload's seed takes."""
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--citizens", type=int, default=1000, help="citizens in each team (1000)")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--keep-database", action="store_true")


def prepare(
    name: str, database_class: type[RunDatabase], arguments: argparse.Namespace, shapes: list[str], started: datetime
) -> Prepared:
    """A fresh database under ``var/bench/<run>/``, migrated and seeded with a team per shape (dropped by the
    caller unless ``--keep-database``)."""
    base_url = arguments.database_url or "sqlite:///"
    kind = "sqlite" if base_url.startswith("sqlite:") else "postgresql"
    directory = ROOT / "var" / "bench" / f"{started:%Y%m%d-%H%M%S}-{name}-{kind}"
    directory.mkdir(parents=True, exist_ok=True)
    database = database_class(base_url, directory)
    environment = run_environment(database.url, directory) | {"ACCESS_TOKEN_TTL_SECONDS": str(24 * 3600)}
    setup_log = directory / "setup.log"
    say(f"== {name} benchmark, logs in {directory.relative_to(ROOT)}")
    database.create()
    prepared = Prepared(database, kind, directory, environment, setup_log, {}, directory / "staff_tokens.txt", [])
    run_step("migrate", [sys.executable, "manage.py", "migrate", "--noinput"], environment, setup_log, 600)
    command = [sys.executable, "-m", "bench.caseload.seed", "--out", str(directory)]
    command += ["--citizens", str(arguments.citizens), "--days", str(arguments.days), "--shapes", ",".join(shapes)]
    run_step(
        f"seed {len(shapes)} team(s) × {arguments.citizens} citizens × {arguments.days} days",
        command,
        environment,
        setup_log,
        900 * len(shapes),
    )
    database.analyze()
    prepared.seeded = json.loads((directory / "caseload.json").read_text())
    prepared.tokens = [line for line in prepared.tokens_file.read_text().splitlines() if line]
    return prepared


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.caseload", description=__doc__.splitlines()[0])
    seed_arguments(parser)
    parser.add_argument("--shapes", default=",".join(SHAPES), help=f"page shapes, of {', '.join(SHAPES)} (all)")
    parser.add_argument("--samples", type=int, default=200, help="sequential requests (and baselines) per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=4.0, help="light load: requests per second (4)")
    parser.add_argument("--load-seconds", type=float, default=30.0)
    parser.add_argument("--quiet-wait", type=float, default=30.0)
    parser.add_argument("--write-readme", action="store_true")
    parser.add_argument("--markdown", type=Path)
    arguments = parser.parse_args(argv)
    shapes = [shape for shape in arguments.shapes.split(",") if shape]
    if arguments.samples < 10 or arguments.rounds < 1:
        parser.error("--samples must be at least 10 and --rounds at least 1")
    if not shapes or set(shapes) - set(SHAPES):
        parser.error(f"--shapes takes names of {', '.join(SHAPES)}")

    started = datetime.now(UTC)
    run = Run()
    load_before = os.getloadavg()[0]
    prepared: Prepared | None = None
    try:
        prepared = prepare("caseload", CaseloadDatabase, arguments, shapes, started)
        database = prepared.database
        assert isinstance(database, CaseloadDatabase)  # noqa: S101 (prepare made it from the class given)
        teams = prepared.seeded["teams"]
        baseline = Baseline(database)
        try:
            for round_number in range(1, arguments.rounds + 1):
                say(f"== round {round_number} of {arguments.rounds}")
                log = prepared.directory / f"{SCENARIO.name}-{round_number}.log"
                with serving(SCENARIO, prepared.environment, log) as server:
                    first_team = teams[shapes[0]]
                    wait_ready(Endpoint(server.port, prepared.tokens[0], api_path(first_team)), server.process)
                    run.rounds.append(
                        measure_round(
                            database=database,
                            baseline=baseline,
                            port=server.port,
                            group=server.process.pid,
                            teams=teams,
                            tokens_file=prepared.tokens_file,
                            tokens=prepared.tokens,
                            arguments=arguments,
                        )
                    )
        finally:
            baseline.close()
        version = database.version()
    except Failed as failure:
        say(f"!! FAILED: {failure}")
        return 1
    finally:
        if prepared is not None and not arguments.keep_database:
            prepared.database.drop()

    seeded = prepared.seeded
    line = (
        f"Run {started:%Y-%m-%d %H:%M} UTC on {version}, commit {git_revision()}; {os.cpu_count()} CPUs "
        f"({cpu_model()}), Python {platform.python_version()}; {len(teams)} teams of {seeded['citizens']:,} "
        f"citizens ({', '.join(teams)}), {seeded['slots']:,} slots, {seeded['session_logs']:,} session logs, "
        f"{seeded['alerts']} alerts in all; page of {PAGE_SIZE}; {arguments.samples} alternating "
        f"samples per shape in each of {arguments.rounds} round(s); load average {load_before:.2f} before the run, "
        f"{os.getloadavg()[0]:.2f} after (other work on the machine)."
    )
    report = figures(arguments, run, {"line": line})
    say("")
    say(report["text"])
    if arguments.markdown:
        arguments.markdown.write_text(report["markdown"] + "\n")
    if arguments.write_readme:
        write_readme(prepared.kind, report["markdown"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
