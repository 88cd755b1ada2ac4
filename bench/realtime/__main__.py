"""Realtime benchmark: Mestring's websocket stream against a raw ``websockets`` server, in one run.

    .venv/bin/python -m bench.realtime [--database-url URL] [--rounds 3] [--only fanout|push|memory]
                                       [--write-readme]

PostgreSQL only (``$DATABASE_URL`` or ``--database-url``, loopback): creates ``mestring_bench_realtime``,
migrates and seeds it (``bench/realtime/seed.py``), starts a Redis of its own on a free port (the
channel layer, as production: ``channels_redis.pubsub.RedisPubSubChannelLayer``), and measures:

- **fanout**: 1,000 clients connected to one server process, one team event (production's path:
  ``notify(team_ids=[team])`` in a publisher process, sent to the group ``team.<id>`` that every
  client's socket joined): time until every client has it, against the raw server's broadcast of a
  frame of the same size. Mestring's broadcasts alternate between an unchanged access version (the hub
  delivers on the sockets' held access checks) and the first event after an access change (a membership
  of the team changed, so the hub checks every socket again); both are reported, each as the rounds' own
  ratios to the raw server. Also **burst**: the first 200 of them connect at once: failed handshakes.
- **push**: 10,000 connections spread over two server processes; a publisher sends personal events
  (``user.<id>`` groups over Redis) at 500 a second: latency per message from send to arrival.
- **memory**: resident memory per idle connection of one server process, Mestring against a plain
  ASGI websocket app (``bench/realtime/plain_asgi.py``) under the same uvicorn, and across
  connect/disconnect churn.

Servers run with ``deploy/systemd/mestring-ws.service``'s uvicorn flags and environment
(``--ws websockets-sansio``, ``DB_CONN_MAX_AGE=60``, ``DB_CONN_HEALTH_CHECKS=0``) in the main harness's
production environment (``DEBUG=0``, fresh keys). The fan-out's ratios are per round (median and spread);
the other figures are the best of the rounds, with the spread over rounds. See bench/README.md.
"""

import argparse
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.__main__ import (
    HOST,
    RESULTS_DIR,
    ROOT,
    TICKS_PER_SECOND,
    RunDatabase,
    cpu_model,
    free_port,
    git_revision,
    loud,
    markdown_table,
    per_round_ratios,
    process_cpu,
    run_environment,
    run_step,
    say,
    tail,
    write_readme,
)

BENCH_DATABASE = "mestring_bench_realtime"
README_KIND = "realtime"
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
OTHER_CPU_LIMIT = 0.15
FANOUT_TARGET = 3.0
PUSH_P99_TARGET_MS = 50.0
MEMORY_TARGET = 1.3


def uvicorn_command(application: str, port: int) -> list[str]:
    """deploy/systemd/mestring-ws.service's uvicorn on a loopback port (one process, as deployed)."""
    return [
        sys.executable, "-m", "uvicorn", application,
        "--host", HOST, "--port", str(port),
        "--ws", "websockets-sansio", "--ws-ping-interval", "20", "--ws-ping-timeout", "20", "--ws-max-size", "65536",
        "--lifespan", "off", "--no-server-header", "--timeout-graceful-shutdown", "10",
    ]  # fmt: skip


@dataclass(frozen=True)
class Server:
    name: str
    serving: str
    command: Callable[[int], list[str]]
    environment: dict[str, str] = field(default_factory=dict)
    is_mestring: bool = False


RAW = Server("raw", "bench.realtime.raw_server (websockets, uvloop)", lambda port: [
    sys.executable, "-m", "bench.realtime.raw_server", "--port", str(port)])  # fmt: skip
PLAIN = Server("plain-asgi", "uvicorn, bench.realtime.plain_asgi (no Django, no Channels)",
               lambda port: uvicorn_command("bench.realtime.plain_asgi:application", port))  # fmt: skip
MESTRING = Server("mestring", "uvicorn, config.asgi (Redis pub/sub layer), as deploy/systemd/mestring-ws.service",
                  lambda port: uvicorn_command("config.asgi:application", port),
                  {"DB_CONN_MAX_AGE": "60", "DB_CONN_HEALTH_CHECKS": "0"}, is_mestring=True)  # fmt: skip
MEASUREMENTS = ["fanout", "push", "memory"]


# ------------------------------------------------------------------------------------ processes


class Group:
    """Every process the run starts, by process group, so that its CPU is told apart from others'."""

    ids: set[int] = {os.getpgrp()}


def spawn(command: list[str], environment: dict[str, str], log: Path, **options: Any) -> subprocess.Popen[Any]:
    output = log.open("ab")
    process = subprocess.Popen(
        command, cwd=ROOT, env=environment, stderr=output, start_new_session=True,
        stdout=options.pop("stdout", output), stdin=options.pop("stdin", subprocess.DEVNULL), **options,
    )  # fmt: skip
    Group.ids.add(process.pid)
    return process


def stop(process: subprocess.Popen[Any], name: str) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        say(f"   {name} did not stop in {STOP_TIMEOUT:.0f}s; killing its process group")
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def port_accepts(port: int) -> bool:
    import socket

    with suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
        return True
    return False


