"""Team caseload benchmark: GET /api/v1/teams/{team_id}/caseload over HTTP, served as production serves it,
against one hand-written SQL statement computing the same page, in one run (SQLite, or PostgreSQL when a URL is
given).

    .venv/bin/python -m bench.caseload [--database-url URL] [--citizens 1000] [--days 30] [--samples 200]
                                       [--rounds 3] [--rate 4] [--load-seconds 30] [--write-readme]

Reuses the main harness (``bench/__main__.py``) for the production environment, migration, servers and CPU
accounting. A fresh database (a new SQLite file under ``var/bench/<run>/``, or ``mestring_bench_caseload``
created on the PostgreSQL server and dropped at the end), migrated and seeded by ``bench/caseload/seed.py``
(1,000 citizens in one team, each with an active plan and 30 days of slots and session logs). Per round:

1. serve ``config.wsgi:application`` with ``deploy/systemd/mestring-web.service``'s gunicorn flags on a free
   loopback port, and warm it up;
2. **check**: the endpoint's first page (50 citizens, traffic light first) must equal what the hand-written
   statement (``bench/caseload/hand_sql.py``) gives at the instant the endpoint reports (``computed_at``):
   the same citizens in the same order with the same figures and lights;
3. **sequential**: ``--samples`` times, one request over a keep-alive connection, then the statement once on
   the harness's own open connection, alternating, so that both see the same machine;
4. **light load**: ``--rate`` requests a second on a fixed schedule over two keep-alive connections for
   ``--load-seconds`` from a separate process (``bench/caseload/loadgen.py``), latency from the scheduled start.

Every answer must be 200 and write one access-log row per citizen on the page.
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
    RunDatabase,
    Scenario,
    cpu_model,
    cpu_sample,
    git_revision,
    group_cpu,
    markdown_table,
    other_work,
    run_environment,
    run_step,
    say,
    serving,
    text_table,
    wait_for_quiet,
    wait_until_idle,
)
from bench.caseload import hand_sql

BENCH_DATABASE = "mestring_bench_caseload"
PAGE_SIZE = 50
SORT = "status"
RATIO_TARGET = 3.0
P99_TARGET_MS = 300.0
TICKS = os.sysconf("SC_CLK_TCK")
SCENARIO = Scenario(
    "caseload-wsgi",
    f"gunicorn gthread {WORKERS}x{THREADS}, config.wsgi",
    lambda port, log: _gunicorn(port, log),
)
SECTION_TITLE = "## Team caseload versus one hand-written SQL statement (issue 4)"


def _gunicorn(port: int, log: Path) -> list[str]:
    from bench.__main__ import gunicorn_command

    return gunicorn_command("config.wsgi:application", port, log)


class CaseloadDatabase(RunDatabase):
    """The harness's run database under this benchmark's own name on PostgreSQL, so both can run at once."""

    name = BENCH_DATABASE


class Failed(Exception):
    pass


# ------------------------------------------------------------------------------------- the statement


class HandQuery:
    """The hand-written statement on one open connection of the harness's own."""

    def __init__(self, database: CaseloadDatabase, team_id: str, rules: dict[str, int]) -> None:
        self.database, self.team_id, self.rules = database, team_id, rules
        self.zone = ZoneInfo("Europe/Copenhagen")
        if database.is_sqlite:
            self.connection: Any = sqlite3.connect(database.path, timeout=30)
            self.statement = hand_sql.sqlite_statement()
        else:
            import psycopg

            self.connection = psycopg.connect(database.url, autocommit=True)
            self.statement = hand_sql.CASELOAD_SQL

    def run(self, now: datetime) -> tuple[list[tuple[Any, ...]], float]:
        parameters = hand_sql.parameters(
            rules=self.rules,
            team_id=self.team_id,
            now=now,
            today=now.astimezone(self.zone).date(),
            limit=PAGE_SIZE,
            sqlite=self.database.is_sqlite,
        )
        started = time.perf_counter()
        rows = self.connection.execute(self.statement, parameters).fetchall()
        return rows, (time.perf_counter() - started) * 1000

    def close(self) -> None:
        self.connection.close()


# ------------------------------------------------------------------------------------------ HTTP


