"""Open-loop POST load for the mixed run: devices' telemetry, or citizens' requests to their team.

    python -m bench.mixed.posts telemetry --port P --devices devices.json --rate 50 --duration 600
    python -m bench.mixed.posts requests --port P --citizens citizens.txt --rate 1 --duration 600

As ``bench.today.loadgen`` (whose ``BENCH_RESULT`` line this prints): request *k* is due at ``start + k /
rate`` and is dealt to connection ``k mod connections``; latency counts from when it was due. Each device
belongs to one connection, so its readings go out in sequence order: one heartbeat (and every tenth time a
battery level) per ``POST /api/v1/telemetry``. A request is ``POST /api/v1/me/requests`` with a new id,
from the citizens in turn. Only loopback addresses are accepted.
"""

import argparse
import http.client
import json
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench.loadgen import LOOPBACK_HOSTS
from bench.today.loadgen import summary

Body = Callable[[], tuple[str, str, bytes]]  # path, token, body


def telemetry_bodies(devices: list[dict[str, str]]) -> Body:
    sequences = dict.fromkeys((device["id"] for device in devices), 0)
    turn = iter(range(1 << 62))

    def next_body() -> tuple[str, str, bytes]:
        device = devices[next(turn) % len(devices)]
        sequences[device["id"]] += 1
        sequence = sequences[device["id"]]
        at = datetime.now(UTC).isoformat()
        readings: list[dict[str, object]] = [{"sequence": sequence * 2, "kind": "heartbeat", "measured_at": at}]
        if sequence % 10 == 0:
            readings.append({"sequence": sequence * 2 + 1, "kind": "battery", "measured_at": at, "value": 80})
        return "/api/v1/telemetry", device["token"], json.dumps({"readings": readings}).encode()

    return next_body


def request_bodies(tokens: list[str]) -> Body:
    turn = iter(range(1 << 62))

    def next_body() -> tuple[str, str, bytes]:
        number = next(turn)
        body = {"id": str(uuid.uuid4()), "category": "help", "text": f"Kan I ringe til mig? ({number})"}
        return "/api/v1/me/requests", tokens[number % len(tokens)], json.dumps(body).encode()

    return next_body


class PacedPoster(threading.Thread):
    def __init__(
        self, *, port: int, bodies: Body, first: int, step: int, start: float, period: float, deadline: float,
        timeout: float,
    ) -> None:  # fmt: skip
        super().__init__(daemon=True)
        self.port, self.bodies = port, bodies
        self.number, self.step = first, step
        self.start_at, self.period, self.deadline, self.timeout = start, period, deadline, timeout
        self.latencies_us: list[int] = []
        self.statuses: Counter[int] = Counter()
        self.errors: Counter[str] = Counter()

    def run(self) -> None:
        connection: http.client.HTTPConnection | None = None
        while True:
            due = self.start_at + self.number * self.period
            if due >= self.deadline:
                break
            self.number += self.step
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            path, token, body = self.bodies()
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            try:
                connection.request("POST", path, body, headers)
                response = connection.getresponse()
                response.read()
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
            self.latencies_us.append(int((time.perf_counter() - due) * 1_000_000))
            self.statuses[response.status] += 1
            if response.will_close:
                connection.close()
                connection = None
        if connection is not None:
            connection.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["telemetry", "requests"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--devices", type=Path)
    parser.add_argument("--citizens", type=Path)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=10.0)
    arguments = parser.parse_args(argv)
    if arguments.host not in LOOPBACK_HOSTS:
        parser.error("the load generator only targets loopback addresses")
    if arguments.rate <= 0 or arguments.duration <= 0 or arguments.connections < 1:
        parser.error("--rate, --duration and --connections must be positive")
    if arguments.kind == "telemetry":
        if arguments.devices is None:
            parser.error("telemetry needs --devices")
        devices = json.loads(arguments.devices.read_text())
        # Each connection its own devices, so that one device's readings are sent in order.
        shares = [devices[number :: arguments.connections] for number in range(arguments.connections)]
        bodies = [telemetry_bodies(share) for share in shares]
    else:
        if arguments.citizens is None:
            parser.error("requests needs --citizens")
        tokens = [line.split()[1] for line in arguments.citizens.read_text().splitlines() if line.strip()]
        bodies = [request_bodies(tokens[number :: arguments.connections]) for number in range(arguments.connections)]

    start = time.perf_counter() + 0.2
    deadline = start + arguments.duration
    posters = [
        PacedPoster(
            port=arguments.port, bodies=bodies[number], first=number, step=arguments.connections, start=start,
            period=1 / arguments.rate, deadline=deadline, timeout=arguments.timeout,
        )
        for number in range(arguments.connections)
    ]  # fmt: skip
    for poster in posters:
        poster.start()
    for poster in posters:
        poster.join(timeout=arguments.duration + arguments.timeout + 10)
    elapsed = max(time.perf_counter(), deadline) - start
    statuses: Counter[int] = sum((poster.statuses for poster in posters), Counter())
    errors: Counter[str] = sum((poster.errors for poster in posters), Counter())
    non_2xx = {str(status): count for status, count in statuses.items() if not 200 <= status <= 299}
    latencies = [value for poster in posters for value in poster.latencies_us]
    result = {
        "requests": len(latencies),
        "duration_us": int(elapsed * 1_000_000),
        "non_2xx": sum(non_2xx.values()),
        "status_counts": [non_2xx] if non_2xx else [],
        "socket_errors": {name: errors.get(name, 0) for name in ("connect", "read", "write", "timeout")},
        "latency_us": summary(latencies),
        "target_rate": arguments.rate,
        "connections": arguments.connections,
    }
    print("BENCH_RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
