"""Benchmark harness: seed a fresh database, serve it the production way, load it from wrk.

    .venv/bin/python -m bench [--duration 10] [--connections 32] [--database-url URL]
                              [--only NAME ...] [--rounds 1] [--write-readme]

Each scenario starts its server in its own process group on a free loopback port, is warmed up,
then loaded for ``--duration`` seconds from a second process (wrk, or the Python fallback in
``bench/loadgen.py``), and is stopped before the next one starts. Figures are reported as ratios
against the baseline measured in the same run: the headline ratio is the median of each round's own
ratio (``per_round_ratios``; every round measures every scenario one after the other), shown with the
lowest and highest round's; see bench/README.md.
"""

import argparse
import http.client
import importlib.util
import json
import os
import platform
import pwd
import re
import resource
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
README = BENCH_DIR / "README.md"
RESULTS_DIR = BENCH_DIR / "results"
LUA_SCRIPT = BENCH_DIR / "rotate_tokens.lua"
HOST = "127.0.0.1"
PATH = "/api/v1/me"
BENCH_DATABASE = "mestring_bench"
READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 15.0
IDLE_SAMPLE_SECONDS = 1.0
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
BUSY_WARNING = 0.15
WORKERS = 2
THREADS = 8

# Every variable the settings module reads: none of the caller's may leak into the servers.
SETTINGS_VARIABLES = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DATABASE_URL",
    "REDIS_URL",
    "CPR_ENCRYPTION_KEYS",
    "CPR_HASH_KEY",
    "OIDC_CITIZEN_ISSUER",
    "OIDC_CITIZEN_CLIENT_ID",
    "OIDC_CITIZEN_CLIENT_SECRET",
    "OIDC_CITIZEN_REQUIRED_ACR",
    "OIDC_STAFF_ISSUER",
    "OIDC_STAFF_CLIENT_ID",
    "OIDC_STAFF_CLIENT_SECRET",
    "APP_REDIRECT_URIS",
    "WEBSOCKET_ALLOWED_ORIGINS",
    "FCM_CREDENTIALS_FILE",
    "MEDIA_ROOT",
    "STATIC_ROOT",
    "ACCESS_LOG_RETENTION_DAYS",
    "PASSWORD_LOGIN_ENABLED",
    "SECURE_HSTS_SECONDS",
    "LOG_LEVEL",
    "SECURE_SSL_REDIRECT",
    "EMBEDDED_WORKER",
    "VAR_DIR",
    "DB_CONN_MAX_AGE",
    "DB_CONNECT_TIMEOUT",
    "ACCESS_TOKEN_TTL_SECONDS",
    "DJANGO_SETTINGS_MODULE",
    "PORT",
    "PUBLIC_BASE_URL",
}


def gunicorn_command(application: str, port: int, log: Path) -> list[str]:
    """The flags of deploy/systemd/mestring-web.service, on a loopback port; access log to a file."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        application,
        "--bind",
        f"{HOST}:{port}",
        "--worker-class",
        "gthread",
        "--workers",
        str(WORKERS),
        "--threads",
        str(THREADS),
        "--timeout",
        "60",
        "--graceful-timeout",
        "5",
        "--keep-alive",
        "5",
        "--max-requests",
        "5000",
        "--max-requests-jitter",
        "500",
        "--access-logfile",
        str(log.with_suffix(".access.log")),
        "--no-control-socket",
    ]


def uvicorn_command(application: str, port: int, log: Path) -> list[str]:
    """deploy/systemd/mestring-ws.service's uvicorn with as many workers as gunicorn, no access log."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        application,
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(WORKERS),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--lifespan",
        "off",
        "--no-server-header",
        "--no-access-log",
        "--timeout-graceful-shutdown",
        "5",
    ]


@dataclass(frozen=True)
class Scenario:
    name: str
    serving: str
    command: Callable[[int, Path], list[str]]
    environment: dict[str, str] = field(default_factory=dict)
    # Why the scenario cannot run against this database here, or None when it can.
    unavailable: Callable[["RunDatabase"], str | None] = lambda _database: None


