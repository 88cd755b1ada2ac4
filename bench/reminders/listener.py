"""Stands in for open websockets in the reminder benchmark: joins the personal stream groups of a sample of
users on the channel layer, as ``notifications.consumers.StreamConsumer`` does, and records what arrives.

    python -m bench.reminders.listener --users FILE --ready-file FILE --expected N --timeout SECONDS

Writes ``ready`` once every group is joined; prints one JSON line with the notification ids received
(one per stream event) when ``--expected`` have arrived, on SIGTERM, or after ``--timeout`` seconds.
"""

import argparse
import asyncio
import json
import os
import resource
import signal
import time
from pathlib import Path

import django


async def listen(user_ids: list[str], ready_file: Path, expected: int, timeout: float) -> None:
    from channels.layers import get_channel_layer

    from notifications.streams import user_group

    layer = get_channel_layer()
    assert layer is not None
    channel = await layer.new_channel()
    for user_id in user_ids:
        await layer.group_add(user_group(user_id), channel)
    ready_file.write_text("ready")
    received: list[str] = []
    event_ids: list[int] = []
    first_at = last_at = 0.0
    stopping = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
    deadline = time.monotonic() + timeout
    # One receive stays pending across the loop: cancelling a receive unsubscribes the channel on the
    # pub/sub layer, and what arrives meanwhile is lost (a consumer never cancels one while open).
    pending = asyncio.ensure_future(layer.receive(channel))
    while len(received) < expected and time.monotonic() < deadline and not stopping.is_set():
        done, _ = await asyncio.wait({pending}, timeout=1.0)
        if not done:
            continue
        message = pending.result()
        pending = asyncio.ensure_future(layer.receive(channel))
        payload = message.get("payload", {})
        received.append(str(payload.get("id")))
        event_ids.append(int(message.get("event_id", 0)))
        last_at = time.time()
        first_at = first_at or last_at
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result = {
        "received": received,
        "event_ids": event_ids,
        "first_at": first_at,
        "last_at": last_at,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
    }
    print(json.dumps(result), flush=True)
    # Without the channel layer's teardown: its cleanup of a pending receive can outlast the harness's patience.
    os._exit(0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=Path, required=True)
    parser.add_argument("--ready-file", type=Path, required=True)
    parser.add_argument("--expected", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=3600.0)
    arguments = parser.parse_args()
    django.setup()
    user_ids = arguments.users.read_text().split()
    asyncio.run(listen(user_ids, arguments.ready_file, arguments.expected, arguments.timeout))


if __name__ == "__main__":
    main()
