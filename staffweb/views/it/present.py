"""Words for the welfare-technology codes, as IT's pages show them."""

from datetime import datetime
from html import escape
from typing import Any
from uuid import UUID

from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from backend.timeutil import municipal_today
from velfaerdsteknologi import presenters
from velfaerdsteknologi.models import (
    Alert,
    AlertAudience,
    AlertRule,
    AlertSeverity,
    AlertStatus,
    ConsentBasis,
    Device,
    DeviceModel,
    DeviceStatus,
    DeviceTransition,
    MaintenanceKind,
    MaintenanceTask,
    ReturnTask,
    TelemetryKind,
)
from velfaerdsteknologi.selectors import HealthBoard, ModelChoice

STATUS = dict(DeviceStatus.choices)
MAINTENANCE = dict(MaintenanceKind.choices)
RESULT = dict(MaintenanceTask.Result.choices)
TELEMETRY = dict(TelemetryKind.choices)
SEVERITY = dict(AlertSeverity.choices)
ALERT_STATUS = dict(AlertStatus.choices)
RETURN_REASON = dict(ReturnTask.Reason.choices)
CONSENT = dict(ConsentBasis.choices)


def transitions(steps: list[DeviceTransition]) -> list[dict[str, Any]]:
    return [
        {**item, "from_words": STATUS.get(item["from_status"], ""), "to_words": STATUS.get(item["to_status"], "")}
        for item in map(presenters.transition_out, steps)
    ]


def _maintenance_words(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            **item,
            "kind_words": MAINTENANCE.get(item["kind"], item["kind"]),
            "result_words": RESULT.get(item["result"], ""),
        }
        for item in items
    ]


def maintenance(tasks: list[MaintenanceTask]) -> list[dict[str, Any]]:
    today = municipal_today()
    return _maintenance_words([presenters.maintenance_out(task, today) for task in tasks])


def alerts(found: list[Alert]) -> list[dict[str, Any]]:
    return [
        {
            **item,
            "kind_words": (
                gettext("Intet livstegn") if item["kind"] == TelemetryKind.HEARTBEAT else TELEMETRY.get(item["kind"])
            ),
            "severity_words": SEVERITY.get(item["severity"], ""),
            "status_words": ALERT_STATUS.get(item["status"], ""),
        }
        for item in map(presenters.alert_out, found)
    ]


def _return_words(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**item, "reason_words": RETURN_REASON.get(item["reason"], item["reason"])} for item in items]


def returns(tasks: list[ReturnTask]) -> list[dict[str, Any]]:
    return _return_words([presenters.return_task_out(task) for task in tasks])


def devices(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**item, "status_words": STATUS.get(item["status"], "")} for item in items]


def board(health_board: HealthBoard) -> dict[str, Any]:
    """The health board's sections with words for their codes."""
    sections = presenters.health_board_out(health_board)
    words = {
        "offline": devices,
        "low_battery": devices,
        "maintenance_due": _maintenance_words,
        "maintenance_overdue": _maintenance_words,
        "pending_returns": _return_words,
        "consent_reviews_due": lambda items: [
            {**item, "basis_words": CONSENT.get(item["consent_basis"], "")} for item in items
        ],
    }
    return {key: {**section, "items": words[key](section["items"])} for key, section in sections.items()}


AUDIENCE = dict(AlertAudience.choices)
UNITS: dict[str, str] = {TelemetryKind.BATTERY: " %"}


