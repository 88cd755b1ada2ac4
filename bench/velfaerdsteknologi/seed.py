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


def seed(*, out: Path, device_count: int) -> None:
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from backend.models import Citizen, Municipality
    from bench.seed import seed as seed_citizens
    from velfaerdsteknologi.credentials import device_credential_issue
    from velfaerdsteknologi.models import Assignment, ConsentBasis, DeviceCategory, DeviceStatus
    from velfaerdsteknologi.services.alerts import device_model_create
    from velfaerdsteknologi.services.devices import device_register

    seed_citizens(out=out, citizen_count=device_count, staff_count=1)
    now = timezone.now()
    devices = []
    with transaction.atomic():
        municipality = Municipality.objects.get(code="999")
        model = device_model_create(
            manufacturer="Bench",
            model_number="FD-1",
            category=DeviceCategory.objects.get(code="fall_detector"),
            telemetry_kinds=["heartbeat", "battery", "fall"],
            heartbeat_interval_seconds=300,
            is_battery_powered=True,
        )
        citizens = list(Citizen.objects.filter(municipality=municipality).order_by("user__username"))
        for number, citizen in zip(range(device_count), citizens, strict=True):
            device = device_register(
                municipality=municipality, device_model=model, serial_number=f"BENCH-{number:04d}", by=None
            )
            Assignment.objects.create(
                device=device,
                citizen=citizen,
                installation_address=citizen.address_line,
                consent_basis=ConsentBasis.values[0],
                consent_review_on=(now + timedelta(days=365)).date(),
                consent_recorded_at=now,
                installed_at=now - timedelta(days=2),
            )
            device.status = DeviceStatus.IN_USE
            device.save(update_fields=["status"])
            devices.append({"id": str(device.pk), "token": device_credential_issue(device=device)[1]})
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
