"""Open-loop POST load for the mixed run: devices' telemetry, or citizens' requests to their team.

    python -m bench.mixed.posts telemetry --port P --devices devices.json --rate 50 --duration 600
    python -m bench.mixed.posts requests --port P --citizens citizens.txt --rate 1 --duration 600

Sent by ``bench.today.loadgen``'s paced connections (its ``BENCH_RESULT`` line): request *k* is due at ``start + k /
rate`` and is dealt to connection ``k mod connections``; latency counts from when it was due. Each device
belongs to one connection, so its readings go out in sequence order: one heartbeat (and every tenth time a
battery level) per ``POST /api/v1/telemetry``. A request is ``POST /api/v1/me/requests`` with a new id,
from the citizens in turn. Only loopback addresses are accepted.
"""

import argparse
import json
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench.today.loadgen import Request, paced_arguments, paced_parse, run_paced

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


def _posting(bodies: Body) -> Request:
    def request(_number: int) -> tuple[str, str, str, bytes | None]:
        path, token, body = bodies()
        return "POST", path, token, body

    return request


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["telemetry", "requests"])
    paced_arguments(parser, duration=60.0, connections=8)
    parser.add_argument("--devices", type=Path)
    parser.add_argument("--citizens", type=Path)
    arguments = paced_parse(parser, argv)
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

    result = run_paced(
        [_posting(body) for body in bodies],
        host=arguments.host,
        port=arguments.port,
        rate=arguments.rate,
        duration=arguments.duration,
        timeout=arguments.timeout,
    )
    print("BENCH_RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
