"""Reads of the welfare-technology app: they own the query shape and log what they reveal of citizens."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, F, Min, Prefetch, Q, QuerySet
from django.db.models.functions import TruncDate

from backend import cpr
from backend.actors import Actor
from backend.audit import read_logged
from backend.errors import InvalidInput
from backend.models import AccessLogEntry, Citizen
from backend.pagination import paginate
from backend.timeutil import municipal_today
from velfaerdsteknologi.access import (
    access_citizen_for_installation,
    alerts_visible_to,
    assignments_visible_to,
    devices_visible_to,
    is_it,
    maintenance_tasks_visible_to,
    return_tasks_visible_to,
)
from velfaerdsteknologi.models import (
    OPEN_ALERT_STATUSES,
    Alert,
    AlertAudience,
    Assignment,
    Device,
    DeviceCredential,
    DeviceModel,
    DeviceStatus,
    DeviceTransition,
    MaintenanceTask,
    Reading,
    ReturnTask,
    TelemetryKind,
)

Action = AccessLogEntry.Action
BOARD_ITEMS = 20
MAINTENANCE_DUE_DAYS = 14
CONSENT_REVIEW_DAYS = 30
INACTIVE_STATUSES = (DeviceStatus.RETIRED, DeviceStatus.LOST)


def device_models_page(*, cursor: str | None, limit: int) -> tuple[list[DeviceModel], str | None]:
    return paginate(
        DeviceModel.objects.select_related("category"),
        cursor=cursor,
        limit=limit,
        order=("manufacturer", "model_number", "id"),
    )


def device_models_all() -> list[DeviceModel]:
    """The whole catalogue, for choosing a model (it is a short list)."""
    return list(DeviceModel.objects.select_related("category").order_by("manufacturer", "model_number", "id"))


@dataclass(frozen=True)
class ModelChoice:
    """A catalogue model as a list or a filter names it."""

    id: Any
    manufacturer: str
    model_number: str
    category_code: str
    category_name: str
    category_name_en: str

    def __str__(self) -> str:
        return f"{self.manufacturer} {self.model_number}"


def device_model_choices() -> list[ModelChoice]:
    """The whole catalogue by name, with each model's category, for a filter and a list (one light query)."""
    rows = DeviceModel.objects.order_by("manufacturer", "model_number", "id").values_list(
        "id", "manufacturer", "model_number", "category_id", "category__name", "category__name_en"
    )
    return [ModelChoice(*row) for row in rows]


def catalogue(*, category: str | None = None) -> list[DeviceModel]:
    """The catalogue's models (of one category, if given) with their alert rules, in two queries."""
    models = DeviceModel.objects.select_related("category").prefetch_related("alert_rules")
    if category:
        models = models.filter(category_id=category)
    return list(models.order_by("category__name", "manufacturer", "model_number", "id"))


def devices_filtered(
    actor: Actor,
    *,
    status=None,
    model_id=None,
    category=None,
    search=None,
    location=None,
    citizens: QuerySet[Citizen] | None = None,
) -> QuerySet[Device]:
    """The actor's devices narrowed by the filters; ``citizens`` keeps the devices now assigned to one of them."""
    devices = devices_visible_to(actor).select_related("model")
    if status:
        devices = devices.filter(status=status)
    if model_id:
        devices = devices.filter(model_id=model_id)
    if category:
        devices = devices.filter(model__category_id=category)
    if search:
        devices = devices.filter(Q(serial_number__icontains=search) | Q(imei=search) | Q(mac_address__iexact=search))
    if location:
        devices = devices.filter(location__icontains=location)
    if citizens is not None:
        devices = devices.filter(assignments__returned_at__isnull=True, assignments__citizen__in=citizens.values("pk"))
    return devices


def devices_page(actor: Actor, *, cursor: str | None, limit: int, **filters: Any) -> tuple[list[Device], str | None]:
    return paginate(devices_filtered(actor, **filters), cursor=cursor, limit=limit, order=("serial_number", "id"))


# What a register row shows, and what its sorts page by.
REGISTER_COLUMNS = ("model", "serial_number", "status", "location", "battery_level", "last_seen_at", "created_at")
REGISTER_SORTS: dict[str, tuple[str, ...]] = {
    "serial": ("serial_number", "id"),
    "status": ("status", "serial_number", "id"),
    "newest": ("-created_at", "-id"),
}


def citizens_of_municipality(actor: Actor) -> QuerySet[Citizen]:
    """The citizens IT may find for an installation: those of its own municipality."""
    if not is_it(actor) or actor.staff is None:
        return Citizen.objects.none()
    return Citizen.objects.filter(municipality_id=actor.staff.municipality_id)


