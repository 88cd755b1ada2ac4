"""CSV import and export of the device register, the catalogue's models and the devices' assignments.

One reader, one checker and one all-or-nothing writer serve the three tables; each table says its columns, how
its rows are checked and how checked rows are written. A file is checked as a whole: every cell against the
API's own input schema, and every look-up (models, serial numbers, citizens) done once for the file, not per
row. A dry run reports each row's errors and writes nothing; a real run with any error writes nothing. The
writes are set-based (a few bulk inserts in one transaction) and keep what the one-at-a-time services keep:
a device's first lifecycle step and maintenance schedule with its reminders, a model's default alert rules,
an assignment's reservation step and its access-log row.

Cells that a spreadsheet would run as a formula are refused on import and escaped on export.
"""

import csv
import io
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from pydantic import BaseModel, ValidationError

from backend import cpr
from backend.actors import Actor
from backend.audit import access_log_record
from backend.models import AccessLogEntry, Citizen, Municipality, User
from backend.timeutil import municipal_today
from velfaerdsteknologi import schemas
from velfaerdsteknologi.models import (
    AlertRule,
    Assignment,
    Device,
    DeviceCategory,
    DeviceModel,
    DeviceStatus,
    DeviceTransition,
)
from velfaerdsteknologi.services.alerts import alert_rules_default_rows
from velfaerdsteknologi.services.assignments import RESOURCE as ASSIGNMENT_RESOURCE
from velfaerdsteknologi.services.assignments import citizen_address
from velfaerdsteknologi.services.maintenance import maintenance_first_tasks, maintenance_first_tasks_save

MAX_IMPORT_ROWS = 5000
# A cell starting with one of these is run as a formula by spreadsheet programs (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
IMPORTED_REASON = "Importeret fra CSV"
BATCH = 1000


def spreadsheet_safe(value: Any) -> Any:
    """A text cell a spreadsheet shows as text: a leading apostrophe keeps it from being read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return f"'{value}"
    return value


@dataclass
class ImportReport:
    dry_run: bool
    rows: int
    created: int
    errors: list[dict[str, Any]]


@dataclass
class Job:
    """One import: whose, by whom, and the errors found so far (row 0 is the file itself)."""

    municipality: Municipality
    by: User | None
    actor: Actor | None
    dry_run: bool
    today: date = field(default_factory=municipal_today)
    errors: list[dict[str, Any]] = field(default_factory=list)
    refused_rows: set[int] = field(default_factory=set)

    def refuse(self, row: int, column: str, message: str, code: str = "invalid") -> None:
        self.errors.append({"row": row, "field": column, "message": message, "code": code})
        self.refused_rows.add(row)


@dataclass
class Row:
    """A data row: its number (1 is the first row after the header) and its cells by column."""

    number: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "")


# --- Cells against the API's input schemas ---------------------------------------------------------------------

SCHEMA_CODES = {
    "missing": "required",
    "string_too_short": "required",
    "string_too_long": "max_length",
    "string_pattern_mismatch": "pattern",
    "literal_error": "choice",
    "date_from_datetime_parsing": "date",
    "date_parsing": "date",
    "date_type": "date",
    "int_parsing": "number",
    "int_from_float": "number",
    "greater_than_equal": "number_range",
    "less_than_equal": "number_range",
    "bool_parsing": "boolean",
    "too_long": "max_length",
}


def schema_checked[S: BaseModel](
    job: Job, row: Row, schema: type[S], data: dict[str, Any], columns: dict[str, str] | None = None
) -> S | None:
    """``data`` checked by the API's schema; each refusal is the row's error on its column (``columns`` maps
    the schema's names to the file's)."""
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else ""
            job.refuse(
                row.number, (columns or {}).get(name, name), error["msg"], SCHEMA_CODES.get(error["type"], "invalid")
            )
        return None


def _present(cells: dict[str, str], columns: Iterable[str]) -> dict[str, str]:
    """The given cells of ``columns``: an empty cell is left out, so the schema's default applies."""
    return {column: cells[column] for column in columns if cells.get(column, "") != ""}


# --- The tables ------------------------------------------------------------------------------------------------


