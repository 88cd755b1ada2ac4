"""Fallback load generator for when ``wrk`` cannot be used: keep-alive connections, one thread each.

Run by the harness as a separate process; prints the same ``BENCH_RESULT {...}`` line as
``rotate_tokens.lua`` does for wrk::

    python -m bench.loadgen --port 8123 --tokens citizen_tokens.txt --connections 32 --duration 10

Only loopback addresses are accepted. Being Python, it spends far more CPU per request than wrk on a
machine it shares with the server, so its figures are lower; compare ratios within one run only.
"""

import argparse
import http.client
import json
import math
import sys
import threading
import time
from collections import Counter
from pathlib import Path

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


class Worker(threading.Thread):
    def __init__(
        self, *, host: str, port: int, path: str, tokens: list[str], offset: int, deadline: float, timeout: float
    ) -> None:
        super().__init__(daemon=True)
        self.host, self.port, self.path = host, port, path
        self.tokens, self.position = tokens, offset
        self.deadline, self.timeout = deadline, timeout
        self.latencies_us: list[int] = []
        self.statuses: Counter[int] = Counter()
        self.bytes = 0
        self.errors: Counter[str] = Counter()

    def run(self) -> None:
        connection: http.client.HTTPConnection | None = None
        while time.monotonic() < self.deadline:
            if connection is None:
                connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.position = (self.position + 1) % len(self.tokens)
            headers = {"Authorization": f"Bearer {self.tokens[self.position]}"}
            started = time.perf_counter()
            try:
                connection.request("GET", self.path, headers=headers)
                response = connection.getresponse()
                body = response.read()
            except TimeoutError:
                self.errors["timeout"] += 1
                connection.close()
                connection = None
                continue
            except ConnectionRefusedError:
                self.errors["connect"] += 1
                connection = None
                time.sleep(0.01)
                continue
            except (OSError, http.client.HTTPException):
                self.errors["read"] += 1
                connection.close()
                connection = None
                continue
            if time.monotonic() > self.deadline:
                break
            self.latencies_us.append(int((time.perf_counter() - started) * 1_000_000))
            self.statuses[response.status] += 1
            self.bytes += len(body)
            if response.will_close:
                connection.close()
                connection = None
        if connection is not None:
            connection.close()


def percentile(sorted_values: list[int], fraction: float) -> int:
    if not sorted_values:
        return 0
    index = min(len(sorted_values) - 1, max(0, math.ceil(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/api/v1/me")
    parser.add_argument("--tokens", type=Path, required=True)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--timeout", type=float, default=10.0)
    arguments = parser.parse_args(argv)
    if arguments.host not in LOOPBACK_HOSTS:
        parser.error("the load generator only targets loopback addresses")

    tokens = [line.strip() for line in arguments.tokens.read_text().splitlines() if line.strip()]
    started = time.monotonic()
    deadline = started + arguments.duration
    workers = [
        Worker(
            host=arguments.host,
            port=arguments.port,
            path=arguments.path,
            tokens=tokens,
            offset=(number * 7919) % len(tokens),
            deadline=deadline,
            timeout=arguments.timeout,
        )
        for number in range(arguments.connections)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=arguments.duration + arguments.timeout + 5)
    elapsed = time.monotonic() - started

    latencies = sorted(value for worker in workers for value in worker.latencies_us)
    statuses: Counter[int] = sum((worker.statuses for worker in workers), Counter())
    errors: Counter[str] = sum((worker.errors for worker in workers), Counter())
    non_2xx = {str(status): count for status, count in statuses.items() if not 200 <= status <= 299}
    result = {
        "requests": len(latencies),
        "duration_us": int(elapsed * 1_000_000),
        "bytes": sum(worker.bytes for worker in workers),
        "non_2xx": sum(non_2xx.values()),
        "status_counts": [non_2xx] if non_2xx else [],
        "socket_errors": {name: errors.get(name, 0) for name in ("connect", "read", "write", "timeout")},
        "latency_us": {
            "p50": percentile(latencies, 0.50),
            "p90": percentile(latencies, 0.90),
            "p99": percentile(latencies, 0.99),
            "mean": sum(latencies) / len(latencies) if latencies else 0.0,
            "max": latencies[-1] if latencies else 0,
        },
    }
    print("BENCH_RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
