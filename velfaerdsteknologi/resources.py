"""Bulk CSV import and export of devices with django-import-export, shared by the admin and the API.

An import only registers new devices (a serial number already in the register is a row error), and it is all
or nothing: a dry run lists every row's errors and writes nothing; a real run with any error writes nothing.
"""

from dataclasses import dataclass
from typing import Any

import tablib
from django.db import transaction
from django.utils import timezone
from import_export import fields, resources, widgets

from backend.models import Municipality, User
from backend.timeutil import municipal_today
from velfaerdsteknologi.models import Device, DeviceModel, DeviceStatus, DeviceTransition
from velfaerdsteknologi.services.maintenance import maintenance_schedule

REQUIRED_COLUMNS = ("serial_number", "manufacturer", "model_number")
MAX_IMPORT_ROWS = 5000
# A cell starting with one of these is run as a formula by spreadsheet programs (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def spreadsheet_safe(value: Any) -> Any:
    """A text cell a spreadsheet shows as text: a leading apostrophe keeps it from being read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return f"'{value}"
    return value


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


@dataclass
class ImportReport:
    dry_run: bool
    rows: int
    created: int
    errors: list[dict[str, Any]]


def _code(error: Any) -> str:
    return getattr(error, "code", None) or "invalid"


def _errors(result: Any) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = [
        {"row": 0, "field": "csv", "message": str(error.error), "code": _code(error.error)}
        for error in result.base_errors
    ]
    for number, row_errors in result.row_errors():
        errors += [
            {"row": number, "field": "", "message": str(error.error), "code": _code(error.error)}
            for error in row_errors
        ]
    for invalid in result.invalid_rows:
        by_field = getattr(invalid.error, "error_dict", None) or {"__all__": invalid.error.error_list}
        for field, error_list in by_field.items():
            name = "model_number" if field == "model" else ("row" if field == "__all__" else field)
            errors += [
                {"row": invalid.number, "field": name, "message": " ".join(error.messages), "code": _code(error)}
                for error in error_list
            ]
    return errors


def devices_import(*, municipality: Municipality, by: User | None, csv_text: str, dry_run: bool) -> ImportReport:
    """Check (dry run) or import a CSV of devices. Any error anywhere means nothing is written."""
    try:
        dataset = tablib.Dataset().load(csv_text, format="csv")
    except Exception as exc:  # noqa: BLE001 — tablib raises many kinds on malformed input
        return ImportReport(
            dry_run, 0, 0, [{"row": 0, "field": "csv", "message": f"Not a readable CSV: {exc}", "code": "unreadable"}]
        )
    headers = [header.strip() for header in (dataset.headers or [])]
    dataset.headers = headers
    missing = [column for column in REQUIRED_COLUMNS if column not in headers]
    if missing:
        return ImportReport(
            dry_run,
            len(dataset),
            0,
            [
                {"row": 0, "field": "csv", "message": f"Missing column: {column}.", "code": "missing_column"}
                for column in missing
            ],
        )
    if len(dataset) > MAX_IMPORT_ROWS:
        return ImportReport(
            dry_run,
            len(dataset),
            0,
            [
                {
                    "row": 0,
                    "field": "csv",
                    "message": f"At most {MAX_IMPORT_ROWS} rows per import.",
                    "code": "too_many_rows",
                }
            ],
        )
    resource = DeviceResource(municipality=municipality, by=by)
    with transaction.atomic():
        result = resource.import_data(
            dataset, dry_run=dry_run, raise_errors=False, use_transactions=True, rollback_on_validation_errors=True
        )
    errors = _errors(result)
    created = 0 if errors else result.totals.get("new", 0)
    return ImportReport(dry_run, len(dataset), created, errors)


def devices_export(queryset: Any) -> str:
    return DeviceResource().export(queryset=queryset).export("csv")