class Table:
    """What one kind of file holds: its columns and how its rows are checked, written and exported."""

    name: ClassVar[str]
    required: ClassVar[tuple[str, ...]]
    optional: ClassVar[tuple[str, ...]]
    export_columns: ClassVar[tuple[str, ...]]

    def check(self, rows: list[Row], job: Job) -> list[Any]:
        """Refuse what is wrong with the rows; return what to write for the rows found good."""
        raise NotImplementedError

    def write(self, items: list[Any], job: Job) -> int:
        raise NotImplementedError

    def export_row(self, item: Any) -> list[Any]:
        raise NotImplementedError


def _models_by_number(rows: list[Row], job: Job, *, select: Callable[[QuerySet], QuerySet] | None = None) -> dict:
    """The catalogue models the rows name by manufacturer and model number, in one query; unknown ones are
    refused on the row's ``model_number``."""
    pairs = {(row.get("manufacturer"), row.get("model_number")) for row in rows}
    query = Q()
    for manufacturer, model_number in pairs:
        query |= Q(manufacturer=manufacturer, model_number=model_number)
    queryset = DeviceModel.objects.filter(query) if pairs else DeviceModel.objects.none()
    if select is not None:
        queryset = select(queryset)
    models = {(model.manufacturer, model.model_number): model for model in queryset}
    for row in rows:
        key = (row.get("manufacturer"), row.get("model_number"))
        if key[1] and key not in models:
            job.refuse(row.number, "model_number", f"Unknown device model: {key[0]} {key[1]}.", "unknown_model")
    return models