SCENARIOS = [
    Scenario(
        "baseline-wsgi",
        f"gunicorn gthread {WORKERS}x{THREADS}, bench.baseline (plain WSGI)",
        lambda port, log: gunicorn_command("bench.baseline:application", port, log),
    ),
    Scenario(
        "mestring-wsgi",
        f"gunicorn gthread {WORKERS}x{THREADS}, config.wsgi (production HTTP API)",
        lambda port, log: gunicorn_command("config.wsgi:application", port, log),
    ),
    Scenario(
        "mestring-asgi",
        f"uvicorn {WORKERS} workers uvloop/httptools, config.asgi",
        lambda port, log: uvicorn_command("config.asgi:application", port, log),
        # Django's persistent connections are per request under ASGI and pile up to PostgreSQL's
        # max_connections (HTTP 503); Django's documentation says to disable them under ASGI.
        environment={"DB_CONN_MAX_AGE": "0"},
    ),
    Scenario(
        "mestring-asgi-pool",
        f"uvicorn {WORKERS} workers, config.asgi, psycopg pool (bench.pooled_settings)",
        lambda port, log: uvicorn_command("config.asgi:application", port, log),
        environment={"DJANGO_SETTINGS_MODULE": "bench.pooled_settings"},
        unavailable=lambda database: (
            "PostgreSQL only"
            if database.is_sqlite
            else None
            if importlib.util.find_spec("psycopg_pool")
            else "needs psycopg_pool (pip install psycopg-pool)"
        ),
    ),
]
SCENARIO_NAMES = [scenario.name for scenario in SCENARIOS]
RATIOS = [
    ("mestring-wsgi", "baseline-wsgi"),
    ("mestring-asgi", "mestring-wsgi"),
    ("mestring-asgi-pool", "mestring-wsgi"),
]


def say(message: str) -> None:
    print(message, flush=True)


