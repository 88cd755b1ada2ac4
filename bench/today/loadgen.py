"""A load generator at a fixed request rate, for latency below saturation (what wrk2 does; wrk does not).

Run by ``python -m bench.today`` as a separate process; prints a ``BENCH_RESULT {...}`` line in the
format of ``bench/rotate_tokens.lua``, with extra keys::

    python -m bench.today.loadgen --port 8123 --tokens citizen_tokens.txt --path /api/v1/me/today \
        --rate 80 --duration 30 [--connections 16]

Open loop: request *k* is due at ``start + k / rate`` whatever happened to the ones before it. The
requests are dealt round-robin to ``--connections`` keep-alive connections, each in its own thread,
which sleeps until its next request is due and sends it then, or at once when it is already late.
Latency is measured from when a request was due, not from when it could be sent, so a server that
stalls is charged for the requests that queued behind the stall (no coordinated omission);
``service_latency_us`` is measured from the actual send. Only loopback addresses are accepted.
"""

import argparse
import http.client
import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.loadgen import LOOPBACK_HOSTS, percentile

# What request number k sends: method, path, bearer token and body (None for a GET).
Request = Callable[[int], tuple[str, str, str, bytes | None]]


class PacedWorker(threading.Thread):
    """One keep-alive connection sending the requests numbered ``first``, ``first + step``, … each when due."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        request: Request,
        first: int,
        step: int,
        start: float,
        period: float,
        deadline: float,
        timeout: float,
    ) -> None:
        super().__init__(daemon=True)
        self.host, self.port, self.request = host, port, request
        self.number, self.step = first, step
        self.start_at, self.period, self.deadline, self.timeout = start, period, deadline, timeout
        self.latencies_us: list[int] = []
        self.service_us: list[int] = []
        self.late_us: list[int] = []
        self.statuses: Counter[int] = Counter()
        self.errors: Counter[str] = Counter()
        self.bytes = 0

    def run(self) -> None:
        connection: http.client.HTTPConnection | None = None
        while True:
            due = self.start_at + self.number * self.period
            if due >= self.deadline:
                break
            number = self.number
            self.number += self.step
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            method, path, token, body = self.request(number)
            if connection is None:
                connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            headers = {"Authorization": f"Bearer {token}"}
            if body is not None:
                headers["Content-Type"] = "application/json"
            sent = time.perf_counter()
            try:
                connection.request(method, path, body, headers)
                response = connection.getresponse()
                answer = response.read()
            except TimeoutError:
                self.errors["timeout"] += 1
                connection.close()
                connection = None
                continue
            except ConnectionRefusedError:
                self.errors["connect"] += 1
                connection = None
                continue
            except (OSError, http.client.HTTPException):
                self.errors["read"] += 1
                connection.close()
                connection = None
                continue
            done = time.perf_counter()
            self.latencies_us.append(int((done - due) * 1_000_000))
            self.service_us.append(int((done - sent) * 1_000_000))
            self.late_us.append(max(0, int((sent - due) * 1_000_000)))
            self.statuses[response.status] += 1
            self.bytes += len(answer)
            if response.will_close:
                connection.close()
                connection = None
        if connection is not None:
            connection.close()


def summary(values: list[int]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": percentile(ordered, 0.50),
        "p90": percentile(ordered, 0.90),
        "p99": percentile(ordered, 0.99),
        "p999": percentile(ordered, 0.999),
        "mean": sum(ordered) / len(ordered) if ordered else 0.0,
        "max": ordered[-1] if ordered else 0,
    }


def run_paced(
    requests: list[Request],
    *,
    host: str,
    port: int,
    rate: float,
    duration: float,
    timeout: float,
    every_latency: bool = False,
) -> dict[str, Any]:
    """``rate`` requests a second for ``duration`` seconds, request k on connection ``k mod len(requests)``
    made by that connection's ``Request``; the ``BENCH_RESULT`` figures (with ``every_latency``, also each
    request's latency in milliseconds, sorted, and the count of every status)."""
    connections = len(requests)
    start = time.perf_counter() + 0.2
    deadline = start + duration
    workers = [
        PacedWorker(
            host=host,
            port=port,
            request=requests[number],
            first=number,
            step=connections,
            start=start,
            period=1 / rate,
            deadline=deadline,
            timeout=timeout,
        )
        for number in range(connections)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=duration + timeout + 10)
    elapsed = max(time.perf_counter(), deadline) - start

    statuses: Counter[int] = sum((worker.statuses for worker in workers), Counter())
    errors: Counter[str] = sum((worker.errors for worker in workers), Counter())
    non_2xx = {str(status): count for status, count in statuses.items() if not 200 <= status <= 299}
    latencies = [value for worker in workers for value in worker.latencies_us]
    result: dict[str, Any] = {
        "requests": len(latencies),
        "duration_us": int(elapsed * 1_000_000),
        "bytes": sum(worker.bytes for worker in workers),
        "non_2xx": sum(non_2xx.values()),
        "status_counts": [non_2xx] if non_2xx else [],
        "socket_errors": {name: errors.get(name, 0) for name in ("connect", "read", "write", "timeout")},
        "latency_us": summary(latencies),
        "service_latency_us": summary([value for worker in workers for value in worker.service_us]),
        "send_lateness_us": summary([value for worker in workers for value in worker.late_us]),
        "target_rate": rate,
        "connections": connections,
    }
    if every_latency:
        result["statuses"] = {str(status): count for status, count in statuses.items()}
        result["errors"] = {name: count for name, count in errors.items() if count}
        result["latencies_ms"] = [round(value / 1000, 3) for value in sorted(latencies)]
    return result


def paced_arguments(parser: argparse.ArgumentParser, *, duration: float, connections: int) -> None:
    """The options of every paced load generator: where, how fast, how long, over how many connections."""
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True, help="requests per second")
    parser.add_argument("--duration", type=float, default=duration)
    parser.add_argument("--connections", type=int, default=connections)
    parser.add_argument("--timeout", type=float, default=10.0)


def paced_parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """The arguments, refused unless the target is loopback and the rate, duration and connections positive."""
    arguments = parser.parse_args(argv)
    if arguments.host not in LOOPBACK_HOSTS:
        parser.error("the load generator only targets loopback addresses")
    if arguments.rate <= 0 or arguments.duration <= 0 or arguments.connections < 1:
        parser.error("--rate, --duration and --connections must be positive")
    return arguments


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    paced_arguments(parser, duration=30.0, connections=16)
    parser.add_argument("--path", default="/api/v1/me/today")
    parser.add_argument("--tokens", type=Path, required=True)
    parser.add_argument("--every-latency", action="store_true", help="also every latency and status")
    arguments = paced_parse(parser, argv)

    tokens = [line.strip() for line in arguments.tokens.read_text().splitlines() if line.strip()]

    def request(number: int) -> tuple[str, str, str, bytes | None]:
        return "GET", arguments.path, tokens[(number * 7919) % len(tokens)], None

    result = run_paced(
        [request] * arguments.connections,
        host=arguments.host,
        port=arguments.port,
        rate=arguments.rate,
        duration=arguments.duration,
        timeout=arguments.timeout,
        every_latency=arguments.every_latency,
    )
    print("BENCH_RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
