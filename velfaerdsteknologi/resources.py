"""The admin's CSV import and export of devices with django-import-export (the superuser's tool). IT's pages and
the API import and export through ``velfaerdsteknologi.transfer``, set-based, for devices, models and assignments.

An import only registers new devices (a serial number already in the register is a row error), and it is all
or nothing: a dry run lists every row's errors and writes nothing; a real run with any error writes nothing.
"""

from typing import Any

from django.utils import timezone
from import_export import fields, resources, widgets

from backend.models import Municipality, User
from backend.timeutil import municipal_today
from velfaerdsteknologi.models import Device, DeviceModel, DeviceStatus, DeviceTransition
from velfaerdsteknologi.services.maintenance import maintenance_schedule
from velfaerdsteknologi.transfer import spreadsheet_safe


class DeviceModelWidget(widgets.ForeignKeyWidget):
    """Finds the catalogue model from the row's manufacturer and model number."""

    def __init__(self) -> None:
        super().__init__(DeviceModel, field="model_number")

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> DeviceModel | None:
        manufacturer = (row or {}).get("manufacturer") or ""
        if not value:
            raise ValueError("The model number is missing.")
        model = DeviceModel.objects.filter(manufacturer=manufacturer.strip(), model_number=str(value).strip()).first()
        if model is None:
            raise ValueError(f"Unknown device model: {manufacturer} {value}.")
        return model


class NullableCharWidget(widgets.CharWidget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str | None:
        text = super().clean(value, row, **kwargs)
        return text.strip() or None if text else None


class DeviceResource(resources.ModelResource):
    serial_number = fields.Field(attribute="serial_number", column_name="serial_number", widget=widgets.CharWidget())
    manufacturer = fields.Field(attribute="model__manufacturer", column_name="manufacturer", readonly=True)
    model = fields.Field(attribute="model", column_name="model_number", widget=DeviceModelWidget())
    imei = fields.Field(attribute="imei", column_name="imei", widget=NullableCharWidget())
    mac_address = fields.Field(attribute="mac_address", column_name="mac_address", widget=NullableCharWidget())
    status = fields.Field(attribute="status", column_name="status", readonly=True)

    class Meta:
        model = Device
        fields = (
            "serial_number",
            "manufacturer",
            "model",
            "imei",
            "mac_address",
            "firmware_version",
            "purchase_date",
            "warranty_end",
            "next_service_due",
            "location",
            "status",
            "last_seen_at",
            "battery_level",
        )
        export_order = fields
        import_id_fields: tuple[str, ...] = ()
        clean_model_instances = True
        use_transactions = True
        skip_diff = True

    def __init__(self, municipality: Municipality | None = None, by: User | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.municipality = municipality
        self.by = by

    def export_field(self, field: Any, instance: Any, **kwargs: Any) -> Any:
        return spreadsheet_safe(super().export_field(field, instance, **kwargs))

    def get_instance(self, instance_loader: Any, row: Any) -> None:
        return None

    def get_import_fields(self) -> list[Any]:
        return [
            field for field in super().get_import_fields() if field.column_name not in ("last_seen_at", "battery_level")
        ]

    def init_instance(self, row: Any = None) -> Device:
        return Device(municipality=self.municipality, status=DeviceStatus.IN_STOCK, status_changed_at=timezone.now())

    def after_save_instance(self, instance: Device, row: Any, **kwargs: Any) -> None:
        DeviceTransition.objects.create(
            device=instance, from_status="", to_status=DeviceStatus.IN_STOCK, by=self.by, reason="Importeret fra CSV"
        )
        maintenance_schedule(device=instance, today=municipal_today())
