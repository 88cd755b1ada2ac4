"""The benchmark's publisher: raises the events whose delivery the harness times, in a process of its own.

    python -m bench.realtime.publisher mestring-team --team ID             (one event per "fire" line on stdin)
    python -m bench.realtime.publisher raw-team --ports P[,P] --team ID
    python -m bench.realtime.publisher mestring-personal --targets FILE --rate R --duration S --out FILE
    python -m bench.realtime.publisher raw-personal --targets FILE --rate R --duration S --out FILE

``mestring-team`` is what production does for a team's live event: ``notify(team_ids=[team])`` stores a
stream event and sends it to the group ``team.<id>`` over the Redis pub/sub channel layer after commit.
``mestring-personal`` stores one notification and stream event per recipient first (untimed), then
sends their channel-layer messages (``notifications.streams.stream_message``) to ``user.<id>`` groups
at a fixed rate, open loop: message k is due at ``start + k / rate``. The ``raw-*`` modes send frames of
the same JSON shape and size through the raw server's control socket. The team modes fire one event
per ``fire`` line after an unmeasured warm-up one and answer ``[event_id, called, returned]``
(``mestring-team`` also takes ``change``: a membership of the team changed first, so the access version
rises and the hub must check every socket's access again before it delivers); the
personal modes write ``[[event_id, due, sent], ...]`` to ``--out``. Times are ``time.monotonic()``.
"""

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import uvloop
from websockets.asyncio.client import connect


def read_targets(path: Path, count: int) -> list[tuple[int, str, str]]:
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    return [
        (int(rows[index % len(rows)][0]), rows[index % len(rows)][1], rows[index % len(rows)][2])
        for index in range(count)
    ]


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def fire_on_command(fire: Any, change: Any = None) -> None:
    """One event per line read from stdin, each answered with ``[event_id, called, returned]``: ``fire``
    raises it; ``change`` first commits a change of access (``change``, untimed), then raises it."""
    fire()  # warm-up: connections to PostgreSQL and Redis, imports, first-call caches
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "change" and change is not None:
            change()
        elif command != "fire":
            break
        print(json.dumps(fire()), flush=True)


def mestring_team(team_id: str) -> None:
    django_setup()
    from datetime import date

    from backend.models import Membership
    from notifications.models import StreamEvent
    from notifications.services import notify

    membership = Membership.objects.filter(team_id=team_id).order_by("pk").first()
    assert membership is not None  # noqa: S101 (the seed makes the team's members)
    last_days = iter([date(2099, 12, 31), None] * (1 << 20))

    def change() -> None:
        """A membership of the team changed (its last day set or cleared, access kept): the database raises
        the access version, so the next event's sockets must have their access checked again."""
        Membership.objects.filter(pk=membership.pk).update(valid_to=next(last_days))

    def fire() -> list[Any]:
        called = time.monotonic()
        notify(
            recipients=[],
            kind="session.logged",
            refs={"citizen_id": uuid.uuid4(), "session_log_id": int(called * 1000)},
            team_ids=[team_id],
        )
        returned = time.monotonic()
        event_id = StreamEvent.objects.filter(team_id=team_id).order_by("-id").values_list("id", flat=True)[0]
        return [event_id, called, returned]

    fire_on_command(fire, change)