def loud(message: str) -> None:
    bar = "!" * 78
    print(f"\n{bar}\n!! {message}\n{bar}\n", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------- database


class RunDatabase:
    """The run's own database: a new SQLite file, or the database ``name`` on the given PostgreSQL.

    Each benchmark names its own database, so that several can run on one server at once.
    """

    name = BENCH_DATABASE
    # Why the benchmark cannot run on SQLite, or None when it can.
    postgresql_only: str | None = None
    is_sqlite: bool

    def __init__(self, base_url: str, run_directory: Path) -> None:
        self.base_url = base_url
        self.is_sqlite = base_url.startswith("sqlite:")
        self.owner_uid: int | None = None
        if self.is_sqlite:
            if self.postgresql_only:
                raise SystemExit(self.postgresql_only)
            self.path = run_directory / "mestring.sqlite3"
            self.url = f"sqlite:///{self.path}"
            self.kind = "sqlite"
        else:
            parts = urlsplit(base_url)
            self.url = urlunsplit(parts._replace(path=f"/{self.name}"))
            # Administer from the database the URL names, unless it names none or a benchmark database
            # (one cannot drop the database one is connected to).
            administrative = parts.path.lstrip("/")
            if administrative in {"", BENCH_DATABASE, self.name}:
                administrative = "postgres"
            self.administrative_url = urlunsplit(parts._replace(path=f"/{administrative}"))
            self.kind = "postgresql"
            try:
                self.owner_uid = pwd.getpwnam("postgres").pw_uid
            except KeyError:
                self.owner_uid = None
            if parts.hostname not in {"127.0.0.1", "localhost", "::1"}:
                raise SystemExit(f"the benchmark only runs against a loopback database, not {parts.hostname}")

    def _administer(self, *statements: str) -> None:
        import psycopg

        with psycopg.connect(self.administrative_url, autocommit=True, connect_timeout=5) as connection:
            for statement in statements:
                connection.execute(statement)

    def _remove_sqlite_files(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def create(self) -> None:
        if self.is_sqlite:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._remove_sqlite_files()
            return
        self._administer(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)", f"CREATE DATABASE {self.name}")

    def drop(self) -> None:
        if self.is_sqlite:
            self._remove_sqlite_files()
            return
        self._administer(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")

    def execute(self, statement: str) -> None:
        """Run one statement outside any transaction (PostgreSQL: autocommit; SQLite: committed at once)."""
        if self.is_sqlite:
            with closing(sqlite3.connect(self.path, timeout=30)) as sqlite_connection:
                sqlite_connection.execute(statement)
                sqlite_connection.commit()
            return
        import psycopg

        with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as connection:
            connection.execute(statement)

    def analyze(self) -> None:
        """PostgreSQL: the statistics and visibility map autovacuum keeps in steady state, which a bulk load
        has not had yet; without this, autovacuum works through the seeded tables during the first
        measurements. SQLite is left as the embedded mode leaves it (no statistics)."""
        if not self.is_sqlite:
            self.execute("VACUUM (ANALYZE)")

    def scalar(self, statement: str) -> Any:
        if self.is_sqlite:
            with closing(sqlite3.connect(self.path, timeout=30)) as sqlite_connection:
                return sqlite_connection.execute(statement).fetchone()[0]
        import psycopg

        with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as connection:
            row = connection.execute(statement).fetchone()
            return row[0] if row else None

    def access_log_rows(self) -> int:
        return int(self.scalar('SELECT COUNT(*) FROM "backend_accesslogentry"'))

    def version(self) -> str:
        if self.is_sqlite:
            return f"SQLite {sqlite3.sqlite_version} (WAL)"
        return "PostgreSQL " + str(self.scalar("SHOW server_version")).split()[0]


def run_environment(database_url: str, run_directory: Path) -> dict[str, str]:
    from cryptography.fernet import Fernet

    environment = {name: value for name, value in os.environ.items() if name not in SETTINGS_VARIABLES}
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": database_url,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(48)[:64],
            "CPR_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "CPR_HASH_KEY": secrets.token_urlsafe(32),
            "ALLOWED_HOSTS": HOST,
            "SECURE_SSL_REDIRECT": "0",
            "PASSWORD_LOGIN_ENABLED": "0",
            "EMBEDDED_WORKER": "0",
            "VAR_DIR": str(run_directory),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return environment


def run_step(description: str, command: list[str], environment: dict[str, str], log: Path, timeout: float) -> None:
    say(f"-- {description}")
    started = time.monotonic()
    with log.open("ab") as output:
        try:
            completed = subprocess.run(
                command,
                cwd=ROOT,
                env=environment,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            raise SystemExit(f"{description} did not finish within {timeout:.0f}s (log: {log})") from error
    if completed.returncode != 0:
        sys.stderr.write(tail(log))
        raise SystemExit(f"{description} failed with exit code {completed.returncode} (log: {log})")
    say(f"   done in {time.monotonic() - started:.1f}s")


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) + "\n"
    except OSError:
        return ""


# ------------------------------------------------------------------------------------ servers


PORTS_VARIABLE = "BENCH_PORTS"
_next_in_range: dict[tuple[int, int], int] = {}


def _port_range() -> tuple[int, int] | None:
    """``$BENCH_PORTS`` (``27520-27539``): the loopback ports the benchmarks' servers may take on a shared
    machine; unset, the kernel chooses."""
    text = os.environ.get(PORTS_VARIABLE, "").strip()
    if not text:
        return None
    first, _, last = text.partition("-")
    low, high = int(first), int(last or first)
    if not 0 < low <= high < 65536:
        raise SystemExit(f"{PORTS_VARIABLE}={text!r} is not a range of ports such as 27520-27539")
    return low, high


def _binds(port: int) -> int | None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return None
        return int(probe.getsockname()[1])


def free_ports(count: int, base: int | None = None) -> list[int]:
    """``count`` loopback ports, each checked free: from ``base`` on; else from ``$BENCH_PORTS``, going round
    the range from where the last call stopped (so two servers chosen before either has bound get different
    ports); else chosen by the kernel."""
    ports: list[int] = []
    span = _port_range()
    if base is not None:
        candidate = base
        while len(ports) < count:
            if candidate > 65535:
                raise SystemExit(f"no {count} free ports from {base}")
            if _binds(candidate) is not None:
                ports.append(candidate)
            candidate += 1
        return ports
    if span is None:
        while len(ports) < count:
            port = _binds(0)
            if port is not None and port not in ports:
                ports.append(port)
        return ports
    low, high = span
    size = high - low + 1
    start = _next_in_range.get(span, low)
    for step in range(size):
        candidate = low + (start - low + step) % size
        if _binds(candidate) is not None:
            ports.append(candidate)
            if len(ports) == count:
                _next_in_range[span] = low + (candidate - low + 1) % size
                return ports
    raise SystemExit(f"fewer than {count} free ports in {PORTS_VARIABLE}={low}-{high}")


def free_port() -> int:
    return free_ports(1)[0]


def get(port: int, token: str, timeout: float = 5.0) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", PATH, headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def process_group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ScenarioFailed(Exception):
    pass


class Server:
    """A server in its own process group, so that it and all its workers can be stopped together."""

    def __init__(self, scenario: Scenario, environment: dict[str, str], log: Path) -> None:
        self.scenario = scenario
        self.port = free_port()
        self.log = log
        self.output = log.open("ab")
        self.log_start = self.output.tell()
        self.process = subprocess.Popen(
            scenario.command(self.port, log),
            cwd=ROOT,
            env=environment | scenario.environment,
            stdout=self.output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def wait_ready(self, token: str) -> bytes:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        last_problem = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.stderr.write(tail(self.log))
                raise ScenarioFailed(f"the server exited with {self.process.returncode} (log: {self.log})")
            if b"Traceback" in self.new_log_output():
                # uvicorn's supervisor restarts a worker that dies on import; do not wait for it.
                sys.stderr.write(tail(self.log))
                raise ScenarioFailed(f"the server failed to start (log: {self.log})")
            try:
                status, body = get(self.port, token)
            except OSError as error:
                last_problem = type(error).__name__
            else:
                if status == 200:
                    return body
                last_problem = f"HTTP {status}: {body[:200]!r}"
            time.sleep(0.2)
        sys.stderr.write(tail(self.log))
        raise ScenarioFailed(f"the server was not ready in {READY_TIMEOUT_SECONDS:.0f}s: {last_problem}")

    def new_log_output(self) -> bytes:
        with self.log.open("rb") as log:
            log.seek(self.log_start)
            return log.read()

    def stop(self) -> None:
        group = self.process.pid
        if process_group_alive(group):
            os.killpg(group, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while time.monotonic() < deadline and (self.process.poll() is None or process_group_alive(group)):
            time.sleep(0.1)
        if self.process.poll() is None or process_group_alive(group):
            say(f"   {self.scenario.name} did not stop in {STOP_TIMEOUT_SECONDS:.0f}s; killing its process group")
            with suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
            self.process.wait(timeout=5)
        self.output.close()


@contextmanager
def serving(scenario: Scenario, environment: dict[str, str], log: Path) -> Iterator[Server]:
    server = Server(scenario, environment, log)
    try:
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------------------- load


@dataclass
class LoadResult:
    requests: int
    duration_seconds: float
    non_2xx: int
    status_counts: dict[str, int]
    socket_errors: dict[str, int]
    latency_ms: dict[str, float]
    access_log_rows: int = 0
    other_cpu_before: float = 0.0
    other_cpu_during: float = 0.0
    server_cpu_seconds: float = 0.0

    @property
    def server_cpu_ms_per_request(self) -> float:
        """CPU the server's processes spent per answer: barely moved by other work on the machine."""
        return self.server_cpu_seconds * 1000 / self.ok if self.ok else 0.0

    @property
    def ok(self) -> int:
        return self.requests - self.non_2xx

    @property
    def requests_per_second(self) -> float:
        return self.ok / self.duration_seconds if self.duration_seconds else 0.0

    @property
    def errors(self) -> int:
        return self.non_2xx + sum(self.socket_errors.values())


def parse_result(output: str) -> LoadResult:
    for line in output.splitlines():
        if line.startswith("BENCH_RESULT "):
            raw = json.loads(line.removeprefix("BENCH_RESULT "))
            status_counts: dict[str, int] = {}
            for counts in raw["status_counts"]:
                for status, count in counts.items():
                    status_counts[status] = status_counts.get(status, 0) + count
            return LoadResult(
                requests=raw["requests"],
                duration_seconds=raw["duration_us"] / 1_000_000,
                non_2xx=raw["non_2xx"],
                status_counts=status_counts,
                socket_errors=raw["socket_errors"],
                latency_ms={name: value / 1000 for name, value in raw["latency_us"].items()},
            )
    raise SystemExit(f"the load generator printed no result:\n{output[-2000:]}")


@dataclass(frozen=True)
class LoadGenerator:
    kind: str
    connections: int
    threads: int

    def describe(self) -> str:
        if self.kind == "wrk":
            return f"wrk ({self.threads} thread, {self.connections} connections, keep-alive)"
        return f"bench.loadgen (Python, {self.connections} keep-alive connections)"

    def run(self, port: int, tokens: Path, duration: float) -> LoadResult:
        if self.kind == "wrk":
            command = [
                "wrk",
                "-t",
                str(self.threads),
                "-c",
                str(self.connections),
                "-d",
                f"{max(1, round(duration))}s",
                "--timeout",
                "10s",
                "-s",
                str(LUA_SCRIPT),
                f"http://{HOST}:{port}",
                "--",
                str(tokens),
                PATH,
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
                PATH,
                "--tokens",
                str(tokens),
                "--connections",
                str(self.connections),
                "--duration",
                str(duration),
            ]
        completed = subprocess.run(
            command,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=duration + 60,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        if completed.returncode != 0:
            raise SystemExit(f"{command[0]} failed ({completed.returncode}):\n{completed.stderr[-2000:]}")
        return parse_result(completed.stdout)


def choose_load_generator(requested: str, connections: int, threads: int) -> LoadGenerator:
    has_wrk = shutil.which("wrk") is not None
    if requested == "wrk" and not has_wrk:
        raise SystemExit("wrk is not installed: apt-get install -y wrk (or use --load-generator python)")
    if requested == "python" or not has_wrk:
        if not has_wrk:
            loud(
                "wrk is not installed: apt-get install -y wrk\n"
                "!! Falling back to the Python load generator; its figures are lower than wrk's."
            )
        return LoadGenerator("python", connections, threads)
    return LoadGenerator("wrk", connections, threads)


# ------------------------------------------------------------------------------------ running


@dataclass
class ScenarioOutcome:
    scenario: Scenario
    rounds: list[LoadResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def best(self) -> LoadResult | None:
        """The round with the highest throughput: other work on the machine only ever slows a round down."""
        return max(self.rounds, key=lambda result: result.requests_per_second, default=None)

    @property
    def requests_per_second(self) -> float:
        return self.best.requests_per_second if self.best else 0.0

    def latency(self, name: str) -> float:
        return self.best.latency_ms[name] if self.best else 0.0

    @property
    def server_cpu_ms_per_request(self) -> float:
        """The least CPU per answer over the rounds (contention for caches and cores only adds to it)."""
        return min((result.server_cpu_ms_per_request for result in self.rounds), default=0.0)

    @property
    def spread(self) -> float:
        """Lowest round's throughput relative to the best's: 1.0 when the rounds agree."""
        if not self.rounds or not self.requests_per_second:
            return 1.0
        return min(result.requests_per_second for result in self.rounds) / self.requests_per_second

    @property
    def errors(self) -> int:
        return sum(result.errors for result in self.rounds)


@dataclass
class Run:
    """What every scenario of one run shares."""

    environment: dict[str, str]
    database: RunDatabase
    generator: LoadGenerator
    tokens: Path
    first_token: str
    directory: Path
    duration: float
    warmup: float
    quiet_wait: float
    reference: dict[str, Any] = field(default_factory=dict)


def measure(scenario: Scenario, outcome: ScenarioOutcome, run: Run) -> None:
    say(f"-- {scenario.name}: {scenario.serving}")
    try:
        result = load_scenario(scenario, run)
    except ScenarioFailed as failure:
        outcome.problems.append(str(failure))
        loud(f"{scenario.name}: {failure}")
        return
    outcome.rounds.append(result)
    if result.errors:
        outcome.problems.append(
            f"{result.errors} errors (non-2xx by status: {result.status_counts or '-'}, socket: {result.socket_errors})"
        )
    if result.access_log_rows < result.ok:
        outcome.problems.append(f"{result.ok} answers but only {result.access_log_rows} access-log rows written")
    say(
        f"   {result.requests_per_second:8.0f} req/s  p50 {result.latency_ms['p50']:.2f} ms  "
        f"p90 {result.latency_ms['p90']:.2f} ms  p99 {result.latency_ms['p99']:.2f} ms  "
        f"server CPU {result.server_cpu_ms_per_request:.2f} ms/request  errors {result.errors}  "
        f"access-log rows {result.access_log_rows}  "
        f"other work {result.other_cpu_before:.0%} of the CPUs before, {result.other_cpu_during:.0%} during"
    )
    if max(result.other_cpu_before, result.other_cpu_during) > BUSY_WARNING:
        loud(
            f"other processes used up to {max(result.other_cpu_before, result.other_cpu_during):.0%} of the "
            f"CPUs around {scenario.name}'s measurement: its figures are unreliable.\n"
            "!! Run again on a quiet machine, or with --rounds 3."
        )


def load_scenario(scenario: Scenario, run: Run) -> LoadResult:
    owner = run.database.owner_uid
    with serving(scenario, run.environment, run.directory / f"{scenario.name}.log") as server:
        body = json.loads(server.wait_ready(run.first_token))
        if "body" not in run.reference:
            run.reference["body"], run.reference["from"] = body, scenario.name
        elif body != run.reference["body"]:
            raise ScenarioFailed(
                f"GET {PATH} answers {body} where {run.reference['from']} answered {run.reference['body']}"
            )
        group = server.process.pid
        if run.warmup > 0:
            run.generator.run(server.port, run.tokens, run.warmup)
            wait_until_idle(group)
        rows_before = run.database.access_log_rows()
        other_before = wait_for_quiet(group, owner, run.quiet_wait)
        started, server_started = cpu_sample(group, owner), group_cpu(group)
        result = run.generator.run(server.port, run.tokens, run.duration)
        result.server_cpu_seconds = (group_cpu(group) - server_started) / TICKS_PER_SECOND
        result.other_cpu_during = other_work(started, cpu_sample(group, owner))
    result.access_log_rows = run.database.access_log_rows() - rows_before
    result.other_cpu_before = other_before
    return result


@dataclass(frozen=True)
class CpuSample:
    total: int
    idle: int
    benchmark: int


def process_cpu(matches: Callable[[list[str], int], bool]) -> int:
    """Jiffies used by matching processes and the children they reaped (utime, stime, cutime, cstime)."""
    used = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            owner = stat.stat().st_uid
        except (OSError, IndexError):
            continue
        if matches(fields, owner):
            used += sum(int(value) for value in fields[11:15])
    return used


def cpu_sample(group: int, database_owner: int | None) -> CpuSample:
    """All CPUs' jiffies, and those used by the benchmark: the server, the database server, wrk."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    benchmark = process_cpu(lambda fields, owner: int(fields[2]) == group or owner == database_owner)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    benchmark += round((children.ru_utime + children.ru_stime) * TICKS_PER_SECOND)
    return CpuSample(total=sum(values), idle=values[3] + values[4], benchmark=benchmark)


def other_work(first: CpuSample, second: CpuSample) -> float:
    """The share of all CPUs that something other than the benchmark used between two samples."""
    total = second.total - first.total
    if total <= 0:
        return 0.0
    busy = total - (second.idle - first.idle)
    return max(0.0, min(1.0, (busy - (second.benchmark - first.benchmark)) / total))


def group_cpu(group: int) -> int:
    return process_cpu(lambda fields, _owner: int(fields[2]) == group)


def wait_until_idle(group: int, timeout: float = 15.0) -> None:
    """Let a server finish the warm-up's queued requests before the measured load starts."""
    deadline = time.monotonic() + timeout
    previous = group_cpu(group)
    while time.monotonic() < deadline:
        time.sleep(0.25)
        current = group_cpu(group)
        if current - previous < 0.25 * 0.1 * TICKS_PER_SECOND:
            return
        previous = current


def wait_for_quiet(group: int, database_owner: int | None, limit: float) -> float:
    """Sample other work on the machine, waiting up to ``limit`` seconds for it to fall below the mark."""
    deadline = time.monotonic() + limit
    announced = False
    while True:
        first = cpu_sample(group, database_owner)
        time.sleep(IDLE_SAMPLE_SECONDS)
        other = other_work(first, cpu_sample(group, database_owner))
        if other <= BUSY_WARNING or time.monotonic() >= deadline:
            return other
        if not announced:
            say(f"   other work is using {other:.0%} of the CPUs; waiting up to {limit:.0f}s for it to stop")
            announced = True


def git_revision() -> str:
    try:
        revision = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{revision}{' (with uncommitted changes)' if dirty else ''}"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


# ------------------------------------------------------------------------------------ reports


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else float("nan")


@dataclass(frozen=True)
class RoundRatios:
    """A ratio taken within each round, from two measurements made one after the other in that round (so on
    the same machine at nearly the same moment), rather than from best figures of different rounds. The
    headline is the median of the rounds' ratios; the spread is the lowest and the highest."""

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    @property
    def low(self) -> float:
        return min(self.values, default=float("nan"))

    @property
    def high(self) -> float:
        return max(self.values, default=float("nan"))

    def spread(self) -> str:
        """``0.31–0.38 (0.33, 0.38, 0.31)``: lowest–highest, then each round in order."""
        rounds = ", ".join(f"{value:.2f}" for value in self.values)
        return f"{self.low:.2f}–{self.high:.2f} ({rounds})" if self.values else "-"


def per_round_ratios(numerators: Sequence[float], denominators: Sequence[float]) -> RoundRatios:
    """Round i's numerator over round i's denominator, for every round both were measured in."""
    if len(numerators) != len(denominators):
        raise ValueError("per-round ratios need one measurement of each side per round")
    return RoundRatios(tuple(ratio(top, bottom) for top, bottom in zip(numerators, denominators, strict=True)))


def summary_rows(outcomes: dict[str, ScenarioOutcome]) -> list[list[str]]:
    rows = []
    for name, outcome in outcomes.items():
        rows.append(
            [
                name,
                outcome.scenario.serving,
                f"{outcome.requests_per_second:.0f}",
                f"{outcome.latency('p50'):.2f}",
                f"{outcome.latency('p90'):.2f}",
                f"{outcome.latency('p99'):.2f}",
                f"{outcome.server_cpu_ms_per_request:.2f}",
                str(outcome.errors),
                f"{outcome.spread:.2f}",
                f"{max(outcome.best.other_cpu_before, outcome.best.other_cpu_during):.0%}" if outcome.best else "-",
            ]
        )
    return rows


def ratio_rows(outcomes: dict[str, ScenarioOutcome]) -> list[list[str]]:
    rows = []
    for numerator, denominator in RATIOS:
        if numerator in outcomes and denominator in outcomes:
            top, bottom = outcomes[numerator], outcomes[denominator]
            if len(top.rounds) != len(bottom.rounds):
                continue

            def rounds(
                figure: Callable[[LoadResult], float], top: ScenarioOutcome = top, bottom: ScenarioOutcome = bottom
            ) -> RoundRatios:
                return per_round_ratios(
                    [figure(result) for result in top.rounds], [figure(result) for result in bottom.rounds]
                )

            throughput = rounds(lambda result: result.requests_per_second)
            rows.append(
                [
                    f"{numerator} / {denominator}",
                    f"{throughput.median:.2f}",
                    throughput.spread(),
                    f"{rounds(lambda result: result.server_cpu_ms_per_request).median:.2f}",
                    f"{rounds(lambda result: result.latency_ms['p50']).median:.2f}",
                    f"{rounds(lambda result: result.latency_ms['p99']).median:.2f}",
                ]
            )
    return rows


SUMMARY_HEADER = [
    "scenario",
    "serving",
    "req/s",
    "p50 ms",
    "p90 ms",
    "p99 ms",
    "server CPU ms/req",
    "errors",
    "worst/best round",
    "other CPU",
]
# Every column is the median of the rounds' own ratios (each round measures both sides, one after the other).
RATIO_HEADER = ["ratio", "req/s", "req/s per round", "server CPU per request", "p50 latency", "p99 latency"]


def text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def markdown_table(header: list[str], rows: list[list[str]], numeric_from: int) -> str:
    alignment = ["---" if column < numeric_from else "---:" for column in range(len(header))]
    return "\n".join("| " + " | ".join(row) + " |" for row in [header, alignment, *rows])


def readme_block(context: dict[str, Any], outcomes: dict[str, ScenarioOutcome]) -> str:
    errors = sum(outcome.errors for outcome in outcomes.values())
    problems = [f"{name}: {problem}" for name, outcome in outcomes.items() for problem in outcome.problems]
    lines = [
        f"Last run {context['date']} on {context['database']}, commit {context['revision']}; "
        f"{context['cpus']} CPUs ({context['cpu']}), Python {context['python']}; "
        f"{context['load_generator']}; {context['duration']:g} s per scenario after a {context['warmup']:g} s "
        f"warm-up, best of {context['rounds']} round(s), {context['citizens']} citizens' tokens in rotation; "
        f"other processes used at most {context['other_cpu']:.0%} of the CPUs around a reported round.",
        "",
        markdown_table(SUMMARY_HEADER, summary_rows(outcomes), numeric_from=2),
        "",
        markdown_table(RATIO_HEADER, ratio_rows(outcomes), numeric_from=1),
        "",
        "No errors: every answer was 2xx, and each wrote its access-log row."
        if not problems and not errors
        else "**THIS RUN HAD ERRORS**: " + "; ".join(problems),
    ]
    return "\n".join(lines)


def write_readme(kind: str, block: str) -> None:
    begin, end = f"<!-- figures:{kind}:begin -->", f"<!-- figures:{kind}:end -->"
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    replacement = f"{begin}\n{block}\n{end}"
    if pattern.search(text):
        text = pattern.sub(lambda _match: replacement, text)
    else:
        text = text.rstrip("\n") + f"\n\n### {kind}\n\n{replacement}\n"
    README.write_text(text)
    say(f"-- updated the {kind} figures in {README.relative_to(ROOT)}")


# --------------------------------------------------------------------------------------- main


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per scenario (10)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of unmeasured load first (3)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent keep-alive connections (32)")
    parser.add_argument("--load-threads", type=int, default=1, help="wrk threads (1: the server needs the CPUs)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="PostgreSQL server to create mestring_bench on (default: $DATABASE_URL, else a new SQLite file)",
    )
    parser.add_argument("--only", action="append", choices=SCENARIO_NAMES, help="run only this scenario (repeatable)")
    parser.add_argument(
        "--rounds", type=int, default=1, help="rounds over all scenarios; each figure is the best round's (1)"
    )
    parser.add_argument("--citizens", type=int, default=1000, help="citizens seeded, each with a login (1000)")
    parser.add_argument("--load-generator", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=60.0,
        help="seconds to wait before a measurement for other processes to leave the CPUs (60)",
    )
    parser.add_argument("--keep-database", action="store_true", help="leave the run's database in place")
    parser.add_argument("--write-readme", action="store_true", help="rewrite this database's figures in README")
    arguments = parser.parse_args(argv)
    if arguments.duration <= 0 or arguments.connections < 1 or arguments.rounds < 1:
        parser.error("--duration, --connections and --rounds must be positive")
    if arguments.load_threads < 1 or arguments.load_threads > arguments.connections:
        parser.error("--load-threads must be between 1 and --connections")
    return arguments


def terminate_on_signal(signal_number: int, _frame: Any) -> None:
    raise SystemExit(128 + signal_number)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    signal.signal(signal.SIGTERM, terminate_on_signal)
    signal.signal(signal.SIGHUP, terminate_on_signal)

    started = datetime.now(UTC)
    base_url = arguments.database_url or "sqlite:///"
    kind = "sqlite" if base_url.startswith("sqlite:") else "postgresql"
    run_id = f"{started:%Y%m%d-%H%M%S}-{kind}"
    run_directory = ROOT / "var" / "bench" / run_id
    run_directory.mkdir(parents=True, exist_ok=True)
    database = RunDatabase(base_url, run_directory)
    generator = choose_load_generator(arguments.load_generator, arguments.connections, arguments.load_threads)
    selected = []
    for scenario in SCENARIOS:
        if arguments.only and scenario.name not in arguments.only:
            continue
        reason = scenario.unavailable(database)
        if reason is None:
            selected.append(scenario)
        elif arguments.only:
            raise SystemExit(f"{scenario.name} cannot run here: {reason}")
        else:
            say(f"-- skipping {scenario.name}: {reason}")

    say(f"== Mestring benchmark {run_id}: {len(selected)} scenario(s), logs in {run_directory.relative_to(ROOT)}")
    environment = run_environment(database.url, run_directory)
    setup_log = run_directory / "setup.log"
    outcomes = {scenario.name: ScenarioOutcome(scenario) for scenario in selected}
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
            f"seed {arguments.citizens} citizens with logins",
            [sys.executable, "-m", "bench.seed", "--out", str(run_directory), "--citizens", str(arguments.citizens)],
            environment | {"ACCESS_TOKEN_TTL_SECONDS": str(24 * 3600)},
            setup_log,
            timeout=600,
        )
        tokens = run_directory / "citizen_tokens.txt"
        run = Run(
            environment=environment,
            database=database,
            generator=generator,
            tokens=tokens,
            first_token=tokens.read_text().split("\n", 1)[0].strip(),
            directory=run_directory,
            duration=arguments.duration,
            warmup=arguments.warmup,
            quiet_wait=arguments.quiet_wait,
        )
        for round_number in range(1, arguments.rounds + 1):
            if arguments.rounds > 1:
                say(f"== round {round_number} of {arguments.rounds}")
            for scenario in selected:
                measure(scenario, outcomes[scenario.name], run)
        database_version = database.version()
    finally:
        if not arguments.keep_database:
            database.drop()

    context = {
        "date": f"{started:%Y-%m-%d %H:%M} UTC",
        "database": database_version,
        "revision": git_revision(),
        "cpus": os.cpu_count(),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "load_generator": generator.describe(),
        "duration": arguments.duration,
        "warmup": arguments.warmup,
        "rounds": arguments.rounds,
        "citizens": arguments.citizens,
        "other_cpu": max(
            (
                max(outcome.best.other_cpu_before, outcome.best.other_cpu_during)
                for outcome in outcomes.values()
                if outcome.best
            ),
            default=0.0,
        ),
    }
    say("")
    say(f"== {context['database']}, {context['cpus']} CPUs, {context['load_generator']}, GET {PATH}")
    say(text_table(SUMMARY_HEADER, summary_rows(outcomes)))
    say("")
    ratios = ratio_rows(outcomes)
    if ratios:
        say(text_table(RATIO_HEADER, ratios))

    RESULTS_DIR.mkdir(exist_ok=True)
    result_file = RESULTS_DIR / f"{run_id}.json"
    result_file.write_text(
        json.dumps(
            {
                "context": context,
                "scenarios": {
                    name: {
                        "serving": outcome.scenario.serving,
                        "requests_per_second": outcome.requests_per_second,
                        "latency_ms": {name: outcome.latency(name) for name in ("p50", "p90", "p99")},
                        "server_cpu_ms_per_request": outcome.server_cpu_ms_per_request,
                        "errors": outcome.errors,
                        "problems": outcome.problems,
                        "rounds": [vars(result) for result in outcome.rounds],
                    }
                    for name, outcome in outcomes.items()
                },
                "ratios": {
                    row[0]: {
                        name: value if name == "req/s per round" else float(value)
                        for name, value in zip(RATIO_HEADER[1:], row[1:], strict=True)
                    }
                    for row in ratios
                },
            },
            indent=2,
        )
    )
    say(f"\nresults: {result_file.relative_to(ROOT)}")
    problems = [f"{name}: {problem}" for name, outcome in outcomes.items() for problem in outcome.problems]
    if arguments.write_readme and not problems:
        write_readme(kind, readme_block(context, outcomes))
    if problems:
        loud(
            "THIS RUN HAD ERRORS; its figures do not count"
            + (" and bench/README.md was left as it was" if arguments.write_readme else "")
            + ":\n!! "
            + "\n!! ".join(problems)
        )
        return 1
    say("no errors: every answer was 2xx and wrote its access-log row")
    return 0


if __name__ == "__main__":
    sys.exit(main())