def citizens_named(actor: Actor, name: str) -> QuerySet[Citizen]:
    """The municipality's citizens whose given or family name contains each word of ``name``."""
    citizens = citizens_of_municipality(actor)
    for word in name.split():
        citizens = citizens.filter(Q(given_name__icontains=word) | Q(family_name__icontains=word))
    return citizens


def citizens_with_cpr(actor: Actor, cpr_text: str) -> QuerySet[Citizen]:
    """The municipality's citizen with this CPR number, found by its keyed hash (never stored or logged in
    clear); a number that is not a CPR number is refused on the ``cpr`` field."""
    try:
        number = cpr.CprNumber.parse(cpr_text)
    except cpr.InvalidCpr as exc:
        raise InvalidInput("cpr", str(exc)) from exc
    return citizens_of_municipality(actor).filter(cpr_hash=cpr.keyed_hash(number))


def citizen_for_it(actor: Actor, citizen_id: Any) -> Citizen:
    """A citizen of IT's municipality to assign a device to; refused on the ``citizen_id`` field otherwise."""
    try:
        citizen = citizens_of_municipality(actor).filter(pk=citizen_id).first()
    except (ValueError, ValidationError):
        citizen = None
    if citizen is None:
        raise InvalidInput("citizen_id", "No such citizen in the municipality.")
    return citizen


def citizen_contact_by_cpr(actor: Actor, cpr_text: str) -> Citizen:
    """Name, address and phone of the municipality's citizen with this CPR number, for an installation; the
    read is logged (``access_citizen_for_installation``). A number that is not a CPR number is refused on the
    ``cpr`` field; 404 when there is no such citizen."""
    try:
        number = cpr.CprNumber.parse(cpr_text)
    except cpr.InvalidCpr as exc:
        raise InvalidInput("cpr", str(exc)) from exc
    return access_citizen_for_installation(actor, number)


def devices_register_page(
    actor: Actor, *, cursor: str | None, limit: int, sort: str = "serial", **filters: Any
) -> tuple[list[Device], str | None]:
    """One page of the register in one of ``REGISTER_SORTS``. A search by citizen reveals who holds the devices
    shown, so those citizens' reads are logged. A fixed number of queries whatever the page holds. Only the
    columns the register shows are read (``REGISTER_COLUMNS``), and not the devices' models: the register shows
    them from the catalogue it reads for its filter."""
    devices = devices_filtered(actor, **filters).select_related(None).only(*REGISTER_COLUMNS)
    items, next_cursor = paginate(devices, cursor=cursor, limit=limit, order=REGISTER_SORTS[sort])
    citizens = filters.get("citizens")
    if citizens is not None and items:
        holding = Assignment.objects.filter(
            device__in=items, returned_at__isnull=True, citizen__in=citizens.values("pk")
        ).select_related("citizen")
        _log_citizens(actor, [assignment.citizen for assignment in holding], "device_register")
    return items, next_cursor


def device_transitions_page(
    device: Device, *, cursor: str | None, limit: int
) -> tuple[list[DeviceTransition], str | None]:
    """A device's lifecycle, the latest first, each with who moved it."""
    return paginate(
        DeviceTransition.objects.filter(device=device).select_related("by"),
        cursor=cursor,
        limit=limit,
        order=("-at", "-id"),
    )


def _log_citizens(actor: Actor, citizens: list[Citizen], resource_type: str) -> None:
    unique = list({citizen.pk: citizen for citizen in citizens}.values())
    read_logged(actor, unique, resource_type)


def assignments_page(
    actor: Actor, *, cursor: str | None, limit: int, is_active=None, device_id=None, citizen_id=None
) -> tuple[list[Assignment], str | None]:
    assignments = assignments_visible_to(actor).select_related("device", "citizen")
    if is_active is not None:
        assignments = assignments.filter(returned_at__isnull=is_active)
    if device_id:
        assignments = assignments.filter(device_id=device_id)
    if citizen_id:
        assignments = assignments.filter(citizen_id=citizen_id)
    items, next_cursor = paginate(assignments, cursor=cursor, limit=limit)
    _log_citizens(actor, [assignment.citizen for assignment in items], "device_assignment")
    return items, next_cursor


def assignments_for_export(
    actor: Actor, *, is_active: bool | None = None, category: str | None = None
) -> list[Assignment]:
    """The actor's assignments for a CSV file, each with the citizen's name and the installation address; the
    citizens are logged (one row each) before the file leaves."""
    assignments = assignments_visible_to(actor).select_related("device__model", "citizen")
    if is_active is not None:
        assignments = assignments.filter(returned_at__isnull=is_active)
    if category:
        assignments = assignments.filter(device__model__category_id=category)
    items = list(assignments.order_by("-created_at", "-id"))
    _log_citizens(actor, [assignment.citizen for assignment in items], "device_assignment")
    return items


