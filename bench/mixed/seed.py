"""Seed the mixed load's database, and schedule its reminders just before the load starts.

Run by ``python -m bench.mixed`` in subprocesses with the run's environment::

    python -m bench.mixed.seed --out DIR --citizens 1000 --devices 100
    python -m bench.mixed.seed --out DIR --reminders-from 5 --reminders-for 600 --reminders-rate 2

The first form: ``bench.today.seed`` (one municipality, four teams, ``--citizens`` citizens with logins and
an active plan with two weeks of slots, 20 staff members with a care role in one of the first three teams),
then one fall-detector model and ``--devices`` devices in use, each at its own citizen with a token (as
``bench.velfaerdsteknologi.seed`` does). Writes ``citizens.txt`` (``user_id token`` a line, in the order of
``citizen_tokens.txt``), ``staff.txt`` (``user_id token team_id``), ``team_staff_tokens.txt`` (the tokens
of the first team's staff) and ``devices.json`` next to the token files.

The second form schedules training reminders for the citizens of ``citizens.txt`` in turn, one every
``1 / rate`` seconds from ``--reminders-from`` seconds from now for ``--reminders-for`` seconds, as the
reminder benchmark schedules them (``reminder.training``, one source each), and writes their count to
``reminders.txt``.
"""

import argparse
import json
import os
import sys
import uuid
from datetime import timedelta
from pathlib import Path


def seed(*, out: Path, citizen_count: int, device_count: int) -> None:
    from django.db import transaction

    from backend.models import Citizen, Membership, Municipality, Token, User
    from bench.today.seed import seed as seed_today
    from bench.velfaerdsteknologi.seed import install_devices

    seed_today(out=out, citizen_count=citizen_count)
    from backend.tokens import hash_secret

    def owners(path: Path) -> list[tuple[str, str]]:
        tokens = [line for line in path.read_text().split() if line]
        users = dict(
            Token.objects.filter(token_hash__in=[hash_secret(token) for token in tokens]).values_list(
                "token_hash", "session__user_id"
            )
        )
        return [(str(users[hash_secret(token)]), token) for token in tokens]

    citizens = owners(out / "citizen_tokens.txt")
    (out / "citizens.txt").write_text("".join(f"{user} {token}\n" for user, token in citizens))
    staff = owners(out / "staff_tokens.txt")
    teams = dict(Membership.objects.values_list("staff__user_id", "team_id"))
    (out / "staff.txt").write_text("".join(f"{user} {token} {teams[uuid.UUID(user)]}\n" for user, token in staff))
    first_team = teams[uuid.UUID(staff[0][0])]
    (out / "team_staff_tokens.txt").write_text(
        "".join(f"{token}\n" for user, token in staff if teams[uuid.UUID(user)] == first_team)
    )
    (out / "team.txt").write_text(f"{first_team}\n")

    with transaction.atomic():
        municipality = Municipality.objects.get(code="999")
        people = list(Citizen.objects.filter(municipality=municipality).order_by("user__username")[:device_count])
        devices = install_devices(
            municipality, people, serial_prefix="MIXED", heartbeat_interval_seconds=300, installed_days_ago=2
        )
    (out / "devices.json").write_text(json.dumps(devices, indent=1))
    assert User.objects.filter(pk__in=[user for user, _ in citizens]).count() == len(citizens)


def schedule_reminders(*, out: Path, start_in: float, duration: float, rate: float) -> int:
    from django.utils import timezone

    from notifications.models import ReminderOccurrence

    users = [line.split()[0] for line in (out / "citizens.txt").read_text().splitlines() if line.strip()]
    now = timezone.now()
    count = int(duration * rate)
    reminders = []
    for number in range(count):
        key = f"slot:{uuid.uuid4()}"
        due_at = now + timedelta(seconds=start_in + number / rate)
        reminders.append(
            ReminderOccurrence(
                recipient_id=users[number % len(users)],
                kind="reminder.training",
                source_key=key,
                subject_key=key,
                due_at=due_at,
                expires_at=due_at + timedelta(hours=8),
                refs={"slot_id": key.partition(":")[2]},
                created_at=now,
                updated_at=now,
            )
        )
    ReminderOccurrence.objects.bulk_create(reminders, batch_size=2000)
    (out / "reminders.txt").write_text(f"{count}\n")
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--citizens", type=int, default=1000)
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--reminders-from", type=float, default=None, help="schedule reminders (seconds from now)")
    parser.add_argument("--reminders-for", type=float, default=60)
    parser.add_argument("--reminders-rate", type=float, default=2)
    arguments = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    if arguments.reminders_from is not None:
        count = schedule_reminders(
            out=arguments.out,
            start_in=arguments.reminders_from,
            duration=arguments.reminders_for,
            rate=arguments.reminders_rate,
        )
        print(f"scheduled {count} reminders")
        return 0
    seed(out=arguments.out, citizen_count=arguments.citizens, device_count=arguments.devices)
    print(f"seeded {arguments.citizens} citizens and {arguments.devices} devices")
    return 0


if __name__ == "__main__":
    sys.exit(main())
