import importlib

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from tests.factories import CitizenFactory, DeviceFactory
from velfaerdsteknologi.models import (
    Alert,
    AlertAudience,
    AlertRule,
    AlertSeverity,
    Assignment,
    DeviceCategory,
    DeviceModel,
    MaintenanceTask,
)

_SHIPPED_CATEGORIES = {
    code: {"name": name, "name_en": name_en, "is_surveillance": is_surveillance}
    for code, name, name_en, is_surveillance in importlib.import_module(
        "velfaerdsteknologi.migrations.0003_device_categories"
    ).CATEGORIES
}


def category(code: str) -> DeviceCategory:
    """A shipped category; recreated from the data migration's list after a transactional test flushed it."""
    return DeviceCategory.objects.get_or_create(code=code, defaults=_SHIPPED_CATEGORIES[code])[0]


class DeviceModelFactory(DjangoModelFactory):
    class Meta:
        model = DeviceModel

    manufacturer = "Tunstall"
    model_number = factory.Sequence(lambda n: f"M-{n:05d}")
    name = "Personlig alarm"
    category = factory.LazyFunction(lambda: category("fall_detector"))
    telemetry_kinds = factory.LazyFunction(lambda: ["heartbeat", "battery", "fall"])
    heartbeat_interval_seconds = 300
    is_battery_powered = True
    service_interval_days = 365
    test_call_interval_days = 30
    battery_check_interval_days = 90


class AlertRuleFactory(DjangoModelFactory):
    class Meta:
        model = AlertRule
        django_get_or_create = ("device_model", "kind")

    device_model = factory.SubFactory(DeviceModelFactory)
    kind = "fall"
    rule_type = AlertRule.Type.EVENT
    audience = AlertAudience.CARE


class AssignmentFactory(DjangoModelFactory):
    class Meta:
        model = Assignment

    device = factory.SubFactory(DeviceFactory)
    citizen = factory.SubFactory(CitizenFactory)
    installation_address = "Vestergade 12, 5000 Odense C"
    citizen_address_at_assignment = factory.LazyAttribute(
        lambda o: ", ".join(
            part for part in (o.citizen.address_line, f"{o.citizen.postcode} {o.citizen.city}".strip()) if part
        )
    )


class AlertFactory(DjangoModelFactory):
    class Meta:
        model = Alert

    device = factory.SubFactory(DeviceFactory)
    rule = factory.LazyAttribute(lambda o: AlertRuleFactory(device_model=o.device.model, kind=o.kind))
    kind = "fall"
    audience = AlertAudience.CARE
    severity = AlertSeverity.ALERT
    citizen = factory.SubFactory(CitizenFactory)
    opened_at = factory.LazyFunction(timezone.now)
    last_triggered_at = factory.LazyFunction(timezone.now)


class MaintenanceTaskFactory(DjangoModelFactory):
    class Meta:
        model = MaintenanceTask

    device = factory.SubFactory(DeviceFactory)
    kind = "service"
    due_on = factory.LazyFunction(timezone.localdate)