def assignment_detail(actor: Actor, assignment: Assignment) -> Assignment:
    _log_citizens(actor, [assignment.citizen], "device_assignment")
    return assignment


def _open_maintenance(actor: Actor) -> QuerySet[MaintenanceTask]:
    return (
        maintenance_tasks_visible_to(actor)
        .filter(completed_at__isnull=True)
        .exclude(device__status__in=INACTIVE_STATUSES)
        .select_related("device")
    )


def maintenance_due_page(
    actor: Actor, *, cursor: str | None, limit: int, kind=None, within_days: int = 30, overdue_only: bool = False
) -> tuple[list[MaintenanceTask], str | None]:
    """Open maintenance due within ``within_days``, oldest first, so overdue items lead."""
    today = municipal_today()
    tasks = _open_maintenance(actor)
    tasks = (
        tasks.filter(due_on__lt=today)
        if overdue_only
        else tasks.filter(due_on__lte=today + timedelta(days=within_days))
    )
    if kind:
        tasks = tasks.filter(kind=kind)
    return paginate(tasks, cursor=cursor, limit=limit, order=("due_on", "id"))


def _open_returns(actor: Actor) -> QuerySet[ReturnTask]:
    return (
        return_tasks_visible_to(actor)
        .filter(completed_at__isnull=True)
        .select_related("assignment__device", "assignment__citizen")
    )


def return_tasks_page(actor: Actor, *, cursor: str | None, limit: int) -> tuple[list[ReturnTask], str | None]:
    tasks, next_cursor = paginate(_open_returns(actor), cursor=cursor, limit=limit, order=("created_at", "id"))
    _log_citizens(actor, [task.assignment.citizen for task in tasks], "device_return")
    return tasks, next_cursor


def alerts_page(
    actor: Actor, *, cursor: str | None, limit: int, status=None, kind=None
) -> tuple[list[Alert], str | None]:
    alerts = alerts_visible_to(actor).select_related("device", "citizen")
    if status == "unresolved":
        alerts = alerts.filter(status__in=OPEN_ALERT_STATUSES)
    elif status:
        alerts = alerts.filter(status=status)
    if kind:
        alerts = alerts.filter(kind=kind)
    items, next_cursor = paginate(alerts, cursor=cursor, limit=limit, order=("-opened_at", "-id"))
    _log_citizens(actor, [alert.citizen for alert in items if alert.citizen is not None], "device_alert")
    return items, next_cursor


def alert_detail(actor: Actor, alert: Alert) -> Alert:
    if alert.citizen is not None:
        _log_citizens(actor, [alert.citizen], "device_alert")
    return alert


@dataclass(frozen=True)
class BoardSection:
    """Up to ``BOARD_ITEMS`` of one of the board's lists, and how many there are in all."""

    count: int
    items: list[Any]


def _section(queryset: QuerySet) -> BoardSection:
    items = list(queryset[:BOARD_ITEMS])
    count = len(items) if len(items) < BOARD_ITEMS else queryset.count()
    return BoardSection(count, items)


@dataclass(frozen=True)
class HealthBoard:
    today: date
    offline: BoardSection
    low_battery: BoardSection
    maintenance_due: BoardSection
    maintenance_overdue: BoardSection
    pending_returns: BoardSection
    consent_reviews_due: BoardSection


def health_board(actor: Actor) -> HealthBoard:
    """IT's overview: offline devices, low batteries, due and overdue maintenance, pending returns and consent
    reviews coming due. A constant number of queries however many devices there are."""
    today = municipal_today()
    devices = devices_visible_to(actor).exclude(status__in=INACTIVE_STATUSES).select_related("model")
    offline = devices.filter(alerts__kind=TelemetryKind.HEARTBEAT, alerts__status__in=OPEN_ALERT_STATUSES).order_by(
        "last_seen_at", "id"
    )
    low_battery = devices.filter(
        model__alert_rules__kind=TelemetryKind.BATTERY,
        model__alert_rules__warning_low__isnull=False,
        battery_level__lte=F("model__alert_rules__warning_low"),
    ).order_by("battery_level", "id")
    maintenance = _open_maintenance(actor).order_by("due_on", "id")
    returns = _open_returns(actor).order_by("created_at", "id")
    reviews = (
        assignments_visible_to(actor)
        .filter(returned_at__isnull=True, consent_review_on__lte=today + timedelta(days=CONSENT_REVIEW_DAYS))
        .select_related("device", "citizen")
        .order_by("consent_review_on", "id")
    )
    board = HealthBoard(
        today=today,
        offline=_section(offline),
        low_battery=_section(low_battery),
        maintenance_due=_section(
            maintenance.filter(due_on__gte=today, due_on__lte=today + timedelta(days=MAINTENANCE_DUE_DAYS))
        ),
        maintenance_overdue=_section(maintenance.filter(due_on__lt=today)),
        pending_returns=_section(returns),
        consent_reviews_due=_section(reviews),
    )
    citizens = [task.assignment.citizen for task in board.pending_returns.items] + [
        assignment.citizen for assignment in board.consent_reviews_due.items
    ]
    _log_citizens(actor, citizens, "device_board")
    return board


