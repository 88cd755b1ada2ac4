"""Request and response shapes of the welfare-technology API."""

import math
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from ninja import Schema
from pydantic import (
    UUID4,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from backend.schemas import CitizenLookupIn, InSchema, PageQuery  # noqa: F401  (CitizenLookupIn: the kernel's)
from velfaerdsteknologi.models import TelemetryKind
from velfaerdsteknologi.services.telemetry import MAX_BATCH

KindName = Literal[
    "heartbeat", "battery", "fall", "dose_taken", "dose_missed", "door_open", "bed_exit", "location", "custom"
]
StatusName = Literal["in_stock", "reserved", "in_use", "in_repair", "lost", "returned", "cleaning", "retired"]


# --- The device itself ---------------------------------------------------------------------------


class DeviceSelfOut(Schema):
    id: UUID4
    serial_number: str
    server_time: datetime


# --- Catalogue ----------------------------------------------------------------------------------


class CategoryOut(Schema):
    code: str
    name: str
    name_en: str
    is_surveillance: bool


class DeviceModelIn(InSchema):
    manufacturer: str = Field(min_length=1, max_length=100)
    model_number: str = Field(min_length=1, max_length=100)
    name: str = Field(default="", max_length=150)
    category: str = Field(max_length=40)
    telemetry_kinds: list[KindName] = Field(default_factory=list, max_length=9)
    heartbeat_interval_seconds: int | None = Field(default=None, ge=10, le=7 * 86400)
    is_battery_powered: bool = False
    service_interval_days: int | None = Field(default=None, ge=1, le=3650)
    test_call_interval_days: int | None = Field(default=None, ge=1, le=3650)
    battery_check_interval_days: int | None = Field(default=None, ge=1, le=3650)


class DeviceModelPatchIn(InSchema):
    """What can change on a catalogue model: its name and maintenance intervals (null: none of that kind)."""

    name: str = Field(default="", max_length=150)
    service_interval_days: int | None = Field(default=None, ge=1, le=3650)
    test_call_interval_days: int | None = Field(default=None, ge=1, le=3650)
    battery_check_interval_days: int | None = Field(default=None, ge=1, le=3650)


class DeviceModelOut(Schema):
    id: UUID
    manufacturer: str
    model_number: str
    name: str
    category: str = Field(alias="category_id")
    is_surveillance: bool
    telemetry_kinds: list[str]
    heartbeat_interval_seconds: int | None
    is_battery_powered: bool
    service_interval_days: int | None
    test_call_interval_days: int | None
    battery_check_interval_days: int | None


class DeviceModelPageOut(Schema):
    items: list[DeviceModelOut]
    next_cursor: str | None


class AlertRuleIn(InSchema):
    alert_low: float | None = None
    warning_low: float | None = None
    warning_high: float | None = None
    alert_high: float | None = None
    missing_after_intervals: int | None = Field(default=None, ge=1, le=100)
    is_active: bool = True


class AlertRuleOut(Schema):
    id: UUID
    kind: str
    rule_type: str
    audience: str
    alert_low: float | None
    warning_low: float | None
    warning_high: float | None
    alert_high: float | None
    missing_after_intervals: int | None
    is_active: bool


class AlertRulesOut(Schema):
    items: list[AlertRuleOut]


# --- Devices ------------------------------------------------------------------------------------


# A serial number as printed on a device: letters and digits, parts joined by - . / or _, no spaces.
SERIAL_NUMBER_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9._/-]*[A-Za-z0-9])?$"