def _iso(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    return value.isoformat()


class DeviceTable(Table):
    """New devices in stock, each of a catalogue model (named by manufacturer and model number)."""

    name = "devices"
    required = ("serial_number", "manufacturer", "model_number")
    optional = ("imei", "mac_address", "firmware_version", "purchase_date", "warranty_end", "location")
    export_columns = (
        "serial_number",
        "manufacturer",
        "model_number",
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

    def check(self, rows: list[Row], job: Job) -> list[Any]:
        models = _models_by_number(rows, job, select=lambda queryset: queryset.select_related("category"))
        checked: list[tuple[Row, DeviceModel, schemas.DeviceIn]] = []
        for row in rows:
            model = models.get((row.get("manufacturer"), row.get("model_number")))
            data: dict[str, Any] = _present(row.cells, ("serial_number", *self.optional))
            if row.get("model_number"):  # an unknown model is refused above; a missing one by the schema
                data["model_id"] = model.pk if model else AssignmentTable.PLACEHOLDER
            device_in = schema_checked(job, row, schemas.DeviceIn, data, {"model_id": "model_number"})
            if model is not None and device_in is not None:
                checked.append((row, model, device_in))
        self._refuse_duplicates(checked, job)
        return [(model, device_in) for row, model, device_in in checked if row.number not in job.refused_rows]

    def _refuse_duplicates(self, checked: list[tuple[Row, DeviceModel, Any]], job: Job) -> None:
        """A serial number is once per model, an IMEI and a MAC address once in all: in the file and in the
        register (three queries whatever the file's length)."""
        keys: dict[str, list[tuple[Any, Row]]] = {
            "serial_number": [((model.pk, item.serial_number), row) for row, model, item in checked],
            "imei": [(item.imei, row) for row, _, item in checked if item.imei],
            "mac_address": [(item.mac_address.upper(), row) for row, _, item in checked if item.mac_address],
        }
        for column, pairs in keys.items():
            counts = Counter(key for key, _ in pairs)
            for key, row in pairs:
                if counts[key] > 1:
                    job.refuse(row.number, column, "The same value is on another row of the file.", "duplicate_in_file")
        serials = {serial for (_, serial), _ in keys["serial_number"]}
        taken_serials = set(
            Device.objects.filter(
                serial_number__in=serials, model_id__in={model_id for (model_id, _), _ in keys["serial_number"]}
            ).values_list("model_id", "serial_number")
        )
        taken_imei = set(
            Device.objects.filter(imei__in=[imei for imei, _ in keys["imei"]]).values_list("imei", flat=True)
        )
        macs = [mac for mac, _ in keys["mac_address"]]  # upper case; stored as registered
        taken_mac = {
            str(mac).upper()
            for mac in Device.objects.filter(mac_address__in=[*macs, *(mac.lower() for mac in macs)]).values_list(
                "mac_address", flat=True
            )
        }
        for column, taken in (("serial_number", taken_serials), ("imei", taken_imei), ("mac_address", taken_mac)):
            for key, row in keys[column]:
                if key in taken:
                    message = "A device with this value is already in the register."
                    job.refuse(row.number, column, message, "duplicate")

    def write(self, items: list[tuple[DeviceModel, schemas.DeviceIn]], job: Job) -> int:
        now = timezone.now()
        devices = [
            Device(
                municipality=job.municipality,
                model=model,
                status=DeviceStatus.IN_STOCK,
                status_changed_at=now,
                **device_in.model_dump(exclude={"model_id"}),
            )
            for model, device_in in items
        ]
        tasks = maintenance_first_tasks(devices=devices, today=job.today)
        Device.objects.bulk_create(devices, batch_size=BATCH)
        DeviceTransition.objects.bulk_create(
            [
                DeviceTransition(
                    device=device, from_status="", to_status=DeviceStatus.IN_STOCK, by=job.by, reason=IMPORTED_REASON
                )
                for device in devices
            ],
            batch_size=BATCH,
        )
        maintenance_first_tasks_save(tasks=tasks, municipality_id=job.municipality.pk)
        return len(devices)

    def export_row(self, device: Device) -> list[Any]:
        return [
            device.serial_number,
            device.model.manufacturer,
            device.model.model_number,
            device.imei or "",
            device.mac_address or "",
            device.firmware_version,
            _iso(device.purchase_date),
            _iso(device.warranty_end),
            _iso(device.next_service_due),
            device.location,
            device.status,
            _iso(device.last_seen_at),
            "" if device.battery_level is None else device.battery_level,
        ]


TRUE_WORDS = {"ja": True, "true": True, "1": True, "nej": False, "false": False, "0": False}


class DeviceModelTable(Table):
    """New catalogue models; each gets the default alert rules ``device_model_create`` gives one model."""

    name = "device_models"
    required = ("manufacturer", "model_number", "category")
    optional = (
        "name",
        "telemetry_kinds",
        "heartbeat_interval_seconds",
        "is_battery_powered",
        "service_interval_days",
        "test_call_interval_days",
        "battery_check_interval_days",
    )
    export_columns = (*required, *optional, "needs_consent")

    def check(self, rows: list[Row], job: Job) -> list[Any]:
        categories = {category.code: category for category in DeviceCategory.objects.all()}
        checked: list[tuple[Row, schemas.DeviceModelIn]] = []
        for row in rows:
            data: dict[str, Any] = _present(row.cells, (*self.required, *self.optional))
            if "telemetry_kinds" in data:
                data["telemetry_kinds"] = [kind for kind in data["telemetry_kinds"].replace(";", " ").split() if kind]
            if "is_battery_powered" in data:
                word = data["is_battery_powered"].strip().lower()
                if word not in TRUE_WORDS:
                    job.refuse(row.number, "is_battery_powered", "Write ja or nej.", "boolean")
                    continue
                data["is_battery_powered"] = TRUE_WORDS[word]
            model_in = schema_checked(job, row, schemas.DeviceModelIn, data)
            if model_in is None:
                continue
            if model_in.category not in categories:
                job.refuse(row.number, "category", f"Unknown category {model_in.category!r}.", "unknown_category")
                continue
            checked.append((row, model_in))
        pairs = [((item.manufacturer, item.model_number), row) for row, item in checked]
        counts = Counter(key for key, _ in pairs)
        query = Q()
        for (manufacturer, model_number), _ in pairs:
            query |= Q(manufacturer=manufacturer, model_number=model_number)
        taken = set(DeviceModel.objects.filter(query).values_list("manufacturer", "model_number")) if pairs else set()
        for key, row in pairs:
            if counts[key] > 1:
                job.refuse(
                    row.number, "model_number", "The same model is on another row of the file.", "duplicate_in_file"
                )
            elif key in taken:
                job.refuse(row.number, "model_number", "This model is already in the catalogue.", "duplicate")
        return [(categories[item.category], item) for row, item in checked if row.number not in job.refused_rows]

    def write(self, items: list[tuple[DeviceCategory, schemas.DeviceModelIn]], job: Job) -> int:
        models = [DeviceModel(category=category, **item.model_dump(exclude={"category"})) for category, item in items]
        DeviceModel.objects.bulk_create(models, batch_size=BATCH)
        AlertRule.objects.bulk_create(alert_rules_default_rows(models), batch_size=BATCH)
        return len(models)

    def export_row(self, model: DeviceModel) -> list[Any]:
        return [
            model.manufacturer,
            model.model_number,
            model.category_id,
            model.name,
            ";".join(model.telemetry_kinds or []),
            "" if model.heartbeat_interval_seconds is None else model.heartbeat_interval_seconds,
            "ja" if model.is_battery_powered else "nej",
            "" if model.service_interval_days is None else model.service_interval_days,
            "" if model.test_call_interval_days is None else model.test_call_interval_days,
            "" if model.battery_check_interval_days is None else model.battery_check_interval_days,
            "ja" if model.is_surveillance else "nej",
        ]


@dataclass
class _Assignment:
    row: Row
    device: Device
    citizen: Citizen
    item: schemas.AssignmentIn


class AssignmentTable(Table):
    """Devices in stock reserved for citizens found by CPR number (the keyed hash; the number is never stored),
    with the consent or legal basis and review date a surveillance-type device needs, as ``device_assign``."""

    name = "assignments"
    required = ("serial_number", "manufacturer", "model_number", "cpr")
    optional = (
        "installation_address",
        "planned_install_on",
        "planned_return_on",
        "consent_basis",
        "consent_reference",
        "consent_review_on",
    )
    export_columns = (
        "serial_number",
        "manufacturer",
        "model_number",
        "citizen_name",
        "installation_address",
        "planned_install_on",
        "installed_at",
        "planned_return_on",
        "returned_at",
        "consent_basis",
        "consent_reference",
        "consent_review_on",
    )
    PLACEHOLDER = UUID("00000000-0000-4000-8000-000000000000")

    def check(self, rows: list[Row], job: Job) -> list[Any]:
        models = _models_by_number(rows, job)
        citizens = self._citizens(rows, job)
        devices = self._devices(rows, models, job)
        found: list[_Assignment] = []
        for row in rows:
            data = {
                **_present(row.cells, self.optional),
                "device_id": self.PLACEHOLDER,
                "citizen_id": self.PLACEHOLDER,
            }
            item = schema_checked(job, row, schemas.AssignmentIn, data)
            device = devices.get(row.number)
            citizen = citizens.get(row.number)
            if item is None or device is None or citizen is None:
                continue
            if self._rules_kept(row, device, citizen, item, job):
                found.append(_Assignment(row, device, citizen, item))
        counts = Counter(entry.device.pk for entry in found)
        for entry in found:
            if counts[entry.device.pk] > 1:
                job.refuse(
                    entry.row.number, "serial_number", "The device is on another row of the file.", "duplicate_in_file"
                )
        return [entry for entry in found if entry.row.number not in job.refused_rows]

    def _citizens(self, rows: list[Row], job: Job) -> dict[int, Citizen]:
        """Each row's citizen of the municipality, found by the keyed hash of the CPR number in one query."""
        hashes: dict[int, str] = {}
        for row in rows:
            try:
                hashes[row.number] = cpr.keyed_hash(cpr.CprNumber.parse(row.get("cpr")))
            except cpr.InvalidCpr:
                job.refuse(row.number, "cpr", "Not a CPR number.", "cpr")
        by_hash = {
            citizen.cpr_hash: citizen
            for citizen in Citizen.objects.filter(
                municipality=job.municipality, cpr_hash__in=set(hashes.values())
            ).only("pk", "cpr_hash", "deceased_on", "address_line", "postcode", "city")
        }
        found = {}
        for number, keyed in hashes.items():
            citizen = by_hash.get(keyed)
            if citizen is None or citizen.deceased_on is not None:
                job.refuse(number, "cpr", "No living citizen with this CPR number in the municipality.", "citizen")
            else:
                found[number] = citizen
        return found

    def _devices(self, rows: list[Row], models: dict, job: Job) -> dict[int, Device]:
        """Each row's device of the municipality, in one query (locked for the real run)."""
        wanted = {
            row.number: (models[named].pk, row.get("serial_number"))
            for row in rows
            if (named := (row.get("manufacturer"), row.get("model_number"))) in models
        }
        devices = Device.objects.filter(
            municipality=job.municipality,
            model_id__in={model_id for model_id, _ in wanted.values()},
            serial_number__in={serial for _, serial in wanted.values()},
        ).select_related("model__category")
        if not job.dry_run:
            devices = devices.select_for_update(of=("self",))
        by_key = {(device.model_id, device.serial_number): device for device in devices}
        found = {}
        for number, key in wanted.items():
            device = by_key.get(key)
            if device is None:
                job.refuse(
                    number, "serial_number", "No device of this model with this serial number.", "unknown_device"
                )
            elif device.status != DeviceStatus.IN_STOCK:
                job.refuse(
                    number,
                    "serial_number",
                    f"Only a device in stock can be assigned; this one is {device.status}.",
                    "device_not_in_stock",
                )
            else:
                found[number] = device
        return found

    def _rules_kept(self, row: Row, device: Device, citizen: Citizen, item: Any, job: Job) -> bool:
        """The rules ``device_assign`` keeps for one assignment."""
        before = len(job.errors)
        if item.planned_return_on and item.planned_install_on and item.planned_return_on < item.planned_install_on:
            job.refuse(row.number, "planned_return_on", "The return cannot be planned before the installation.")
        if device.model.is_surveillance:
            if not item.consent_basis:
                job.refuse(
                    row.number,
                    "consent_basis",
                    "A surveillance-type device needs a consent or legal basis.",
                    "consent_required",
                )
            if item.consent_review_on is None:
                job.refuse(
                    row.number,
                    "consent_review_on",
                    "A surveillance-type device needs a review date.",
                    "consent_required",
                )
        if item.consent_review_on is not None and item.consent_review_on <= job.today:
            job.refuse(row.number, "consent_review_on", "The review date must lie in the future.", "review_date")
        if item.consent_basis and item.consent_review_on is None:
            job.refuse(
                row.number, "consent_review_on", "A consent or legal basis needs a review date.", "consent_required"
            )
        if not (item.installation_address or citizen_address(citizen)):
            job.refuse(row.number, "installation_address", "The citizen has no address on record; give one.", "address")
        return len(job.errors) == before

    def write(self, items: list[_Assignment], job: Job) -> int:
        assert job.actor is not None
        now = timezone.now()
        by = job.actor.user
        assignments = []
        for entry in items:
            home = citizen_address(entry.citizen)
            values = entry.item.model_dump(exclude={"device_id", "citizen_id", "episode_id", "goal_id"})
            values["installation_address"] = values["installation_address"] or home
            assignments.append(
                Assignment(
                    device=entry.device,
                    citizen=entry.citizen,
                    citizen_address_at_assignment=home,
                    consent_recorded_at=now if values["consent_basis"] else None,
                    consent_recorded_by=by if values["consent_basis"] else None,
                    created_by=by,
                    **values,
                )
            )
        Assignment.objects.bulk_create(assignments, batch_size=BATCH)
        DeviceTransition.objects.bulk_create(
            [
                DeviceTransition(
                    device=assignment.device,
                    from_status=DeviceStatus.IN_STOCK,
                    to_status=DeviceStatus.RESERVED,
                    by=by,
                    reason=f"Tildelt {assignment.pk}",
                )
                for assignment in assignments
            ],
            batch_size=BATCH,
        )
        Device.objects.filter(pk__in=[entry.device.pk for entry in items]).update(
            status=DeviceStatus.RESERVED, status_changed_at=now, updated_at=now
        )
        access_log_record(
            actor=job.actor,
            citizens=[entry.citizen for entry in items],
            resource_type=ASSIGNMENT_RESOURCE,
            action=AccessLogEntry.Action.CREATE,
        )
        return len(assignments)

    def export_row(self, assignment: Assignment) -> list[Any]:
        device = assignment.device
        return [
            device.serial_number,
            device.model.manufacturer,
            device.model.model_number,
            assignment.citizen.full_name,
            assignment.installation_address,
            _iso(assignment.planned_install_on),
            _iso(assignment.installed_at),
            _iso(assignment.planned_return_on),
            _iso(assignment.returned_at),
            assignment.consent_basis,
            assignment.consent_reference,
            _iso(assignment.consent_review_on),
        ]


DEVICES = DeviceTable()
DEVICE_MODELS = DeviceModelTable()
ASSIGNMENTS = AssignmentTable()


# --- Reading, importing and exporting --------------------------------------------------------------------------


def _read(table: Table, csv_text: str, job: Job) -> list[Row] | None:
    """The file's data rows, or None with the file's error (row 0) when it cannot be imported at all."""
    if "\x00" in csv_text:
        job.refuse(0, "csv", "The file is not a CSV text file.", "unreadable")
        return None
    try:
        records = list(csv.reader(io.StringIO(csv_text, newline=""), strict=True))
    except csv.Error as exc:
        job.refuse(0, "csv", f"Not a readable CSV: {exc}", "unreadable")
        return None
    if not records:
        job.refuse(0, "csv", "The file is empty.", "empty")
        return None
    headers = [header.strip() for header in records[0]]
    missing = [column for column in table.required if column not in headers]
    for column in missing:
        job.refuse(0, column, f"Missing column: {column}.", "missing_column")
    known = {*table.required, *table.optional, *table.export_columns}  # an exported file can be imported again
    unknown = [header for header in headers if header and header not in known]
    for header in unknown:
        job.refuse(0, header, f"Unknown column: {header}.", "unknown_column")
    if missing or unknown:
        return None
    imported = {*table.required, *table.optional}
    rows = []
    for number, record in enumerate(records[1:], start=1):
        if not any(cell.strip() for cell in record):
            continue
        rows.append(
            Row(
                number,
                {header: cell.strip() for header, cell in zip(headers, record, strict=False) if header in imported},
            )
        )
        if len(record) > len(headers):
            job.refuse(number, "row", "The row has more cells than the header.", "extra_cells")
    if len(rows) > MAX_IMPORT_ROWS:
        job.errors.clear()
        job.refuse(0, "csv", f"At most {MAX_IMPORT_ROWS} rows per import.", "too_many_rows")
        return None
    for row in rows:
        for column, cell in row.cells.items():
            if cell.startswith(FORMULA_STARTS[:4]):
                job.refuse(row.number, column, "A cell starting with =, +, - or @ would run as a formula.", "formula")
    return rows


def csv_import(
    table: Table,
    *,
    municipality: Municipality,
    by: User | None,
    csv_text: str,
    dry_run: bool,
    actor: Actor | None = None,
) -> ImportReport:
    """Check (dry run) or import a CSV file of ``table``. Any error anywhere means nothing is written."""
    job = Job(municipality=municipality, by=by, actor=actor, dry_run=dry_run)
    rows = _read(table, csv_text, job)
    if rows is None:
        return ImportReport(dry_run, 0, 0, job.errors)
    with transaction.atomic():
        items = table.check(rows, job)
        if job.errors:
            return ImportReport(dry_run, len(rows), 0, _ordered(job.errors))
        if dry_run:
            return ImportReport(dry_run, len(rows), len(items), [])
        try:
            with transaction.atomic():
                created = table.write(items, job)
        except IntegrityError:
            message = "The register changed while the file was imported; check the file again."
            job.refuse(0, "csv", message, "conflict")
            return ImportReport(dry_run, len(rows), 0, job.errors)
    return ImportReport(dry_run, len(rows), created, [])


def _ordered(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(errors, key=lambda error: error["row"])


def csv_export(table: Table, items: Iterable[Any]) -> str:
    """The items as CSV with the table's header; every cell safe to open in a spreadsheet."""
    return "".join(csv_export_lines(table, items))


def csv_export_lines(table: Table, items: Iterable[Any]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(table.export_columns)
    for item in items:
        writer.writerow([spreadsheet_safe(value) for value in table.export_row(item)])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def devices_import(*, municipality: Municipality, by: User | None, csv_text: str, dry_run: bool) -> ImportReport:
    return csv_import(DEVICES, municipality=municipality, by=by, csv_text=csv_text, dry_run=dry_run)


def devices_export(queryset: QuerySet[Device]) -> str:
    return csv_export(DEVICES, queryset.select_related("model").iterator(chunk_size=2000))