def _number(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def rule_words(rule: AlertRule, device_model: DeviceModel) -> str:
    """What a rule raises, in words: its thresholds, the heartbeats it waits for, or every event."""
    if rule.rule_type == AlertRule.Type.MISSING_DATA:
        words = gettext("alarm efter %(count)s udeblevne livstegn") % {"count": rule.missing_after_intervals}
        if device_model.heartbeat_interval_seconds and rule.missing_after_intervals:
            minutes = device_model.heartbeat_interval_seconds * rule.missing_after_intervals / 60
            words += " (" + gettext("%(minutes)s min.") % {"minutes": _number(round(minutes, 1))} + ")"
        return words
    if rule.rule_type == AlertRule.Type.EVENT:
        return gettext("alarm ved hver hændelse")
    unit = UNITS.get(rule.kind, "")
    parts = [
        f"{label} {sign} {_number(value)}{unit}"
        for label, sign, value in (
            (gettext("alarm"), "≤", rule.alert_low),
            (gettext("advarsel"), "≤", rule.warning_low),
            (gettext("advarsel"), "≥", rule.warning_high),
            (gettext("alarm"), "≥", rule.alert_high),
        )
        if value is not None
    ]
    return ", ".join(parts)


def rules(device_model: DeviceModel) -> list[dict[str, Any]]:
    """The model's alert rules (prefetched) in words, with whom they alert."""
    return [
        {
            "rule": rule,
            "kind_words": TELEMETRY.get(TelemetryKind(rule.kind), rule.kind),
            "words": rule_words(rule, device_model),
            "audience_words": AUDIENCE.get(rule.audience, rule.audience),
        }
        for rule in device_model.alert_rules.all()
    ]


def consent_reason(device_model: DeviceModel) -> str:
    """Why a model needs a consent or legal basis before it is assigned, or "" when it does not."""
    if device_model.category.is_surveillance:
        return gettext("Ja – overvågende kategori")
    if device_model.is_surveillance:
        return gettext("Ja – sender position")
    return ""


def catalogue(models: list[DeviceModel]) -> list[dict[str, Any]]:
    return [
        {
            "model": model,
            "kinds": [TELEMETRY.get(kind, kind) for kind in model.telemetry_kinds or []],
            "consent": consent_reason(model),
            "rules": rules(model),
        }
        for model in models
    ]


MONTHS = (
    _("jan"),
    _("feb"),
    _("mar"),
    _("apr"),
    pgettext_lazy("short month", "maj"),
    _("jun"),
    _("jul"),
    _("aug"),
    _("sep"),
    _("okt"),
    _("nov"),
    _("dec"),
)


def _short_time(moment: datetime, months: list[str]) -> str:
    """ "7. dec 14:05", as the template filter ``date:"j. M H:i"`` writes it, without its cost per row."""
    local = timezone.localtime(moment)
    return f"{local.day}. {months[local.month - 1]} {local:%H:%M}"


def category_name(model: ModelChoice) -> str:
    """A model's category in the page's language (the catalogue's English name where it has one)."""
    if model.category_name_en and (get_language() or "da").startswith("en"):
        return model.category_name_en
    return model.category_name


def register_rows(devices: list[Device], catalogue: list[ModelChoice]) -> SafeString:
    """The register's table rows, written out in Python: the page renders them on every search, and a template
    variable per cell is most of its cost. Every value is escaped here by the standard library's ``html.escape``
    (what Django's ``escape`` calls), without ``format_html``'s lazy-string handling per cell. A device's model and
    category come from ``catalogue`` (the filter's choices, already read), not from a join per page."""
    placeholder = UUID(int=0)
    address = reverse("staffweb:it:device", args=[placeholder]).replace(str(placeholder), "{}")
    names = {model.id: (escape(str(model)), escape(category_name(model))) for model in catalogue}
    statuses = {value: escape(str(label)) for value, label in STATUS.items()}
    months = [str(month) for month in MONTHS]
    never, dash = escape(gettext("aldrig")), "–"
    rows = []
    for device in devices:
        model_name, category = names[device.model_id]
        seen = device.last_seen_at
        seen_cell = (
            f'<time datetime="{timezone.localtime(seen).isoformat()}">{escape(_short_time(seen, months))}</time>'
            if seen
            else never
        )
        status = statuses.get(device.status) or escape(device.status)
        battery = dash if device.battery_level is None else f"{device.battery_level} %"
        location = escape(device.location) if device.location else dash
        rows.append(
            f'<tr><td><a href="{address.format(device.pk)}">{escape(device.serial_number)}</a></td>'
            f"<td>{model_name}</td><td>{category}</td><td>{status}</td>"
            f"<td>{location}</td><td>{battery}</td><td>{seen_cell}</td></tr>"
        )
    return mark_safe("".join(rows))  # noqa: S308 — every value is escaped above