class DeviceIn(InSchema):
    model_id: UUID
    serial_number: str = Field(min_length=1, max_length=100, pattern=SERIAL_NUMBER_PATTERN)
    imei: str | None = Field(default=None, pattern=r"^\d{15}$")
    mac_address: str | None = Field(default=None, pattern=r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$")
    firmware_version: str = Field(default="", max_length=50)
    purchase_date: date | None = None
    warranty_end: date | None = None
    location: str = Field(default="", max_length=200)


class DevicePatchIn(InSchema):
    imei: str | None = Field(default=None, pattern=r"^\d{15}$")
    mac_address: str | None = Field(default=None, pattern=r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$")
    firmware_version: str | None = Field(default=None, max_length=50)
    purchase_date: date | None = None
    warranty_end: date | None = None
    next_service_due: date | None = None
    location: str | None = Field(default=None, max_length=200)


class DeviceOut(Schema):
    id: UUID
    serial_number: str
    model_id: UUID
    manufacturer: str = Field(alias="model.manufacturer")
    model_number: str = Field(alias="model.model_number")
    category: str = Field(alias="model.category_id")
    imei: str | None
    mac_address: str | None
    firmware_version: str
    purchase_date: date | None
    warranty_end: date | None
    next_service_due: date | None
    location: str
    status: str
    status_changed_at: datetime | None
    last_seen_at: datetime | None
    battery_level: int | None
    battery_measured_at: datetime | None


class DevicePageOut(Schema):
    items: list[DeviceOut]
    next_cursor: str | None


class DeviceFilter(PageQuery):
    status: StatusName | None = None
    model_id: UUID | None = None
    category: str | None = None
    search: str | None = Field(default=None, max_length=100, description="Serial number, IMEI or MAC address.")


class TransitionIn(InSchema):
    to_status: StatusName
    reason: str = Field(min_length=1, max_length=300)


class TransitionOut(Schema):
    from_status: str
    to_status: str
    reason: str
    at: datetime
    by_name: str | None


class TransitionsOut(Schema):
    items: list[TransitionOut]
    next_cursor: str | None


class CredentialOut(Schema):
    id: UUID
    lookup_prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class CredentialsOut(Schema):
    items: list[CredentialOut]


class IssuedCredentialOut(CredentialOut):
    token: str = Field(description="Shown this once; store it in the device.")


# --- Assignments --------------------------------------------------------------------------------


class AssignmentIn(InSchema):
    device_id: UUID
    citizen_id: UUID
    installation_address: str = Field(default="", max_length=300)
    planned_install_on: date | None = None
    planned_return_on: date | None = None
    episode_id: UUID | None = None
    goal_id: UUID | None = None
    consent_basis: Literal["consent", "legal_basis", ""] = ""
    consent_reference: str = Field(default="", max_length=200)
    consent_review_on: date | None = None


class ConsentIn(InSchema):
    basis: Literal["consent", "legal_basis"]
    reference: str = Field(default="", max_length=200)
    review_on: date


class WhenIn(InSchema):
    at: AwareDatetime | None = None


class CitizenContactOut(Schema):
    """All IT ever sees of a citizen: who and where, to install and to fetch."""

    id: UUID
    given_name: str
    family_name: str
    address_line: str
    postcode: str
    city: str
    phone: str


class AssignmentOut(Schema):
    id: UUID
    device_id: UUID
    serial_number: str = Field(alias="device.serial_number")
    citizen: CitizenContactOut
    episode_id: UUID | None
    goal_id: UUID | None
    installation_address: str
    planned_install_on: date | None
    installed_at: datetime | None
    planned_return_on: date | None
    returned_at: datetime | None
    consent_basis: str
    consent_reference: str
    consent_review_on: date | None
    consent_recorded_at: datetime | None
    is_active: bool
    created_at: datetime


class AssignmentPageOut(Schema):
    items: list[AssignmentOut]
    next_cursor: str | None


class AssignmentFilter(PageQuery):
    is_active: bool | None = None
    device_id: UUID | None = None
    citizen_id: UUID | None = None


# --- Maintenance and returns --------------------------------------------------------------------


class MaintenanceOut(Schema):
    id: UUID
    device_id: UUID
    serial_number: str
    kind: str
    due_on: date
    is_overdue: bool
    completed_at: datetime | None
    result: str
    notes: str


class MaintenancePageOut(Schema):
    items: list[MaintenanceOut]
    next_cursor: str | None


class MaintenanceFilter(PageQuery):
    kind: Literal["service", "test_call", "battery_check"] | None = None
    within_days: int = Field(default=30, ge=0, le=366)
    overdue_only: bool = False


class MaintenanceResultIn(InSchema):
    result: Literal["passed", "failed"]
    notes: str = Field(default="", max_length=500)


class ReturnTaskOut(Schema):
    id: UUID
    reason: str
    created_at: datetime
    assignment_id: UUID
    device_id: UUID
    serial_number: str
    citizen: CitizenContactOut
    installation_address: str


class ReturnTaskPageOut(Schema):
    items: list[ReturnTaskOut]
    next_cursor: str | None


# --- Telemetry ----------------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    """A finite JSON number: not a boolean, not NaN or infinity (which JSON cannot carry onward), and an
    integer at most 40 characters long, as the API's parser takes it."""
    if type(value) is int:
        return -(10**39) < value < 10**40
    return type(value) is float and math.isfinite(value)


def _no_value(value: Any) -> str | None:
    return None if value is None else "a heartbeat carries no value"


def _battery_value(value: Any) -> str | None:
    if _is_number(value) and 0 <= value <= 100:
        return None
    return "a battery reading is a number from 0 to 100 (percent)"


def _event_value(kind: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if value is None or value is True or value is False else f"a {kind} event is true, false or empty"

    return check


def _dose_value(value: Any) -> str | None:
    if value is None or (type(value) is str and len(value) <= 100):
        return None
    return "a dose reading is empty or names the dose (at most 100 characters)"


def _location_value(value: Any) -> str | None:
    if (
        type(value) is dict
        and not set(value) - {"lat", "lon", "accuracy_m"}
        and _is_number(value.get("lat"))
        and _is_number(value.get("lon"))
        and -90 <= value["lat"] <= 90
        and -180 <= value["lon"] <= 180
        and ("accuracy_m" not in value or _is_number(value["accuracy_m"]))
    ):
        return None
    return "a location is {lat, lon[, accuracy_m]} in degrees"


def _custom_value(value: Any) -> str | None:
    return None if _is_number(value) else "a custom reading is a number"


# What each kind's value may be: a plain dictionary lookup per reading (up to 500 per batch).
VALUE_CHECKS: dict[str, Callable[[Any], str | None]] = {
    TelemetryKind.HEARTBEAT.value: _no_value,
    TelemetryKind.BATTERY.value: _battery_value,
    TelemetryKind.FALL.value: _event_value(TelemetryKind.FALL.value),
    TelemetryKind.BED_EXIT.value: _event_value(TelemetryKind.BED_EXIT.value),
    TelemetryKind.DOOR_OPEN.value: _event_value(TelemetryKind.DOOR_OPEN.value),
    TelemetryKind.DOSE_TAKEN.value: _dose_value,
    TelemetryKind.DOSE_MISSED.value: _dose_value,
    TelemetryKind.LOCATION.value: _location_value,
    TelemetryKind.CUSTOM.value: _custom_value,
}


class ReadingFields(BaseModel):
    """One reading's fields, each valid on its own; ``ReadingIn`` also checks the value against the kind. A
    plain pydantic model: ninja's Schema wraps every instance for ORM attribute access, which input needs not
    and which cost most of a 500-reading batch's time."""

    model_config = ConfigDict(extra="forbid")

    sequence: int = Field(ge=0, le=2**63 - 1)
    kind: KindName
    measured_at: AwareDatetime
    value: Any = None


class ReadingIn(ReadingFields):
    """One reading."""

    value: Any = Field(default=None, validate_default=True)

    @field_validator("value")
    @classmethod
    def value_fits_kind(cls, value: Any, info: ValidationInfo) -> Any:
        check = VALUE_CHECKS.get(info.data.get("kind"))  # type: ignore[arg-type]  # absent: the kind was refused
        problem = check(value) if check is not None else None
        if problem is not None:
            raise ValueError(problem)
        return value


class TelemetryIn(BaseModel):
    """A batch. Plain pydantic with ``InSchema``'s configuration: ninja's ``Schema`` validates a body that
    forbids extra fields twice (once as it is, once wrapped for ORM attribute access), 500 readings each
    time."""

    model_config = InSchema.model_config

    device_id: UUID | None = Field(default=None, description="Optional; if given it must be the calling device.")
    readings: list[ReadingIn] = Field(min_length=1, max_length=MAX_BATCH)


class TelemetryFields(BaseModel):
    """A batch as ``TelemetryIn`` takes it, its readings' values not yet checked against their kinds."""

    model_config = InSchema.model_config

    device_id: UUID | None = None
    readings: list[ReadingFields] = Field(min_length=1, max_length=MAX_BATCH)


def telemetry_fields(body: bytes) -> TelemetryFields | None:
    """The batch of a body that is valid as sent, read in one pass of pydantic's own JSON parser and each
    value checked against its kind: what the API's parser and ``TelemetryIn`` accept, at about half the cost
    for 500 readings. None for any other body, which is then read as every body of the API is, for the same
    answer. (pydantic's parser also takes NaN, Infinity and integers of any length, which the API's parser
    refuses; no field takes them here: the value checks refuse them as ``_is_number`` does.)"""
    try:
        batch = TelemetryFields.model_validate_json(body)
    except ValidationError:
        return None
    for reading in batch.readings:
        if VALUE_CHECKS[reading.kind](reading.value) is not None:
            return None
    return batch


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON schema with its own definitions (``$defs``) written where they are referred to."""
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            reference = node.get("$ref", "")
            if reference.startswith("#/$defs/"):
                return resolve(definitions[reference.removeprefix("#/$defs/")])
            return {key: resolve(item) for key, item in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    return resolve(schema)


# The request body of a telemetry post, documented as TelemetryIn: the handler reads the body itself.
TELEMETRY_IN_OPENAPI = {
    "requestBody": {
        "content": {"application/json": {"schema": _inlined(TelemetryIn.model_json_schema())}},
        "required": True,
    }
}


class ReadingResultOut(BaseModel):
    """Plain pydantic, like ReadingIn: up to 500 of these per response."""

    model_config = ConfigDict(from_attributes=True)

    sequence: int
    status: Literal["stored", "duplicate", "refused"]
    reason: str


class TelemetryOut(Schema):
    stored: int
    duplicates: int
    refused: int
    results: list[ReadingResultOut]


# --- Alerts and the board -----------------------------------------------------------------------


class AlertOut(Schema):
    id: UUID
    device_id: UUID
    serial_number: str
    audience: str
    kind: str
    severity: str
    status: str
    trigger_count: int
    opened_at: datetime
    last_triggered_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    citizen_id: UUID | None = None
    citizen_name: str | None = None
    value: float | None = None


class AlertPageOut(Schema):
    items: list[AlertOut]
    next_cursor: str | None


class AlertFilter(PageQuery):
    status: Literal["open", "acknowledged", "resolved", "unresolved"] | None = "unresolved"
    kind: KindName | None = None


class BoardDeviceOut(Schema):
    id: UUID
    serial_number: str
    model: str
    status: str
    location: str
    last_seen_at: datetime | None
    battery_level: int | None


class BoardDevicesOut(Schema):
    count: int
    items: list[BoardDeviceOut]


class BoardMaintenanceOut(Schema):
    count: int
    items: list[MaintenanceOut]


class BoardReturnsOut(Schema):
    count: int
    items: list[ReturnTaskOut]


class ConsentReviewOut(Schema):
    assignment_id: UUID
    device_id: UUID
    serial_number: str
    citizen: CitizenContactOut
    consent_basis: str
    consent_review_on: date


class BoardConsentReviewsOut(Schema):
    count: int
    items: list[ConsentReviewOut]


class BoardOut(Schema):
    offline: BoardDevicesOut
    low_battery: BoardDevicesOut
    maintenance_due: BoardMaintenanceOut
    maintenance_overdue: BoardMaintenanceOut
    pending_returns: BoardReturnsOut
    consent_reviews_due: BoardConsentReviewsOut


class DeviceImportIn(InSchema):
    csv: str = Field(min_length=1, max_length=2_000_000, description="The CSV text, with a header row.")
    dry_run: bool = True


class ImportRowErrorOut(Schema):
    row: int
    field: str
    message: str


class ImportOut(Schema):
    dry_run: bool
    rows: int
    created: int
    errors: list[ImportRowErrorOut]
