"""Demo welfare technology: a few catalogue models, devices in stock, and a GPS fall detector installed at
borger1's with a recorded consent. Run after seed_demo; safe to run any number of times."""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from backend.actors import Actor
from backend.models import Citizen, Municipality, User
from velfaerdsteknologi.models import Assignment, ConsentBasis, Device, DeviceCategory, DeviceModel, DeviceStatus
from velfaerdsteknologi.services.alerts import alert_rules_default
from velfaerdsteknologi.services.assignments import device_assign
from velfaerdsteknologi.services.devices import device_register, device_transition
from velfaerdsteknologi.services.maintenance import maintenance_schedule
from velfaerdsteknologi.services.telemetry import IncomingReading, telemetry_ingest

# manufacturer, model number, name, category, telemetry kinds, heartbeat seconds, battery, service/test/battery days
MODELS = [
    (
        "Tunstall",
        "Vi+ GPS",
        "Faldalarm med GPS",
        "fall_detector",
        ["heartbeat", "battery", "fall", "location"],
        300,
        True,
        (365, 30, 90),
    ),
    (
        "Evondos",
        "E300",
        "Medicinrobot",
        "medicine_dispenser",
        ["heartbeat", "dose_taken", "dose_missed"],
        600,
        False,
        (365, None, None),
    ),
    (
        "Sensara",
        "Bed-S1",
        "Sengesensor",
        "bed_sensor",
        ["heartbeat", "battery", "bed_exit"],
        900,
        True,
        (730, None, 180),
    ),
]
DEVICES = [
    ("Vi+ GPS", "VIG-0001"),
    ("Vi+ GPS", "VIG-0002"),
    ("Vi+ GPS", "VIG-0003"),
    ("E300", "EVO-0001"),
    ("E300", "EVO-0002"),
    ("Bed-S1", "BED-0001"),
    ("Bed-S1", "BED-0002"),
]
DEMO_CPR_OWNER = "borger1"
# The medicine robot reserved for borger2 (installation in three days) and the bed sensors' lifecycle steps, so
# that the IT pages show devices in several states.
RESERVED_FOR = "borger2"
STEPS = {"BED-0002": [(DeviceStatus.IN_REPAIR, "Sensoren melder fejl; sendt til leverandøren")]}
TELEMETRY_DAYS = 30


class Command(BaseCommand):
    help = "Load demo device models and devices, and install a fall detector at borger1's (idempotent)."

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        municipality = Municipality.objects.filter(code="461").first()
        citizen = Citizen.objects.filter(user__username=DEMO_CPR_OWNER).first()
        it_user = User.objects.filter(username="it").first()
        if municipality is None or citizen is None:
            raise CommandError("Run seed_demo first.")
        models = {}
        for manufacturer, number, name, category, kinds, heartbeat, battery, intervals in MODELS:
            model, created = DeviceModel.objects.update_or_create(
                manufacturer=manufacturer,
                model_number=number,
                defaults={
                    "name": name,
                    "category": DeviceCategory.objects.get(code=category),
                    "telemetry_kinds": kinds,
                    "heartbeat_interval_seconds": heartbeat,
                    "is_battery_powered": battery,
                    "service_interval_days": intervals[0],
                    "test_call_interval_days": intervals[1],
                    "battery_check_interval_days": intervals[2],
                },
            )
            if created:
                alert_rules_default(device_model=model)
            models[number] = model
        for number, serial in DEVICES:
            if not Device.objects.filter(model=models[number], serial_number=serial).exists():
                device_register(
                    municipality=municipality,
                    device_model=models[number],
                    serial_number=serial,
                    by=it_user,
                    location="Hjælpemiddeldepotet",
                )
        fall_detector = Device.objects.get(model=models["Vi+ GPS"], serial_number="VIG-0001")
        if not Assignment.objects.filter(device=fall_detector, returned_at__isnull=True).exists():
            now = timezone.now()
            address = f"{citizen.address_line}, {citizen.postcode} {citizen.city}"
            Assignment.objects.create(
                device=fall_detector,
                citizen=citizen,
                installation_address=address,
                citizen_address_at_assignment=address,
                planned_install_on=date(2026, 1, 15),
                installed_at=now,
                installed_by=it_user,
                consent_basis=ConsentBasis.CONSENT,
                consent_reference="Samtykke givet mundtligt til terapeut, journalført",
                consent_review_on=timezone.localdate() + timedelta(days=180),
                consent_recorded_at=now,
                consent_recorded_by=it_user,
                created_by=it_user,
            )
            for status in (DeviceStatus.RESERVED, DeviceStatus.IN_USE):
                fall_detector.transitions.create(
                    from_status=fall_detector.status, to_status=status, by=it_user, reason="Demodata"
                )
                fall_detector.status = status
            fall_detector.location = address
            fall_detector.status_changed_at = now
            fall_detector.save()
            maintenance_schedule(device=fall_detector, today=timezone.localdate())
        self._telemetry(fall_detector)
        self._reserve(models["E300"], it_user)
        for serial, steps in STEPS.items():
            device = Device.objects.get(serial_number=serial, municipality=municipality)
            if not device.transitions.filter(reason=steps[0][1]).exists():
                for status, reason in steps:
                    device_transition(device=device, to_status=status, by=it_user, reason=reason)
        self.stdout.write(
            f"Welfare-technology demo ready: {len(MODELS)} models, {len(DEVICES)} devices, "
            f"fall detector VIG-0001 installed at {DEMO_CPR_OWNER}'s with recorded consent, "
            f"EVO-0001 reserved for {RESERVED_FOR}, BED-0002 in repair."
        )

    def _telemetry(self, device: Device) -> None:
        """A month of heartbeats (every six hours) and a battery slowly running down, sent through ingest as the
        device would; the sequence numbers are the hours since the epoch, so a second run adds only what is new."""
        now = timezone.now().replace(minute=0, second=0, microsecond=0)
        readings = []
        for hours in range(TELEMETRY_DAYS * 24, -1, -6):
            at = now - timedelta(hours=hours)
            sequence = int(at.timestamp() // 3600)
            readings.append(IncomingReading(sequence * 2, "heartbeat", None, at))
            if at.hour < 6:
                readings.append(IncomingReading(sequence * 2 + 1, "battery", round(95 - 40 * (1 - hours / 720)), at))
        telemetry_ingest(device=device, readings=readings)

    def _reserve(self, medicine_robot: DeviceModel, it_user: User | None) -> None:
        citizen = Citizen.objects.filter(user__username=RESERVED_FOR).first()
        device = Device.objects.get(model=medicine_robot, serial_number="EVO-0001")
        if citizen is None or it_user is None or device.assignments.exists():
            return
        device_assign(
            device=device,
            citizen=citizen,
            by=Actor(user=it_user),
            planned_install_on=timezone.localdate() + timedelta(days=3),
        )