class RunningServer:
    def __init__(self, server: Server, environment: dict[str, str], log: Path) -> None:
        self.server = server
        self.port = free_port()
        self.log = log
        self.process = spawn(server.command(self.port), environment | server.environment, log)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while not port_accepts(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                sys.stderr.write(tail(self.log))
                raise SystemExit(f"{self.server.name} did not start (log: {self.log})")
            time.sleep(0.1)

    def rss(self) -> int:
        return rss_bytes(self.process.pid)

    def stop(self) -> None:
        stop(self.process, self.server.name)


@contextmanager
def servers(server: Server, count: int, environment: dict[str, str], directory: Path) -> Iterator[list[RunningServer]]:
    running = [RunningServer(server, environment, directory / f"{server.name}-{index}.log") for index in range(count)]
    try:
        for each in running:
            each.wait_ready()
        yield running
    finally:
        for each in running:
            each.stop()


class ClientProcess:
    """bench/realtime/clients.py in a process of its own, one JSON command and answer a line."""

    def __init__(self, environment: dict[str, str], log: Path) -> None:
        self.process = spawn(
            [sys.executable, "-m", "bench.realtime.clients"], environment, log,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
        )  # fmt: skip
        self.log = log

    def send(self, command: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def answer(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            sys.stderr.write(tail(self.log))
            raise SystemExit(f"the client process died (log: {self.log})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def command(self, command: dict[str, Any]) -> dict[str, Any]:
        self.send(command)
        return self.answer()

    def quit(self) -> None:
        with suppress(OSError):
            self.send({"op": "quit"})
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            stop(self.process, "clients")


def everyone(clients: list[ClientProcess], commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same kind of command to every client process at once, answers in order."""
    for client, command in zip(clients, commands, strict=True):
        client.send(command)
    return [client.answer() for client in clients]


@contextmanager
def client_processes(count: int, environment: dict[str, str], directory: Path) -> Iterator[list[ClientProcess]]:
    started = [ClientProcess(environment, directory / f"clients-{index}.log") for index in range(count)]
    try:
        yield started
    finally:
        for client in started:
            client.quit()


class Redis:
    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.log = directory / "redis.log"
        self.process = spawn(
            ["redis-server", "--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly", "no",
             "--maxclients", "20000"], dict(os.environ), self.log,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while not port_accepts(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"redis-server did not start (log: {self.log})")
            time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def used_memory(self) -> int:
        output = subprocess.run(
            ["redis-cli", "-p", str(self.port), "info", "memory"], capture_output=True, text=True, check=True
        ).stdout
        for line in output.splitlines():
            if line.startswith("used_memory:"):
                return int(line.split(":")[1])
        return 0

    def stop(self) -> None:
        stop(self.process, "redis")


# ------------------------------------------------------------------------------------------ CPU


@dataclass(frozen=True)
class CpuSample:
    total: int
    idle: int
    ours: int


def cpu_sample(database_owner: int | None) -> CpuSample:
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    ours = process_cpu(lambda fields, owner: int(fields[2]) in Group.ids or owner == database_owner)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    ours += round((children.ru_utime + children.ru_stime) * TICKS_PER_SECOND)
    return CpuSample(total=sum(values), idle=values[3] + values[4], ours=ours)


def other_share(first: CpuSample, second: CpuSample) -> float:
    total = second.total - first.total
    if total <= 0:
        return 0.0
    busy = total - (second.idle - first.idle)
    return max(0.0, min(1.0, (busy - (second.ours - first.ours)) / total))


def wait_for_quiet(database_owner: int | None, limit: float) -> float:
    deadline = time.monotonic() + limit
    while True:
        first = cpu_sample(database_owner)
        time.sleep(1.0)
        other = other_share(first, cpu_sample(database_owner))
        if other <= OTHER_CPU_LIMIT or time.monotonic() >= deadline:
            return other


# ------------------------------------------------------------------------------------ figures


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


@dataclass
class Run:
    arguments: argparse.Namespace
    directory: Path
    environment: dict[str, str]
    database_owner: int | None
    team_id: str
    staff: list[tuple[str, str]]
    citizens: list[tuple[str, str]]
    redis: Redis
    results: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def note(self, key: str, result: dict[str, Any]) -> None:
        self.results.setdefault(key, []).append(result)


def read_logins(path: Path) -> list[tuple[str, str]]:
    return [(line.split()[0], line.split()[1]) for line in path.read_text().splitlines() if line.strip()]


# --------------------------------------------------------------------------------- measurements


def start_profiler(run: Run, running: RunningServer, name: str) -> subprocess.Popen[Any] | None:
    """py-spy (``--py-spy PATH``) sampling a server while it is measured: collapsed stacks for a flame graph."""
    if not run.arguments.py_spy:
        return None
    output = run.directory / f"profile-{name}.txt"
    profiler = spawn(
        [run.arguments.py_spy, "record", "--pid", str(running.process.pid), "--rate", "250", "--format", "raw",
         "--output", str(output), "--nonblocking"],
        dict(os.environ), run.directory / "py-spy.log",
    )  # fmt: skip
    time.sleep(1.0)
    return profiler


def stop_profiler(profiler: subprocess.Popen[Any] | None) -> None:
    if profiler is None:
        return
    profiler.send_signal(signal.SIGINT)
    try:
        profiler.wait(timeout=30)
    except subprocess.TimeoutExpired:
        stop(profiler, "py-spy")


def measure_fanout(run: Run, server: Server, round_number: int) -> None:
    arguments = run.arguments
    audience = run.staff[: arguments.fanout_clients]
    query = f"team_id={run.team_id}" if server.is_mestring else ""
    say(f"-- fanout/{server.name}, round {round_number}: {len(audience)} clients, {arguments.broadcasts} broadcasts")
    with (
        servers(server, 1, run.environment, run.directory) as [running],
        client_processes(1, run.environment, run.directory) as [clients],
    ):
        targets = [[running.port, token, query] for _user, token in audience]
        other_before = wait_for_quiet(run.database_owner, arguments.quiet_wait)
        burst = clients.command(
            {"op": "connect", "targets": targets[: arguments.burst], "concurrency": arguments.burst}
        )
        rest = clients.command(
            {"op": "connect", "targets": targets[arguments.burst :], "concurrency": arguments.connect_concurrency}
        )
        connected = burst["connected"] + rest["connected"]
        mode = "mestring-team" if server.is_mestring else "raw-team"
        clients.command({"op": "record"})
        publisher = spawn(
            [sys.executable, "-m", "bench.realtime.publisher", mode,
             "--team", run.team_id, "--ports", str(running.port)],
            run.environment, run.directory / f"publisher-{server.name}.log",
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
        )  # fmt: skip
        assert publisher.stdin is not None and publisher.stdout is not None
        ready = publisher.stdout.readline()
        if '"ready"' not in ready:
            raise SystemExit(f"the publisher did not start (log: {run.directory / f'publisher-{server.name}.log'})")
        warm_up = clients.command({"op": "collect", "expect": connected, "timeout": arguments.fanout_timeout})
        say(f"   warm-up event reached {len(warm_up['events'])} of {connected}")
        broadcasts, after_change = [], []

        def broadcast(command: str) -> dict[str, Any]:
            clients.command({"op": "record"})
            publisher.stdin.write(f"{command}\n")
            publisher.stdin.flush()
            event_id, called, returned = json.loads(publisher.stdout.readline())
            collected = clients.command(
                {"op": "collect", "expect": connected, "timeout": arguments.fanout_timeout, "event_id": event_id}
            )
            arrivals = [arrival for received_id, arrival in collected["events"] if received_id == event_id]
            time.sleep(0.5)
            return {
                "received": len(arrivals),
                "lost": connected - len(arrivals),
                "all_ms": (max(arrivals) - called) * 1000 if arrivals else float("nan"),
                "p50_ms": (percentile(arrivals, 0.5) - called) * 1000 if arrivals else float("nan"),
                "publish_ms": (returned - called) * 1000,
                "other_frames": collected["other_frames"],
                "closed_by_server": collected["closed_by_server"],
            }

        profiler = start_profiler(run, running, f"fanout-{server.name}-{round_number}") if server.is_mestring else None
        first = cpu_sample(run.database_owner)
        for _ in range(arguments.broadcasts):
            # Alternately at an unchanged access version (the sockets' held checks stand) and right after an
            # access change (the hub checks every socket again before it delivers).
            broadcasts.append(broadcast("fire"))
            if server.is_mestring:
                after_change.append(broadcast("change"))
        other_during = other_share(first, cpu_sample(run.database_owner))
        stop_profiler(profiler)
        publisher.stdin.write("quit\n")
        publisher.stdin.flush()
        publisher.wait(timeout=30)
        clients.command({"op": "close"})
    result = {
        "round": round_number,
        "clients": len(audience),
        "connected": connected,
        "burst": burst,
        "rest": rest,
        "broadcasts": broadcasts,
        "all_ms_median": statistics.median(b["all_ms"] for b in broadcasts),
        "after_change": after_change,
        "after_change_ms_median": (
            statistics.median(b["all_ms"] for b in after_change) if after_change else float("nan")
        ),
        "lost": sum(b["lost"] for b in broadcasts + after_change),
        "other_cpu": max(other_before, other_during),
    }
    say(
        f"   burst {arguments.burst}: {burst['failed']} failed in {burst['seconds']:.2f}s; "
        f"all {connected} connected; delivered to all in "
        + ", ".join(f"{b['all_ms']:.0f}" for b in broadcasts)
        + f" ms (median {result['all_ms_median']:.1f})"
        + (
            "; after an access change in "
            + ", ".join(f"{b['all_ms']:.0f}" for b in after_change)
            + f" ms (median {result['after_change_ms_median']:.1f})"
            if after_change
            else ""
        )
        + f"; lost {result['lost']}; other CPU {result['other_cpu']:.0%}"
    )
    run.note(f"fanout/{server.name}", result)


def spread_targets(run: Run, ports: list[int]) -> list[list[Any]]:
    audience = run.citizens[: run.arguments.connections]
    return [[ports[index % len(ports)], token, ""] for index, (_user, token) in enumerate(audience)]


def measure_push(run: Run, server: Server, round_number: int) -> None:
    arguments = run.arguments
    say(
        f"-- push/{server.name}, round {round_number}: {arguments.connections} connections on 2 processes, "
        f"{arguments.rate:g} messages/s for {arguments.duration:g}s"
    )
    with (
        servers(server, 2, run.environment, run.directory) as running,
        client_processes(arguments.client_processes, run.environment, run.directory) as clients,
    ):
        ports = [each.port for each in running]
        targets = spread_targets(run, ports)
        users = [user for user, _token in run.citizens[: arguments.connections]]
        target_file = run.directory / f"targets-{server.name}.txt"
        target_file.write_text(
            "".join(f"{port} {user} {token}\n" for (port, token, _q), user in zip(targets, users, strict=True))
        )
        shares = [targets[index :: len(clients)] for index in range(len(clients))]
        concurrency = max(1, arguments.connect_concurrency // len(clients))
        started = time.monotonic()
        connects = everyone(
            clients, [{"op": "connect", "targets": share, "concurrency": concurrency} for share in shares]
        )
        connect_seconds = time.monotonic() - started
        connected = sum(answer["connected"] for answer in connects)
        failed = sum(answer["failed"] for answer in connects)
        rss_loaded = [each.rss() for each in running]
        other_before = wait_for_quiet(run.database_owner, arguments.quiet_wait)
        everyone(clients, [{"op": "record"}] * len(clients))
        out = run.directory / f"sent-{server.name}-{round_number}.json"
        mode = "mestring-personal" if server.is_mestring else "raw-personal"
        first = cpu_sample(run.database_owner)
        publisher = spawn(
            [sys.executable, "-m", "bench.realtime.publisher", mode, "--targets", str(target_file),
             "--rate", str(arguments.rate), "--duration", str(arguments.duration), "--out", str(out)],
            run.environment, run.directory / f"publisher-{server.name}.log",
        )  # fmt: skip
        if publisher.wait(timeout=arguments.duration * 3 + 120) != 0:
            raise SystemExit(f"the publisher failed (log: {run.directory / f'publisher-{server.name}.log'})")
        sent = json.loads(out.read_text())
        expected = [0] * len(clients)
        for number in range(len(sent)):
            expected[(number % len(targets)) % len(clients)] += 1
        collected = everyone(
            clients, [{"op": "collect", "expect": count, "timeout": arguments.drain_timeout} for count in expected]
        )
        other_during = other_share(first, cpu_sample(run.database_owner))
        everyone(clients, [{"op": "close"}] * len(clients))
    sent_at = {event_id: (due, actual) for event_id, due, actual in sent}
    arrivals: dict[int, float] = {}
    duplicates = 0
    for answer in collected:
        for event_id, arrival in answer["events"]:
            if event_id in arrivals:
                duplicates += 1
            arrivals[event_id] = min(arrival, arrivals.get(event_id, arrival))
    latencies = [
        (arrivals[event_id] - actual) * 1000 for event_id, (_due, actual) in sent_at.items() if event_id in arrivals
    ]
    from_due = [
        (arrivals[event_id] - due) * 1000 for event_id, (due, _actual) in sent_at.items() if event_id in arrivals
    ]
    timeline = [
        [round(actual - sent[0][2], 4), round((arrivals[event_id] - actual) * 1000, 2)]
        for event_id, (_due, actual) in sent_at.items()
        if event_id in arrivals and sent
    ]
    (run.directory / f"latency-{server.name}-{round_number}.json").write_text(json.dumps(timeline))
    lag = [(actual - due) * 1000 for _event_id, due, actual in sent]
    span = (sent[-1][2] - sent[0][2]) if len(sent) > 1 else 0.0
    result = {
        "round": round_number,
        "connections": arguments.connections,
        "connected": connected,
        "failed_handshakes": failed,
        "connect_seconds": connect_seconds,
        "failures": [answer["failures"] for answer in connects],
        "sent": len(sent),
        "received": len(latencies),
        "lost": len(sent) - len(latencies),
        "duplicates": duplicates,
        "rate": (len(sent) - 1) / span if span else float("nan"),
        "p50_ms": percentile(latencies, 0.50),
        "p90_ms": percentile(latencies, 0.90),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies) if latencies else float("nan"),
        "p99_from_due_ms": percentile(from_due, 0.99),
        "publisher_lag_max_ms": max(lag) if lag else float("nan"),
        "rss_loaded": rss_loaded,
        "closed_by_server": [answer["closed_by_server"] for answer in collected],
        "other_cpu": max(other_before, other_during),
    }
    say(
        f"   {connected} connected ({failed} failed) in {connect_seconds:.1f}s; sent {len(sent)} at "
        f"{result['rate']:.0f}/s; lost {result['lost']}, duplicates {duplicates}; p50 {result['p50_ms']:.1f} "
        f"p90 {result['p90_ms']:.1f} p99 {result['p99_ms']:.1f} max {result['max_ms']:.1f} ms; "
        f"other CPU {result['other_cpu']:.0%}"
    )
    run.note(f"push/{server.name}", result)


def measure_memory(run: Run, server: Server, round_number: int) -> None:
    arguments = run.arguments
    count = arguments.idle_connections
    say(
        f"-- memory/{server.name}, round {round_number}: {count} idle connections, "
        f"{arguments.churn_cycles} churn cycles"
    )
    with (
        servers(server, 1, run.environment, run.directory) as [running],
        client_processes(1, run.environment, run.directory) as [clients],
    ):
        targets = [[running.port, token, ""] for _user, token in run.citizens[:count]]
        concurrency = arguments.connect_concurrency
        clients.command({"op": "connect", "targets": targets[:200], "concurrency": concurrency})
        clients.command({"op": "close"})
        time.sleep(1.0)
        rss_empty = running.rss()
        redis_empty = run.redis.used_memory()
        loaded = clients.command({"op": "connect", "targets": targets, "concurrency": concurrency})
        time.sleep(2.0)
        rss_loaded = running.rss()
        redis_loaded = run.redis.used_memory()
        clients.command({"op": "close"})
        time.sleep(1.0)
        after_cycles = [running.rss()]
        # Churn back up to the same number of sockets each cycle: a leak shows as RSS at that number growing
        # from cycle to cycle (measured below the peak, reused memory would hide it).
        at_count = [rss_loaded]
        churn_failed = 0
        for _ in range(arguments.churn_cycles):
            answer = clients.command({"op": "connect", "targets": targets, "concurrency": concurrency})
            churn_failed += answer["failed"]
            time.sleep(2.0)
            at_count.append(running.rss())
            clients.command({"op": "close"})
            after_cycles.append(running.rss())
        time.sleep(1.0)
        after_cycles.append(running.rss())
    connected = loaded["connected"]
    result = {
        "round": round_number,
        "connections": count,
        "connected": connected,
        "failed": loaded["failed"] + churn_failed,
        "rss_empty": rss_empty,
        "rss_loaded": rss_loaded,
        "bytes_per_connection": (rss_loaded - rss_empty) / max(connected, 1),
        "redis_bytes_per_connection": (redis_loaded - redis_empty) / max(connected, 1),
        "rss_after_cycles": after_cycles,
        "rss_at_count_cycles": at_count,
        # RSS with the same number of sockets open, last cycle against the first load.
        "churn_growth_total": at_count[-1] - at_count[0],
        "churn_growth_per_cycle": (at_count[-1] - at_count[0]) / max(arguments.churn_cycles, 1),
        # The process's growth over the whole measurement, with no socket open at either end.
        "process_growth": after_cycles[-1] - rss_empty,
    }
    say(
        f"   {connected} connected ({result['failed']} failed); RSS {rss_empty / 2**20:.1f} → "
        f"{rss_loaded / 2**20:.1f} MiB: {result['bytes_per_connection'] / 1024:.1f} KiB per connection "
        f"(+{result['redis_bytes_per_connection']:.0f} B in Redis); at {count} sockets cycle by cycle "
        + " ".join(f"{value / 2**20:.1f}" for value in at_count)
        + " MiB; with none open after each cycle "
        + " ".join(f"{value / 2**20:.1f}" for value in after_cycles)
        + " MiB"
    )
    run.note(f"memory/{server.name}", result)


# ------------------------------------------------------------------------------------- report


def best(run: Run, key: str, figure: str, lowest: bool = True) -> dict[str, Any] | None:
    rounds = run.results.get(key, [])
    if not rounds:
        return None
    chooser = min if lowest else max
    return chooser(rounds, key=lambda result: result[figure])


def spread(run: Run, key: str, figure: str) -> str:
    values = [result[figure] for result in run.results.get(key, [])]
    if not values:
        return "-"
    return f"{min(values):.1f}–{max(values):.1f}"


def context_line(context: dict[str, Any], other_cpu: float | None) -> str:
    other = (
        f"other processes took up to {other_cpu:.0%} of the CPUs during a measurement; "
        if other_cpu is not None
        else ""
    )
    return (
        f"Run {context['date']} on PostgreSQL {context['postgresql']}, Redis {context['redis']}, commit "
        f"{context['revision']}; {context['cpus']} CPUs ({context['cpu']}), Python {context['python']}; "
        f"best of {context['rounds']} round(s) per figure (range over rounds in brackets); {other}"
        f"load average before the run {context['load']}. Command: `{context['command']}`."
    )


def fanout_block(run: Run) -> list[str]:
    raw_by_round = {each["round"]: each["all_ms_median"] for each in run.results.get("fanout/raw", [])}
    rows, verdicts = [], []
    kinds = [
        ("raw", "raw", "all_ms_median", "broadcasts"),
        ("mestring", "mestring, access unchanged", "all_ms_median", "broadcasts"),
        ("mestring", "mestring, first event after an access change", "after_change_ms_median", "after_change"),
    ]
    for name, label, figure, series in kinds:
        rounds = [each for each in run.results.get(f"fanout/{name}", []) if each.get(series)]
        if not rounds:
            continue
        middle = sorted(rounds, key=lambda each: each[figure])[len(rounds) // 2]
        paired = [each for each in rounds if each["round"] in raw_by_round]
        ratios = per_round_ratios([each[figure] for each in paired], [raw_by_round[each["round"]] for each in paired])
        bursts = [each["burst"] for each in rounds]
        lost = sum(sum(b["lost"] for b in each[series]) for each in rounds)
        failed = sum(b["failed"] for b in bursts)
        fill_failures = sum(each["rest"]["failed"] for each in rounds)
        values = [each[figure] for each in rounds]
        rows.append(
            [
                label,
                f"{middle['clients']:,}",
                f"{middle[figure]:.1f} ({min(values):.1f}–{max(values):.1f})",
                f"{statistics.median(b['p50_ms'] for b in middle[series]):.1f}",
                f"{statistics.median(b['publish_ms'] for b in middle[series]):.1f}",
                f"**{ratios.median:.2f}** ({ratios.spread()})" if paired else "-",
                str(lost),
                str(failed),
                f"{min(b['seconds'] for b in bursts) * 1000:.0f}",
                f"{min(each['rest']['seconds'] for each in rounds):.1f}",
                str(fill_failures),
            ]
        )
        if name == "mestring" and paired:
            verdicts.append(
                f"{label}: {ratios.median:.2f}× the raw server's time, worst round {ratios.high:.2f}× (target ≤ "
                f"{FANOUT_TARGET:g}×): "
                + ("met" if ratios.high <= FANOUT_TARGET else "**missed**")
                + f"; lost {lost} (target 0)"
            )
    if not rows:
        return []
    mestring = run.results.get("fanout/mestring", [])
    if mestring:
        failed = sum(each["burst"]["failed"] for each in mestring)
        verdicts.append(
            f"failed handshakes, {run.arguments.burst} at once: {failed} (target 0), while filling up to "
            f"{run.arguments.fanout_clients:,}: {sum(each['rest']['failed'] for each in mestring)}"
        )
    return [
        f'One server process, {run.arguments.fanout_clients:,} clients following one team; "all delivered" is the '
        "time from the publisher's `notify()` call (raw: the control frame's send) until the last client has the "
        f"event, median of {run.arguments.broadcasts} broadcasts in the median round (lowest–highest round in "
        "brackets); p50 is when half had it; publish is how long `notify()` took. Mestring's broadcasts alternate: "
        "one at an unchanged access version (the hub delivers on the sockets' held access checks), then one right "
        "after a membership of the team changed (committed before the clock starts: the access version rises, so "
        "the hub checks every socket's access again before it delivers). × raw: each round's median over the raw "
        "server's median in the same round; the median of the rounds, then lowest–highest (each round). Burst: the "
        f'first {run.arguments.burst} clients connecting at once; "rest s": the other '
        f"{max(run.arguments.fanout_clients - run.arguments.burst, 0):,}, {run.arguments.connect_concurrency} "
        "handshakes in flight. Lost: a connected client without the event after "
        f"{run.arguments.fanout_timeout:g} s.",
        "",
        markdown_table(
            [
                "server",
                "clients",
                "all delivered ms",
                "p50 ms",
                "publish ms",
                "× raw, per round",
                "lost",
                "burst failed",
                "burst ms",
                "rest s",
                "rest failed",
            ],
            rows,
            numeric_from=1,
        ),  # fmt: skip
        "",
        *(f"Against the target: {verdict}." for verdict in verdicts),
    ]


def push_block(run: Run) -> list[str]:
    raw = best(run, "push/raw", "p99_ms")
    rows, verdicts = [], []
    for name in ("raw", "mestring"):
        result = best(run, f"push/{name}", "p99_ms")
        if result is None:
            continue
        rounds = run.results[f"push/{name}"]
        ratio = result["p99_ms"] / raw["p99_ms"] if raw else float("nan")
        lost = sum(each["lost"] for each in rounds)
        rows.append(
            [
                name,
                f"{result['connected']:,}",
                str(sum(each["failed_handshakes"] for each in rounds)),
                f"{result['connect_seconds']:.0f}",
                f"{result['rate']:.0f}",
                f"{result['p50_ms']:.1f}",
                f"{result['p90_ms']:.1f}",
                f"{result['p99_ms']:.1f} ({spread(run, f'push/{name}', 'p99_ms')})",
                f"{result['max_ms']:.1f}",
                f"{ratio:.1f}",
                str(lost),
                str(sum(each["duplicates"] for each in rounds)),
            ]
        )
        if name == "mestring":
            verdicts.append(
                f"personal push p99 {result['p99_ms']:.1f} ms at {result['rate']:.0f} messages/s on "
                f"{result['connected']:,} connections (target < {PUSH_P99_TARGET_MS:g} ms, 0 lost): "
                + ("met" if result["p99_ms"] < PUSH_P99_TARGET_MS and lost == 0 else "**missed**")
            )
    if not rows:
        return []
    return [
        f"{run.arguments.connections:,} connections spread over two server processes by "
        f"{run.arguments.client_processes} client processes; a publisher process sends {run.arguments.rate:g} "
        f"personal events a second for {run.arguments.duration:g} s, each to another user's group (Mestring: a "
        "stored notification's `stream.event` to `user.<id>` through the Redis pub/sub layer; raw: the same frame "
        'through the server\'s control socket). Latency from the send to the arrival; "lost" = not arrived '
        f"within {run.arguments.drain_timeout:g} s after the last send.",
        "",
        markdown_table(
            [
                "server",
                "connected",
                "failed",
                "connect s",
                "msg/s",
                "p50 ms",
                "p90 ms",
                "p99 ms",
                "max ms",
                "p99 × raw",
                "lost",
                "dup",
            ],
            rows,
            numeric_from=1,
        ),  # fmt: skip
        "",
        *(f"Against the target: {verdict}." for verdict in verdicts),
    ]


def memory_block(run: Run) -> list[str]:
    plain = best(run, "memory/plain-asgi", "bytes_per_connection")
    rows, verdicts = [], []
    for name in ("plain-asgi", "mestring", "raw"):
        result = best(run, f"memory/{name}", "bytes_per_connection")
        if result is None:
            continue
        ratio = result["bytes_per_connection"] / plain["bytes_per_connection"] if plain else float("nan")
        growth = [each["churn_growth_total"] for each in run.results[f"memory/{name}"]]
        process = [each.get("process_growth", float("nan")) for each in run.results[f"memory/{name}"]]
        rows.append(
            [
                name,
                f"{result['connected']:,}",
                str(sum(each["failed"] for each in run.results[f"memory/{name}"])),
                f"{result['bytes_per_connection'] / 1024:.1f} ({spread_kib(run, name)})",
                f"{ratio:.2f}",
                f"{result['redis_bytes_per_connection']:.0f}" if name == "mestring" else "-",
                f"{min(growth) / 2**20:+.1f} / {max(growth) / 2**20:+.1f}",
                f"{min(process) / 2**20:+.1f} / {max(process) / 2**20:+.1f}",
                f"{result['rss_empty'] / 2**20:.0f}",
                f"{result['rss_after_cycles'][-1] / 2**20:.0f}",
            ]
        )
        if name == "mestring" and plain:
            verdicts.append(
                f"memory per idle connection {ratio:.2f}× the plain ASGI app's (target ≤ {MEMORY_TARGET:g}×): "
                + ("met" if ratio <= MEMORY_TARGET else "**missed**")
                + f"; RSS at {run.arguments.idle_connections:,} sockets after {run.arguments.churn_cycles} cycles "
                f"of closing and opening them all, against the first time: {min(growth) / 2**20:+.1f} to "
                f"{max(growth) / 2**20:+.1f} MiB; the process grew {min(process) / 2**20:+.1f} to "
                f"{max(process) / 2**20:+.1f} MiB from empty to empty"
            )
    if not rows:
        return []
    return [
        f"One server process; RSS (`VmRSS`) after a warm-up of 200 connections, then with "
        f"{run.arguments.idle_connections:,} idle connections (per connection = the difference / connections; Redis: "
        "`used_memory` difference), then over churn: "
        f"{run.arguments.churn_cycles} × close all and connect {run.arguments.idle_connections:,} again; churn RSS "
        "change = RSS with that many sockets open after the last cycle − the first time (measured at the same "
        "number of sockets, so reused memory cannot hide a leak); process growth = RSS with no socket open at "
        "the end − before the first load (best / worst round).",
        "",
        markdown_table(
            [
                "server",
                "connected",
                "failed handshakes",
                "KiB per connection",
                "× plain ASGI",
                "Redis B per connection",
                "churn RSS change at the same sockets MiB",
                "process growth MiB",
                "RSS idle MiB",
                "RSS at end MiB",
            ],
            rows,
            numeric_from=1,
        ),  # fmt: skip
        "",
        *(f"Against the target: {verdict}." for verdict in verdicts),
    ]


def spread_kib(run: Run, name: str) -> str:
    values = [result["bytes_per_connection"] / 1024 for result in run.results.get(f"memory/{name}", [])]
    return f"{min(values):.1f}–{max(values):.1f}" if values else "-"


BLOCKS = {"fanout": fanout_block, "push": push_block, "memory": memory_block}


def report(run: Run, context: dict[str, Any]) -> dict[str, str]:
    """One README block per measurement that ran, each with the run's context line."""
    blocks = {}
    for name, block in BLOCKS.items():
        lines = block(run)
        if lines:
            shares = [
                result["other_cpu"]
                for key, results in run.results.items()
                if key.startswith(f"{name}/")
                for result in results
                if "other_cpu" in result
            ]
            line = context_line(context, max(shares) if shares else None)
            blocks[name] = "\n".join([line, "", *lines]).rstrip() + "\n"
    return blocks


# --------------------------------------------------------------------------------------- main


class RealtimeDatabase(RunDatabase):
    """The harness's run database under this benchmark's own name, so that other benchmarks can run at once."""

    name = BENCH_DATABASE
    postgresql_only = "the realtime benchmark needs PostgreSQL: pass --database-url or set DATABASE_URL"


def raise_open_files_limit(needed: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, needed)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    if wanted < needed:
        raise SystemExit(
            f"the open-files limit is {wanted} (hard), below the {needed} this run needs; raise it with "
            f"`ulimit -n {needed}` (as root, or in /etc/security/limits.conf) and run again"
        )
    return wanted


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.realtime", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", action="append", choices=MEASUREMENTS)
    parser.add_argument("--fanout-clients", type=int, default=1000)
    parser.add_argument("--broadcasts", type=int, default=3, help="broadcasts per fan-out round (3)")
    parser.add_argument("--fanout-timeout", type=float, default=60.0)
    parser.add_argument("--burst", type=int, default=200, help="clients connecting at once (200)")
    parser.add_argument("--connections", type=int, default=10_000, help="connections for the push measurement")
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--connect-concurrency", type=int, default=200, help="handshakes in flight while filling up")
    parser.add_argument("--rate", type=float, default=500.0, help="personal messages a second (500)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of personal messages (20)")
    parser.add_argument("--idle-connections", type=int, default=5000)
    parser.add_argument(
        "--churn-cycles", type=int, default=5, help="times all idle connections are closed and opened again (5)"
    )
    parser.add_argument("--drain-timeout", type=float, default=120.0, help="seconds to wait for late messages (120)")
    parser.add_argument("--quiet-wait", type=float, default=20.0)
    parser.add_argument("--py-spy", default="", help="path of py-spy: profile Mestring's server during fan-out")
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--write-readme", action="store_true")
    parser.add_argument("--render", type=Path, help="write the README blocks of a saved run's JSON again, and stop")
    return parser.parse_args(argv)


def terminate_on_signal(signal_number: int, _frame: Any) -> None:
    raise SystemExit(128 + signal_number)


def render_saved(path: Path) -> int:
    """Write the README blocks of a saved run (``bench/results/<run>-realtime.json``) again."""
    saved = json.loads(path.read_text())
    run = Run(
        arguments=argparse.Namespace(**saved["arguments"]),
        directory=path.parent,
        environment={},
        database_owner=None,
        team_id="",
        staff=[],
        citizens=[],
        redis=None,  # type: ignore[arg-type]
        results=saved["results"],
    )
    for name, block in report(run, saved["context"]).items():
        print("\n" + block)
        write_readme(f"{README_KIND}-{name}", block.rstrip("\n"))
    return 0


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    if arguments.render:
        return render_saved(arguments.render)
    signal.signal(signal.SIGTERM, terminate_on_signal)
    signal.signal(signal.SIGHUP, terminate_on_signal)
    limit = raise_open_files_limit(max(arguments.connections, arguments.idle_connections) + 1000)
    started = datetime.now(UTC)
    run_id = f"{started:%Y%m%d-%H%M%S}-realtime"
    directory = ROOT / "var" / "bench" / run_id
    directory.mkdir(parents=True, exist_ok=True)
    database = RealtimeDatabase(arguments.database_url or "sqlite:///", directory)
    load = Path("/proc/loadavg").read_text().split()[0]
    say(f"== realtime benchmark {run_id}: open-files limit {limit}; logs in {directory.relative_to(ROOT)}")
    environment = run_environment(database.url, directory)
    setup_log = directory / "setup.log"
    database.create()
    redis = Redis(directory)
    try:
        environment["REDIS_URL"] = redis.url
        environment["DB_CONN_MAX_AGE"] = "0"
        run_step("migrate", [sys.executable, "manage.py", "migrate", "--noinput"], environment, setup_log, 600)
        seed_count = max(arguments.connections, arguments.idle_connections)
        run_step(
            f"seed {arguments.fanout_clients} staff and {seed_count} citizens",
            [sys.executable, "-m", "bench.realtime.seed", "--out", str(directory),
             "--staff", str(arguments.fanout_clients), "--citizens", str(seed_count)],
            environment, setup_log, 900,
        )  # fmt: skip
        database.analyze()
        run = Run(
            arguments=arguments,
            directory=directory,
            environment=environment,
            database_owner=database.owner_uid,
            team_id=(directory / "team.txt").read_text().strip(),
            staff=read_logins(directory / "staff.txt"),
            citizens=read_logins(directory / "citizens.txt"),
            redis=redis,
        )
        selected = arguments.only or MEASUREMENTS
        for round_number in range(1, arguments.rounds + 1):
            if "fanout" in selected:
                for server in (RAW, MESTRING):
                    measure_fanout(run, server, round_number)
            if "push" in selected:
                for server in (RAW, MESTRING):
                    measure_push(run, server, round_number)
            if "memory" in selected:
                for server in (PLAIN, MESTRING, RAW):
                    measure_memory(run, server, round_number)
        redis_version = (
            subprocess.run(["redis-server", "--version"], capture_output=True, text=True, check=False)
            .stdout.split()[2]
            .removeprefix("v=")
        )
        other_cpu = max(
            (result.get("other_cpu", 0.0) for results in run.results.values() for result in results), default=0.0
        )
        context = {
            "date": f"{started:%Y-%m-%d %H:%M} UTC",
            "postgresql": database.version().removeprefix("PostgreSQL "),
            "redis": redis_version,
            "revision": git_revision(),
            "cpus": os.cpu_count(),
            "cpu": cpu_model(),
            "python": sys.version.split()[0],
            "rounds": arguments.rounds,
            "other_cpu": other_cpu,
            "load": load,
            "command": " ".join([".venv/bin/python -m bench.realtime", *(argv if argv is not None else sys.argv[1:])]),
        }
        blocks = report(run, context)
        for block in blocks.values():
            print("\n" + block)
        RESULTS_DIR.mkdir(exist_ok=True)
        (RESULTS_DIR / f"{run_id}.json").write_text(
            json.dumps(
                {"context": context, "arguments": vars(arguments), "results": run.results}, indent=1, default=str
            )
        )
        if arguments.write_readme:
            for name, block in blocks.items():
                write_readme(f"{README_KIND}-{name}", block.rstrip("\n"))
        lost = sum(
            result.get("lost", 0) for key, results in run.results.items() if "mestring" in key for result in results
        )
        if lost:
            loud(f"{lost} events were lost in Mestring's measurements")
        return 0
    finally:
        redis.stop()
        if not arguments.keep_database:
            database.drop()


if __name__ == "__main__":
    sys.exit(main())
