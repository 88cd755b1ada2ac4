"""Light, paced load for the caseload benchmark: a fixed request rate spread over a few keep-alive connections.

Run by ``python -m bench.caseload`` as a separate process::

    python -m bench.caseload.loadgen --port 8123 --path /api/v1/teams/…/caseload?limit=50 \
        --tokens staff_tokens.txt --rate 4 --connections 2 --duration 30

Requests are sent on a fixed schedule (``--rate`` per second over all connections), not as fast as
the server answers, so the server is loaded lightly and the latency is that of a request arriving at
a server with spare capacity. Latency is measured from the scheduled start, so an answer that makes
the next request start late counts that wait too (no coordinated omission). Prints one
``BENCH_RESULT {...}`` line. Only loopback addresses are accepted.
"""

import argparse
import http.client
import json
import math
import resource
import sys
import threading
import time
from collections import Counter
from pathlib import Path

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, math.ceil(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


class Paced(threading.Thread):
    def __init__(
        self,
        *,
        host: str,
        port: int,
        path: str,
        tokens: list[str],
        start: float,
        interval: float,
        offset: float,
        deadline: float,
    ) -> None:
        super().__init__(daemon=True)
        self.host, self.port, self.path, self.tokens = host, port, path, tokens
        self.start_at, self.interval, self.offset, self.deadline = start, interval, offset, deadline
        self.latencies_ms: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.errors: Counter[str] = Counter()
        self.late = 0

    def run(self) -> None:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        number = 0
        while True:
            scheduled = self.start_at + self.offset + number * self.interval
            if scheduled >= self.deadline:
                break
            wait = scheduled - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            else:
                self.late += 1
            token = self.tokens[number % len(self.tokens)]
            try:
                connection.request("GET", self.path, headers={"Authorization": f"Bearer {token}"})
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException) as error:
                self.errors[type(error).__name__] += 1
                connection.close()
                connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
            else:
                self.latencies_ms.append((time.perf_counter() - scheduled) * 1000)
                self.statuses[response.status] += 1
                if response.will_close:
                    connection.close()
                    connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
            number += 1
        connection.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--tokens", type=Path, required=True)
    parser.add_argument("--rate", type=float, default=4.0, help="requests per second over all connections")
    parser.add_argument("--connections", type=int, default=2)
    parser.add_argument("--duration", type=float, default=30.0)
    arguments = parser.parse_args(argv)
    if arguments.host not in LOOPBACK_HOSTS:
        parser.error("the load generator only targets loopback addresses")
    if arguments.rate <= 0 or arguments.connections < 1:
        parser.error("--rate and --connections must be positive")

    tokens = [line.strip() for line in arguments.tokens.read_text().splitlines() if line.strip()]
    interval = arguments.connections / arguments.rate
    start = time.perf_counter() + 0.2
    deadline = start + arguments.duration
    workers = [
        Paced(
            host=arguments.host,
            port=arguments.port,
            path=arguments.path,
            tokens=tokens[index:] + tokens[:index],
            start=start,
            interval=interval,
            offset=index / arguments.rate,
            deadline=deadline,
        )
        for index in range(arguments.connections)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=arguments.duration + 60)
    latencies = sorted(value for worker in workers for value in worker.latencies_ms)
    statuses: Counter[int] = sum((worker.statuses for worker in workers), Counter())
    errors: Counter[str] = sum((worker.errors for worker in workers), Counter())
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result = {
        "requests": len(latencies),
        "seconds": arguments.duration,
        "rate": arguments.rate,
        "connections": arguments.connections,
        "statuses": {str(status): count for status, count in statuses.items()},
        "errors": dict(errors),
        "late": sum(worker.late for worker in workers),
        "latency_ms": {
            "p50": percentile(latencies, 0.50),
            "p90": percentile(latencies, 0.90),
            "p99": percentile(latencies, 0.99),
            "max": latencies[-1] if latencies else 0.0,
        },
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "latencies_ms": [round(value, 3) for value in latencies],
    }
    print("BENCH_RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