def maintenance_done_page(actor: Actor, *, cursor: str | None, limit: int) -> tuple[list[MaintenanceTask], str | None]:
    """Maintenance done (or cancelled), the latest first."""
    tasks = maintenance_tasks_visible_to(actor).filter(completed_at__isnull=False).select_related("device")
    return paginate(tasks, cursor=cursor, limit=limit, order=("-completed_at", "-id"))


TELEMETRY_DAYS = 30
DEVICE_HISTORY_ITEMS = 50


@dataclass(frozen=True)
class TelemetryDay:
    """One day of a device's telemetry: the lowest battery level, heartbeats, and readings of every kind."""

    day: date
    battery_low: float | None
    heartbeats: int
    readings: int


def device_telemetry_days(device: Device, *, days: int = TELEMETRY_DAYS) -> list[TelemetryDay]:
    """The last ``days`` municipal days of the device's telemetry, one entry per day (empty days too). One query."""
    zone = ZoneInfo(settings.DEFAULT_CITIZEN_TIME_ZONE)
    today = municipal_today()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, time.min, tzinfo=zone)
    rows = (
        Reading.objects.filter(device=device, measured_at__gte=start)
        .annotate(day=TruncDate("measured_at", tzinfo=zone))
        .values("day", "kind")
        .annotate(count=Count("id"), low=Min("numeric_value"))
        .order_by()
    )
    heartbeats: dict[date, int] = {}
    readings: dict[date, int] = {}
    battery: dict[date, float] = {}
    for row in rows:
        day = row["day"]
        readings[day] = readings.get(day, 0) + row["count"]
        if row["kind"] == TelemetryKind.HEARTBEAT:
            heartbeats[day] = row["count"]
        elif row["kind"] == TelemetryKind.BATTERY and row["low"] is not None:
            battery[day] = row["low"]
    return [
        TelemetryDay(day, battery.get(day), heartbeats.get(day, 0), readings.get(day, 0))
        for day in (first + timedelta(days=offset) for offset in range(days))
    ]


@dataclass
class DeviceOverview:
    device: Device
    transitions: list[DeviceTransition]
    assignments: list[Assignment]
    maintenance: list[MaintenanceTask]
    credentials: list[DeviceCredential]
    alerts: list[Alert]
    telemetry: list[TelemetryDay]

    @property
    def active_assignment(self) -> Assignment | None:
        return next((assignment for assignment in self.assignments if assignment.is_active), None)


def device_overview(actor: Actor, device: Device) -> DeviceOverview:
    """Everything IT's device page shows: the lifecycle with who, when and why; the assignments with what the
    installation needs of each citizen (name, address, phone: the reads are logged); maintenance, credentials,
    IT's alerts and 30 days of telemetry. A fixed number of queries however long the history."""
    transitions, _ = device_transitions_page(device, cursor=None, limit=DEVICE_HISTORY_ITEMS)
    assignments = list(
        assignments_visible_to(actor)
        .filter(device=device)
        .select_related("citizen", "installed_by", "returned_by")
        .prefetch_related(Prefetch("return_tasks", queryset=ReturnTask.objects.order_by("created_at", "id")))
        .order_by("-created_at", "-id")[:DEVICE_HISTORY_ITEMS]
    )
    tasks = (
        maintenance_tasks_visible_to(actor)
        .filter(device=device)
        .select_related("device")
        .order_by(F("completed_at").desc(nulls_first=True), "due_on", "id")[:DEVICE_HISTORY_ITEMS]
    )
    alerts = (
        alerts_visible_to(actor)
        .filter(device=device, audience=AlertAudience.IT)
        .select_related("device", "citizen")
        .order_by("-opened_at", "-id")[:DEVICE_HISTORY_ITEMS]
    )
    _log_citizens(actor, [assignment.citizen for assignment in assignments], "device_assignment")
    return DeviceOverview(
        device=device,
        transitions=transitions,
        assignments=assignments,
        maintenance=list(tasks),
        credentials=list(DeviceCredential.objects.filter(device=device).order_by("-created_at")[:DEVICE_HISTORY_ITEMS]),
        alerts=list(alerts),
        telemetry=device_telemetry_days(device),
    )