class Endpoint:
    def __init__(self, port: int, token: str, path: str) -> None:
        self.port, self.token, self.path = port, token, path
        self.connection = http.client.HTTPConnection(HOST, port, timeout=30)

    def reconnect(self) -> None:
        self.connection.close()
        self.connection = http.client.HTTPConnection(HOST, self.port, timeout=30)

    def get(self) -> tuple[int, bytes, float]:
        """One request; a keep-alive connection the server closed while idle is opened again (untimed)."""
        try:
            return self._get()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            self.reconnect()
            return self._get()

    def _get(self) -> tuple[int, bytes, float]:
        started = time.perf_counter()
        self.connection.request("GET", self.path, headers={"Authorization": f"Bearer {self.token}"})
        response = self.connection.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.will_close:
            self.reconnect()
        return response.status, body, elapsed

    def close(self) -> None:
        self.connection.close()


def wait_ready(endpoint: Endpoint, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    problem = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise Failed(f"the server exited with {process.returncode}")
        try:
            status, body, _ = endpoint.get()
        except OSError as error:
            problem = type(error).__name__
            endpoint.connection.close()
            endpoint.connection = http.client.HTTPConnection(HOST, endpoint.port, timeout=30)
        else:
            if status == 200:
                return
            problem = f"HTTP {status}: {body[:200]!r}"
        time.sleep(0.3)
    raise Failed(f"the server was not ready in 60 s: {problem}")


def same_page(answer: dict[str, Any], rows: list[tuple[Any, ...]], *, sqlite: bool) -> list[str]:
    """Where the endpoint's page and the statement's differ (nothing when they agree)."""
    from uuid import UUID

    problems = []
    lights = ("red", "yellow", "green")
    if len(answer["items"]) != len(rows):
        problems.append(f"{len(answer['items'])} items against {len(rows)} rows")
    for position, (item, row) in enumerate(zip(answer["items"], rows, strict=False)):
        (
            citizen_id,
            _given,
            _family,
            light,
            adherence,
            due,
            filled,
            trend,
            recent_sum,
            recent_count,
            previous_sum,
            previous_count,
            last_activity,
            open_alerts,
        ) = row
        expected = {
            "citizen_id": str(UUID(str(citizen_id))),
            "status": lights[int(light)],
            "adherence": None if adherence is None else round(float(adherence), 6),
            "slots_due": int(due),
            "slots_filled": int(filled),
            "pain_trend": trend,
            "pain_mean_recent": round(int(recent_sum) / int(recent_count), 2) if recent_count else None,
            "pain_mean_previous": round(int(previous_sum) / int(previous_count), 2) if previous_count else None,
            "open_alerts": int(open_alerts),
            "last_activity_at": _instant(last_activity, sqlite=sqlite),
        }
        got = {name: item[name] for name in expected}
        got["adherence"] = None if got["adherence"] is None else round(got["adherence"], 6)
        got["last_activity_at"] = _instant(got["last_activity_at"], sqlite=False)
        if got != expected:
            problems.append(f"item {position}: endpoint {got} against statement {expected}")
            break
    return problems


def _instant(value: Any, *, sqlite: bool) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if sqlite and parsed.tzinfo is None else parsed.astimezone(UTC)


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
class Round:
    hand: Series
    sequential: Series
    light: Series
    ratio: float = 0.0
    ratio_p99: float = 0.0


@dataclass
class Run:
    rounds: list[Round] = field(default_factory=list)

    def best(self, name: str) -> Series:
        return min((getattr(one, name) for one in self.rounds), key=lambda series: series.median)


def access_log_rows(database: CaseloadDatabase) -> int:
    return database.access_log_rows()


def measure_round(
    *,
    database: CaseloadDatabase,
    hand: HandQuery,
    port: int,
    group: int,
    path: str,
    tokens_file: Path,
    tokens: list[str],
    arguments: argparse.Namespace,
) -> Round:
    endpoint = Endpoint(port, tokens[0], path)
    try:
        for _ in range(20):
            endpoint.get()
            hand.run(datetime.now(UTC))
        status, body, _ = endpoint.get()
        answer = json.loads(body)
        if status != 200:
            raise Failed(f"the endpoint answered {status}: {body[:300]!r}")
        rows, _ = hand.run(datetime.fromisoformat(answer["computed_at"].replace("Z", "+00:00")))
        problems = same_page(answer, rows, sqlite=database.is_sqlite)
        if problems:
            raise Failed("the endpoint and the hand-written statement disagree: " + "; ".join(problems))
        lights = [item["status"] for item in answer["items"]]
        say(
            f"   check: the same page of {len(rows)} ({lights.count('red')} red, {lights.count('yellow')} yellow, "
            f"{lights.count('green')} green on it)"
        )
        wait_until_idle(group)
        owner = database.owner_uid
        other_before = wait_for_quiet(group, owner, arguments.quiet_wait)
        first, server_first = cpu_sample(group, owner), group_cpu(group)
        rows_before = access_log_rows(database)
        endpoint.reconnect()
        endpoint_ms, hand_ms, statuses = [], [], []
        for _ in range(arguments.samples):
            status, _, elapsed = endpoint.get()
            statuses.append(status)
            endpoint_ms.append(elapsed)
            hand_ms.append(hand.run(datetime.now(UTC))[1])
        server_cpu = (group_cpu(group) - server_first) / TICKS
        other = max(other_before, other_work(first, cpu_sample(group, owner)))
        written = access_log_rows(database) - rows_before
    finally:
        endpoint.close()
    if set(statuses) != {200}:
        raise Failed(f"sequential answers were not all 200: {sorted(set(statuses))}")
    if written != PAGE_SIZE * arguments.samples:
        raise Failed(f"{written} access-log rows for {arguments.samples} pages of {PAGE_SIZE}")
    sequential = Series(endpoint_ms, server_cpu_ms=server_cpu * 1000 / arguments.samples, other_cpu=other)
    hand_series = Series(hand_ms, other_cpu=other)
    light = measure_light_load(
        port=port, path=path, tokens_file=tokens_file, group=group, database=database, arguments=arguments
    )
    result = Round(hand=hand_series, sequential=sequential, light=light)
    result.ratio = sequential.median / hand_series.median
    result.ratio_p99 = sequential.at(0.99) / hand_series.at(0.99)
    say(
        f"   statement: median {hand_series.median:.1f} ms, p99 {hand_series.at(0.99):.1f} ms; endpoint sequential: "
        f"median {sequential.median:.1f} ms, p99 {sequential.at(0.99):.1f} ms, server CPU "
        f"{sequential.server_cpu_ms:.1f} ms/request; ratio {result.ratio:.2f} (p99 {result.ratio_p99:.2f}); "
        f"light load {light.rate:g}/s: p50 {light.at(0.5):.1f} ms, p99 {light.at(0.99):.1f} ms; other work "
        f"{max(other, light.other_cpu):.0%}"
    )
    return result


def measure_light_load(
    *,
    port: int,
    path: str,
    tokens_file: Path,
    group: int,
    database: CaseloadDatabase,
    arguments: argparse.Namespace,
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
    if written != PAGE_SIZE * result["requests"]:
        raise Failed(f"light load: {written} access-log rows for {result['requests']} pages of {PAGE_SIZE}")
    return Series(
        result["latencies_ms"],
        server_cpu_ms=server_cpu * 1000 / max(1, result["requests"]),
        other_cpu=other,
        rate=arguments.rate,
    )


# ------------------------------------------------------------------------------------------ report


def figures(arguments: argparse.Namespace, run: Run, context: dict[str, Any]) -> dict[str, str]:
    hand, sequential = run.best("hand"), run.best("sequential")
    light = min((one.light for one in run.rounds), key=lambda series: series.at(0.99))
    header = ["measurement", "p50 ms", "p90 ms", "p99 ms", "server CPU ms/req", "other CPU"]
    rows = [
        [
            f"hand-written SQL, one statement, page of {PAGE_SIZE} (harness's open connection)",
            f"{hand.median:.1f}",
            f"{hand.at(0.9):.1f}",
            f"{hand.at(0.99):.1f}",
            "-",
            f"{hand.other_cpu:.0%}",
        ],
        [
            f"endpoint over HTTP, sequential ({arguments.samples} requests, keep-alive)",
            f"{sequential.median:.1f}",
            f"{sequential.at(0.9):.1f}",
            f"{sequential.at(0.99):.1f}",
            f"{sequential.server_cpu_ms:.1f}",
            f"{sequential.other_cpu:.0%}",
        ],
        [
            f"endpoint under light load ({arguments.rate:g} req/s paced, 2 connections, {arguments.load_seconds:g} s)",
            f"{light.median:.1f}",
            f"{light.at(0.9):.1f}",
            f"{light.at(0.99):.1f}",
            f"{light.server_cpu_ms:.1f}",
            f"{light.other_cpu:.0%}",
        ],
    ]
    best_ratio = min(one.ratio for one in run.rounds)
    ratios = [
        ["endpoint / hand-written SQL, median latency (best round)", f"{best_ratio:.2f}"],
        [
            "endpoint / hand-written SQL, median latency, each round",
            ", ".join(f"{one.ratio:.2f}" for one in run.rounds),
        ],
        [
            "endpoint / hand-written SQL, p99 latency, each round",
            ", ".join(f"{one.ratio_p99:.2f}" for one in run.rounds),
        ],
    ]
    per_round = [
        ["endpoint p99 under light load, ms, each round", ", ".join(f"{one.light.at(0.99):.0f}" for one in run.rounds)],
        [
            "other work on the CPUs during the light load, each round",
            ", ".join(f"{one.light.other_cpu:.0%}" for one in run.rounds),
        ],
    ]
    verdict = (
        f"Targets (issue 4): within {RATIO_TARGET:g}× of the hand-written statement — "
        f"{'met' if best_ratio <= RATIO_TARGET else 'MISSED'} at {best_ratio:.2f}×; p99 under light load below "
        f"{P99_TARGET_MS:g} ms — {'met' if light.at(0.99) < P99_TARGET_MS else 'MISSED'} at "
        f"{light.at(0.99):.0f} ms."
    )
    text = "\n".join(
        [
            context["line"],
            "",
            text_table(header, rows),
            "",
            text_table(["ratio", "×"], ratios),
            "",
            text_table(["per round", ""], per_round),
            "",
            verdict,
        ]
    )
    markdown = "\n".join(
        [
            context["line"],
            "",
            markdown_table(header, rows, numeric_from=1),
            "",
            markdown_table(["ratio", "×"], ratios, 1),
            "",
            markdown_table(["per round", ""], per_round, 1),
            "",
            verdict,
        ]
    )
    return {"text": text, "markdown": markdown}


README_METHOD = """```sh
.venv/bin/python -m bench.caseload --rounds 3 --write-readme                       # SQLite
bash .ci/services start && eval "$(bash .ci/services env)" && \\
    .venv/bin/python -m bench.caseload --rounds 3 --write-readme                   # PostgreSQL (DATABASE_URL)
```

**Method** (`bench/caseload/`, reusing the main harness's production environment, migration, gunicorn flags,
server start/stop and CPU accounting). A fresh database (a new SQLite file, or `mestring_bench_caseload` on the
PostgreSQL server, `VACUUM ANALYZE`d after seeding as autovacuum would; SQLite gets no statistics, as the embedded
mode has none), seeded with `bulk_create` by `bench/caseload/seed.py`: one team with 1,000 citizens, each with an
active care relation, a running episode and an active plan with a slot every day for the last 30 days and the next
7 (about 40,000 slots, 26,000 session logs with pain and effort, some ad hoc; citizens train 95/85/65/35 % of their
slots, one in seven with pain rising in the last week, 79 unresolved pain alerts), plus a second team the caseload
must leave out. `config.wsgi:application` under gunicorn with mestring-web.service's flags (gthread 2 × 8) on a
free 127.0.0.1 port. Compared: `GET /api/v1/teams/{id}/caseload?limit=50` (first page, traffic light first: token
lookup, memberships, the caseload statement of `selvbetjening/selectors/caseload.py`, 50 access-log rows inserted,
JSON; 4 queries) against **one hand-written SQL statement** written separately for the comparison
(`bench/caseload/hand_sql.py`: CTEs with one grouped pass over the members' slots, logs and alerts, the light and
the page in SQL) on the harness's own open connection, timed to the last row fetched. Before timing, the endpoint's
page must equal the statement's at the endpoint's `computed_at` (same
citizens, order, figures and lights). Then alternately one request and one statement execution, `--samples` times;
then a paced light load (`bench/caseload/loadgen.py`: a fixed rate over 2 keep-alive connections from a separate
process, latency from the scheduled start). Every answer must be 200 and write its 50 access-log rows. On SQLite
Django opens a new connection per request (`CONN_MAX_AGE` is 0 there); the statement's connection stays open."""


def write_readme(kind: str, block: str) -> None:
    begin, end = f"<!-- figures:caseload-{kind}:begin -->", f"<!-- figures:caseload-{kind}:end -->"
    text = README.read_text()
    if SECTION_TITLE not in text:
        text = text.rstrip("\n") + f"\n\n{SECTION_TITLE}\n\n{README_METHOD}\n"
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.caseload", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--citizens", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--samples", type=int, default=200, help="sequential requests (and statements) per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=4.0, help="light load: requests per second (4)")
    parser.add_argument("--load-seconds", type=float, default=30.0)
    parser.add_argument("--quiet-wait", type=float, default=30.0)
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--write-readme", action="store_true")
    parser.add_argument("--markdown", type=Path)
    arguments = parser.parse_args(argv)
    if arguments.samples < 10 or arguments.rounds < 1:
        parser.error("--samples must be at least 10 and --rounds at least 1")

    started = datetime.now(UTC)
    base_url = arguments.database_url or "sqlite:///"
    database_kind = "sqlite" if base_url.startswith("sqlite:") else "postgresql"
    run_id = f"{started:%Y%m%d-%H%M%S}-caseload-{database_kind}"
    run_directory = ROOT / "var" / "bench" / run_id
    run_directory.mkdir(parents=True, exist_ok=True)
    database = CaseloadDatabase(base_url, run_directory)
    environment = run_environment(database.url, run_directory) | {"ACCESS_TOKEN_TTL_SECONDS": str(24 * 3600)}
    setup_log = run_directory / "setup.log"
    say(f"== caseload benchmark {run_id}, logs in {run_directory.relative_to(ROOT)}")
    database.create()
    run = Run()
    load_before = os.getloadavg()[0]
    try:
        run_step("migrate", [sys.executable, "manage.py", "migrate", "--noinput"], environment, setup_log, 600)
        run_step(
            f"seed {arguments.citizens} citizens × {arguments.days} days",
            [
                sys.executable,
                "-m",
                "bench.caseload.seed",
                "--out",
                str(run_directory),
                "--citizens",
                str(arguments.citizens),
                "--days",
                str(arguments.days),
            ],
            environment,
            setup_log,
            900,
        )
        database.analyze()
        seeded = json.loads((run_directory / "caseload.json").read_text())
        tokens_file = run_directory / "staff_tokens.txt"
        tokens = [line for line in tokens_file.read_text().splitlines() if line]
        path = f"/api/v1/teams/{seeded['team_id']}/caseload?" + urlencode({"limit": PAGE_SIZE, "sort": SORT})
        hand = HandQuery(database, seeded["team_id"], seeded["rules"])
        try:
            for round_number in range(1, arguments.rounds + 1):
                say(f"== round {round_number} of {arguments.rounds}")
                log = run_directory / f"{SCENARIO.name}-{round_number}.log"
                with serving(SCENARIO, environment, log) as server:
                    wait_ready(Endpoint(server.port, tokens[0], path), server.process)
                    run.rounds.append(
                        measure_round(
                            database=database,
                            hand=hand,
                            port=server.port,
                            group=server.process.pid,
                            path=path,
                            tokens_file=tokens_file,
                            tokens=tokens,
                            arguments=arguments,
                        )
                    )
        finally:
            hand.close()
        version = database.version()
    except Failed as failure:
        say(f"!! FAILED: {failure}")
        return 1
    finally:
        if not arguments.keep_database:
            database.drop()

    line = (
        f"Run {started:%Y-%m-%d %H:%M} UTC on {version}, commit {git_revision()}; {os.cpu_count()} CPUs "
        f"({cpu_model()}), Python {platform.python_version()}; {seeded['citizens']:,} citizens in the team, "
        f"{seeded['slots']:,} slots, {seeded['session_logs']:,} session logs, {seeded['alerts']} alerts; "
        f"page of {PAGE_SIZE} sorted by {SORT}; best of {arguments.rounds} round(s); load average before the run "
        f"{load_before:.2f}."
    )
    report = figures(arguments, run, {"line": line})
    say("")
    say(report["text"])
    if arguments.markdown:
        arguments.markdown.write_text(report["markdown"] + "\n")
    if arguments.write_readme:
        write_readme(database_kind, report["markdown"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