def mestring_personal(targets: list[tuple[int, str, str]], rate: float) -> list[list[Any]]:
    django_setup()
    from channels.layers import get_channel_layer
    from django.db import transaction
    from django.utils import timezone

    from notifications import texts
    from notifications.models import Notification, StreamEvent
    from notifications.streams import NOTIFICATION_EVENT, stream_message, user_group

    rendered = texts.render("request.answered")
    now = timezone.now()
    with transaction.atomic():
        notifications = Notification.objects.bulk_create(
            [
                Notification(
                    recipient_id=user_id,
                    kind="request.answered",
                    text_da=rendered.text_da,
                    text_en=rendered.text_en,
                    push_text_da=rendered.push_text_da,
                    push_text_en=rendered.push_text_en,
                    refs={"request_id": str(uuid.uuid4())},
                    created_at=now,
                )
                for _port, user_id, _token in targets
            ],
            batch_size=2000,
        )
        events = StreamEvent.objects.bulk_create(
            [
                StreamEvent(
                    user_id=notification.recipient_id,
                    type=NOTIFICATION_EVENT,
                    payload={"id": str(notification.pk)},
                    created_at=now,
                )
                for notification in notifications
            ],
            batch_size=2000,
        )
    messages = [(user_group(event.user_id), stream_message(event)) for event in events]

    async def publish() -> list[list[Any]]:
        layer = get_channel_layer()
        await layer.group_send("bench.warmup", {"type": "bench.warmup"})
        sent: list[list[Any]] = []
        start = time.monotonic() + 0.5
        for number, (group, message) in enumerate(messages):
            due = start + number / rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            sent_at = time.monotonic()
            await layer.group_send(group, message)
            sent.append([message["event_id"], due, sent_at])
        return sent

    return uvloop.run(publish())


def raw_team(ports: list[int], team_id: str) -> None:
    loop = uvloop.new_event_loop()
    controls = [loop.run_until_complete(connect(f"ws://127.0.0.1:{port}/control", compression=None)) for port in ports]
    numbers = iter(range(1, 1 << 30))

    async def send_all(command: str) -> None:
        for control in controls:
            await control.send(command)

    def fire() -> list[Any]:
        event_id = next(numbers)
        frame = json.dumps(
            {
                "type": "team_event",
                "event_id": event_id,
                "team_id": team_id,
                "kind": "session.logged",
                "refs": {"citizen_id": str(uuid.uuid4()), "session_log_id": int(time.monotonic() * 1000)},
            }
        )
        called = time.monotonic()
        loop.run_until_complete(send_all(json.dumps({"op": "broadcast", "frame": frame})))
        return [event_id, called, time.monotonic()]

    fire_on_command(fire)
    for control in controls:
        loop.run_until_complete(control.close())


def raw_personal(targets: list[tuple[int, str, str]], rate: float) -> list[list[Any]]:
    async def publish() -> list[list[Any]]:
        controls = {
            port: await connect(f"ws://127.0.0.1:{port}/control", compression=None) for port in {t[0] for t in targets}
        }
        commands = []
        for number, (port, _user_id, token) in enumerate(targets):
            frame = json.dumps({"type": "notification", "event_id": number + 1, "id": str(uuid.uuid4())})
            commands.append((number + 1, controls[port], json.dumps({"op": "send", "token": token, "frame": frame})))
        sent: list[list[Any]] = []
        start = time.monotonic() + 0.5
        for number, (event_id, control, command) in enumerate(commands):
            due = start + number / rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            sent_at = time.monotonic()
            await control.send(command)
            sent.append([event_id, due, sent_at])
        for control in controls.values():
            await control.close()
        return sent

    return uvloop.run(publish())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["mestring-team", "mestring-personal", "raw-team", "raw-personal"])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--team", default="")
    parser.add_argument("--ports", default="")
    parser.add_argument("--targets", type=Path)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--duration", type=float, default=20.0)
    arguments = parser.parse_args(argv)
    count = int(arguments.rate * arguments.duration)
    if arguments.mode == "mestring-team":
        mestring_team(arguments.team)
        return 0
    if arguments.mode == "raw-team":
        raw_team([int(port) for port in arguments.ports.split(",")], arguments.team)
        return 0
    if arguments.mode == "mestring-personal":
        sent = mestring_personal(read_targets(arguments.targets, count), arguments.rate)
    else:
        sent = raw_personal(read_targets(arguments.targets, count), arguments.rate)
    if arguments.out is None:
        parser.error("--out is required for the personal modes")
    arguments.out.write_text(json.dumps(sent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
