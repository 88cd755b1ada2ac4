"""Telemetry load generator: one keep-alive connection per device, each posting its own batches in order.

Run by ``python -m bench.velfaerdsteknologi`` as a separate process::

    python -m bench.velfaerdsteknologi.loadgen --port 8123 --batches batches.json [--first N]

``batches.json`` holds, per device, its token and its request bodies (JSON text, sequence numbers rising
from batch to batch). All connections start together; the run ends when the last answer is read. Prints one
``BENCH_RESULT {...}`` line: wall time, statuses, per-reading results counted from every answer, latencies,
and this process's own CPU time. Only loopback addresses are accepted.
"""

import argparse
import http.client
import json
import resource
import sys
import threading
import time
from collections import Counter
from pathlib import Path

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
PATH = "/api/v1/telemetry"


class DeviceConnection(threading.Thread):
    def __init__(self, *, host: str, port: int, token: str, bodies: list[bytes], start: threading.Barrier) -> None:
        super().__init__(daemon=True)
        self.host, self.port, self.token, self.bodies, self.start_barrier = host, port, token, bodies, start
        self.statuses: Counter[int] = Counter()
        self.results: Counter[str] = Counter()
        self.mismatches = 0
        self.latencies_us: list[int] = []
        self.errors: Counter[str] = Counter()
        self.finished = 0.0

    def run(self) -> None:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        self.start_barrier.wait()
        for body in self.bodies:
            started = time.perf_counter()
            try:
                connection.request("POST", PATH, body=body, headers=headers)
                response = connection.getresponse()
                answer = response.read()
            except (OSError, http.client.HTTPException) as error:
                self.errors[type(error).__name__] += 1
                connection.close()
                connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
                continue
            self.latencies_us.append(round((time.perf_counter() - started) * 1e6))
            self.statuses[response.status] += 1
            if response.status == 200:
                document = json.loads(answer)
                self.results.update(result["status"] for result in document["results"])
                sent = body.count(b'"sequence"')
                if (
                    len(document["results"]) != sent
                    or document["stored"] + document["duplicates"] + document["refused"] != sent
                ):
                    self.mismatches += 1
        self.finished = time.perf_counter()
        connection.close()


def percentile(values: list[int], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(share * len(ordered)))])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--batches", type=Path, required=True, help="JSON: [{token, bodies: [text, ...]}, ...]")
    parser.add_argument("--first", type=int, default=0, help="post only each device's first N batches")
    arguments = parser.parse_args(argv)
    if arguments.host not in LOOPBACK_HOSTS:
        parser.error("only loopback hosts are load-tested")

    devices = json.loads(arguments.batches.read_text())
    start = threading.Barrier(len(devices) + 1)
    workers = [
        DeviceConnection(
            host=arguments.host,
            port=arguments.port,
            token=device["token"],
            bodies=[body.encode() for body in device["bodies"][: arguments.first or None]],
            start=start,
        )
        for device in devices
    ]
    for worker in workers:
        worker.start()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    start.wait()
    began = time.perf_counter()
    for worker in workers:
        worker.join()
    elapsed = max(worker.finished for worker in workers) - began
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    statuses: Counter[int] = Counter()
    results: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    latencies: list[int] = []
    for worker in workers:
        statuses.update(worker.statuses)
        results.update(worker.results)
        errors.update(worker.errors)
        latencies += worker.latencies_us
    report = {
        "seconds": elapsed,
        "requests": sum(statuses.values()),
        "statuses": {str(status): count for status, count in statuses.items()},
        "results": dict(results),
        "mismatches": sum(worker.mismatches for worker in workers),
        "socket_errors": dict(errors),
        "latency_ms": {name: percentile(latencies, share) / 1000 for name, share in (("p50", 0.5), ("p99", 0.99))},
        "cpu_seconds": (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime),
    }
    print("BENCH_RESULT " + json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
