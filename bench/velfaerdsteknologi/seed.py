"""Seed the telemetry benchmark's database: devices in use at citizens' homes, each with a token.

Run by ``python -m bench.velfaerdsteknologi`` in a subprocess with the run's environment::

    python -m bench.velfaerdsteknologi.seed --out DIR --devices 20

Reuses ``bench.seed`` for the municipality, teams and citizens, then registers one fall-detector model
(with its default rules: missing heartbeat, low battery, fall), ``--devices`` devices of it, each
assigned to its own citizen with a recorded consent and installed, and issues each a token. Writes
``devices.json`` (device id and token per device) to ``--out``.
"""

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any


def install_devices(
    municipality: Any,
    citizens: list[Any],
    *,
    serial_prefix: str,
    heartbeat_interval_seconds: int,
    installed_days_ago: int,
    with_tokens: int | None = None,
) -> list[dict[str, str]]:
    """One fall-detector model (with its default rules: missing heartbeat, low battery, fall) and a device of it
    in use at each citizen's home, assigned with a recorded consent; the ids and tokens of the first
    ``with_tokens`` devices (all when None). The seeds of the telemetry, growth and mixed benchmarks use it."""
    from datetime import timedelta

    from django.utils import timezone

    from velfaerdsteknologi.credentials import device_credential_issue
    from velfaerdsteknologi.models import Assignment, ConsentBasis, Device, DeviceCategory, DeviceStatus
    from velfaerdsteknologi.services.alerts import device_model_create
    from velfaerdsteknologi.services.devices import device_register

    now = timezone.now()
    model = device_model_create(
        manufacturer="Bench",
        model_number="FD-1",
        category=DeviceCategory.objects.get(code="fall_detector"),
        telemetry_kinds=["heartbeat", "battery", "fall"],
        heartbeat_interval_seconds=heartbeat_interval_seconds,
        is_battery_powered=True,
    )
    devices = []
    for number, citizen in enumerate(citizens):
        device = device_register(
            municipality=municipality, device_model=model, serial_number=f"{serial_prefix}-{number:06d}", by=None
        )
        Assignment.objects.create(
            device=device,
            citizen=citizen,
            installation_address=citizen.address_line,
            consent_basis=ConsentBasis.values[0],
            consent_review_on=(now + timedelta(days=365)).date(),
            consent_recorded_at=now,
            installed_at=now - timedelta(days=installed_days_ago),
        )
        Device.objects.filter(pk=device.pk).update(status=DeviceStatus.IN_USE)
        if with_tokens is None or number < with_tokens:
            devices.append({"id": str(device.pk), "token": device_credential_issue(device=device)[1]})
    return devices


def seed(*, out: Path, device_count: int) -> None:
    from django.db import transaction

    from backend.models import Citizen, Municipality
    from bench.seed import seed as seed_citizens

    seed_citizens(out=out, citizen_count=device_count, staff_count=1)
    with transaction.atomic():
        municipality = Municipality.objects.get(code="999")
        citizens = list(Citizen.objects.filter(municipality=municipality).order_by("user__username")[:device_count])
        devices = install_devices(
            municipality, citizens, serial_prefix="BENCH", heartbeat_interval_seconds=300, installed_days_ago=2
        )
    (out / "devices.json").write_text(json.dumps(devices, indent=1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for devices.json")
    parser.add_argument("--devices", type=int, default=20)
    arguments = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    seed(out=arguments.out, device_count=arguments.devices)
    return 0


if __name__ == "__main__":
    sys.exit(main())
