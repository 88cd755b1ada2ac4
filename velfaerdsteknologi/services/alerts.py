"""Raising, acknowledging and resolving alerts, and the rules that raise them.

``alert_raise``, ``alert_acknowledge`` and ``alert_resolve`` are the only ways an alert changes; they are
where delivery through ``notifications.services`` (care team or IT inbox, push) is attached.
"""

from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from backend.actors import Actor
from backend.audit import access_log_record
from backend.errors import Conflict, InvalidInput
from backend.models import AccessLogEntry, Citizen, User
from velfaerdsteknologi import events
from velfaerdsteknologi.models import (
    OPEN_ALERT_STATUSES,
    Alert,
    AlertAudience,
    AlertRule,
    AlertSeverity,
    AlertStatus,
    Device,
    DeviceModel,
    TelemetryKind,
)

K = TelemetryKind
Action = AccessLogEntry.Action
Purpose = AccessLogEntry.Purpose
ALERT_RESOURCE = "device_alert"
REASON_HEARTBEAT_BACK = "Enheden sender livstegn igen"
REASON_DEVICE_RETURNED = "Enheden er returneret"
RULE_SHAPE: dict[str, tuple[str, str]] = {
    K.HEARTBEAT: (AlertRule.Type.MISSING_DATA, AlertAudience.IT),
    K.BATTERY: (AlertRule.Type.THRESHOLD, AlertAudience.IT),
    K.CUSTOM: (AlertRule.Type.THRESHOLD, AlertAudience.CARE),
    K.FALL: (AlertRule.Type.EVENT, AlertAudience.CARE),
    K.DOSE_MISSED: (AlertRule.Type.EVENT, AlertAudience.CARE),
    K.BED_EXIT: (AlertRule.Type.EVENT, AlertAudience.CARE),
    K.DOOR_OPEN: (AlertRule.Type.EVENT, AlertAudience.CARE),
}
THRESHOLDS = ("alert_low", "warning_low", "warning_high", "alert_high")
DEFAULT_MISSING_AFTER_INTERVALS = 3
DEFAULT_BATTERY = {"alert_low": 10.0, "warning_low": 20.0}
SECOND = timedelta(seconds=1)
SEVERITY_RANK = {AlertSeverity.WARNING: 1, AlertSeverity.ALERT: 2}


def threshold_severity(rule: AlertRule, value: float) -> str | None:
    """The severity a measurement breaches under the rule's four levels, or None when it is normal."""
    if (rule.alert_low is not None and value <= rule.alert_low) or (
        rule.alert_high is not None and value >= rule.alert_high
    ):
        return AlertSeverity.ALERT
    if (rule.warning_low is not None and value <= rule.warning_low) or (
        rule.warning_high is not None and value >= rule.warning_high
    ):
        return AlertSeverity.WARNING
    return None


def alert_rule_values(*, device_model: DeviceModel, kind: str, settings: dict[str, Any]) -> dict[str, Any]:
    """The checked fields of the model's rule for one kind; the rule's type and audience follow from the kind."""
    if kind not in RULE_SHAPE:
        raise InvalidInput("kind", f"No alert rule can be set for {kind!r} readings.")
    rule_type, audience = RULE_SHAPE[kind]
    values = {name: settings.get(name) for name in THRESHOLDS}
    if rule_type == AlertRule.Type.THRESHOLD:
        given: list[float] = [value for value in (values[name] for name in THRESHOLDS) if value is not None]
        if not given:
            raise InvalidInput("alert_low", "A threshold rule needs at least one threshold.")
        if given != sorted(given):
            raise InvalidInput(
                "warning_low", "Thresholds must rise: alert_low ≤ warning_low ≤ warning_high ≤ alert_high."
            )
    elif any(value is not None for value in values.values()):
        raise InvalidInput("alert_low", f"{kind} rules take no thresholds.")
    missing_after = settings.get("missing_after_intervals")
    if rule_type == AlertRule.Type.MISSING_DATA:
        if not device_model.heartbeat_interval_seconds:
            raise InvalidInput("kind", "The model sends no heartbeat, so it cannot miss one.")
        missing_after = missing_after or DEFAULT_MISSING_AFTER_INTERVALS
    elif missing_after is not None:
        raise InvalidInput("missing_after_intervals", "Only heartbeat rules count missing intervals.")
    return {
        **values,
        "rule_type": rule_type,
        "audience": audience,
        "missing_after_intervals": missing_after,
        "is_active": settings.get("is_active", True),
    }


@transaction.atomic
def alert_rule_set(*, device_model: DeviceModel, kind: str, settings: dict[str, Any]) -> AlertRule:
    """Create or replace the model's rule for one kind; the rule's type and audience follow from the kind."""
    defaults = alert_rule_values(device_model=device_model, kind=kind, settings=settings)
    rule, _ = AlertRule.objects.update_or_create(device_model=device_model, kind=kind, defaults=defaults)
    return rule


def alert_rules_default_settings(device_model: DeviceModel) -> list[tuple[str, dict[str, Any]]]:
    """The rules a new model starts with, by kind: missing heartbeats, low battery, and its health events."""
    rules: list[tuple[str, dict[str, Any]]] = []
    kinds = set(device_model.telemetry_kinds or [])
    if device_model.heartbeat_interval_seconds:
        rules.append((K.HEARTBEAT, {}))
    if device_model.is_battery_powered:
        rules.append((K.BATTERY, DEFAULT_BATTERY))
    rules += [(kind, {}) for kind in (K.FALL, K.DOSE_MISSED) if kind in kinds]
    return rules


def alert_rules_default(*, device_model: DeviceModel) -> list[AlertRule]:
    """Set the rules a new model starts with (``alert_rules_default_settings``)."""
    return [
        alert_rule_set(device_model=device_model, kind=kind, settings=settings)
        for kind, settings in alert_rules_default_settings(device_model)
    ]


def alert_rules_default_rows(device_models: list[DeviceModel]) -> list[AlertRule]:
    """The default rules of models not yet saved with any, as rows to insert together."""
    return [
        AlertRule(
            device_model=device_model,
            kind=kind,
            **alert_rule_values(device_model=device_model, kind=kind, settings=settings),
        )
        for device_model in device_models
        for kind, settings in alert_rules_default_settings(device_model)
    ]


def alert_raise(
    *,
    device: Device,
    rule: AlertRule,
    severity: str,
    at: datetime,
    citizen: Citizen | None,
    value: float | None = None,
    occurrences: int = 1,
) -> tuple[Alert, bool]:
    """Open an alert for the device and rule, or add to the one already unresolved (one per device, rule and
    citizen, guarded by constraints). ``citizen`` is the one whose assignment is active now: a health alert is
    theirs, so a later citizen never inherits it. A health alert with no citizen to tell goes to IT.
    Returns (alert, created)."""
    audience = rule.audience if citizen is not None else AlertAudience.IT
    concerned = citizen if audience == AlertAudience.CARE else None
    with transaction.atomic():
        existing = _unresolved(device, rule, concerned)
        if existing is None:
            try:
                with transaction.atomic():
                    alert = Alert.objects.create(
                        device=device,
                        rule=rule,
                        citizen=concerned,
                        audience=audience,
                        kind=rule.kind,
                        severity=severity,
                        value=value,
                        trigger_count=occurrences,
                        opened_at=at,
                        last_triggered_at=at,
                    )
                transaction.on_commit(partial(events.device_alert_raised, alert_id=alert.pk, severity=severity))
                return alert, True
            except IntegrityError:
                existing = _unresolved(device, rule, concerned)
                assert existing is not None
        changes: dict[str, Any] = {"trigger_count": F("trigger_count") + occurrences}
        if at > existing.last_triggered_at:
            changes["last_triggered_at"] = at
        if SEVERITY_RANK[AlertSeverity(severity)] > SEVERITY_RANK[AlertSeverity(existing.severity)]:
            changes.update(severity=severity, value=value)
            transaction.on_commit(partial(events.device_alert_raised, alert_id=existing.pk, severity=severity))
        Alert.objects.filter(pk=existing.pk).update(**changes)
        existing.refresh_from_db()
        return existing, False


def _unresolved(device: Device, rule: AlertRule, citizen: Citizen | None) -> Alert | None:
    return (
        Alert.objects.select_for_update()
        .filter(device=device, rule=rule, citizen=citizen, status__in=OPEN_ALERT_STATUSES)
        .first()
    )


def _as_actor(by: Actor | User) -> Actor:
    return by if isinstance(by, Actor) else Actor(user=by)


def _locked(alert: Alert) -> Alert:
    return Alert.objects.select_for_update(of=("self",)).select_related("citizen").get(pk=alert.pk)


def _log_change(actor: Actor, alert: Alert) -> None:
    """Acknowledging or resolving a health alert handles the citizen's data (their name and the event)."""
    if alert.citizen is None:
        return
    purpose = Purpose.CARE if alert.audience == AlertAudience.CARE else Purpose.DEVICE_INSTALLATION
    access_log_record(
        actor=actor,
        citizens=[alert.citizen],
        resource_type=ALERT_RESOURCE,
        action=Action.UPDATE,
        resource_id=str(alert.pk),
        purpose=purpose,
    )


@transaction.atomic
def alert_acknowledge(*, alert: Alert, by: Actor | User) -> Alert:
    """Someone has seen the alert and is on it. Logged in the access log when the alert concerns a citizen."""
    actor = _as_actor(by)
    locked = _locked(alert)
    if locked.status != AlertStatus.OPEN:
        raise Conflict(f"The alert is already {locked.status}.", code="alert_not_open")
    locked.status = AlertStatus.ACKNOWLEDGED
    locked.acknowledged_at = timezone.now()
    locked.acknowledged_by = actor.user
    locked.save(update_fields=["status", "acknowledged_at", "acknowledged_by"])
    _log_change(actor, locked)
    transaction.on_commit(partial(events.device_alert_acknowledged, alert_id=locked.pk, by_user_id=actor.user.pk))
    return locked


@transaction.atomic
def alert_resolve(*, alert: Alert, by: Actor | User | None, reason: str = "") -> Alert:
    """The alert is dealt with. ``by`` is None when the system resolved it (a heartbeat came back, the device
    was returned), and ``reason`` then says why. A person's resolution of a citizen's alert is access-logged."""
    actor = _as_actor(by) if by is not None else None
    locked = _locked(alert)
    if locked.status == AlertStatus.RESOLVED:
        raise Conflict("The alert is already resolved.", code="alert_not_open")
    now = timezone.now()
    user = actor.user if actor is not None else None
    locked.status = AlertStatus.RESOLVED
    locked.resolved_at = now
    locked.resolved_by = user
    locked.resolution_reason = reason
    if locked.acknowledged_at is None:
        locked.acknowledged_at = now
        locked.acknowledged_by = user
        if user is not None:
            transaction.on_commit(partial(events.device_alert_acknowledged, alert_id=locked.pk, by_user_id=user.pk))
    locked.save(
        update_fields=[
            "status",
            "resolved_at",
            "resolved_by",
            "resolution_reason",
            "acknowledged_at",
            "acknowledged_by",
        ]
    )
    if actor is not None:
        _log_change(actor, locked)
    return locked


def alerts_resolve_missing_data(*, device: Device) -> list[Alert]:
    """A heartbeat came back: the device's missing-data alert ends. One query when there is none."""
    unresolved = Alert.objects.filter(device=device, kind=K.HEARTBEAT, status__in=OPEN_ALERT_STATUSES)
    return [alert_resolve(alert=alert, by=None, reason=REASON_HEARTBEAT_BACK) for alert in unresolved]


def alerts_resolve_on_return(*, device: Device) -> list[Alert]:
    """The device came back from the citizen: none of its open alerts is anyone's to act on any more, and a
    later citizen must not inherit them."""
    unresolved = Alert.objects.filter(device=device, status__in=OPEN_ALERT_STATUSES)
    return [alert_resolve(alert=alert, by=None, reason=REASON_DEVICE_RETURNED) for alert in unresolved]


def missing_heartbeats_detect(*, now: datetime | None = None) -> int:
    """Raise a missing-data alert for every device in use that has sent no heartbeat for k expected intervals
    (counted from its installation when it never sent one). Safe to run twice: one alert per device and rule."""
    from velfaerdsteknologi.models import DeviceStatus

    now = now or timezone.now()
    raised = 0
    rules = AlertRule.objects.filter(
        rule_type=AlertRule.Type.MISSING_DATA, is_active=True, device_model__heartbeat_interval_seconds__isnull=False
    ).select_related("device_model")
    for rule in rules:
        interval = rule.device_model.heartbeat_interval_seconds or 0
        cutoff = now - interval * (rule.missing_after_intervals or DEFAULT_MISSING_AFTER_INTERVALS) * SECOND
        silent = (
            Device.objects.filter(model_id=rule.device_model_id, status=DeviceStatus.IN_USE)
            .filter(
                Q(last_seen_at__lt=cutoff)
                | Q(
                    last_seen_at__isnull=True,
                    assignments__returned_at__isnull=True,
                    assignments__installed_at__lt=cutoff,
                )
            )
            .exclude(pk__in=Alert.objects.filter(rule=rule, status__in=OPEN_ALERT_STATUSES).values("device_id"))
            .distinct()
        )
        for device in silent:
            alert_raise(device=device, rule=rule, severity=AlertSeverity.ALERT, at=now, citizen=None)
            raised += 1
    return raised


@transaction.atomic
def device_model_create(*, category: Any, **fields: Any) -> DeviceModel:
    """Add a model to the catalogue with its default alert rules; a manufacturer's model number is there once."""
    try:
        with transaction.atomic():
            device_model = DeviceModel.objects.create(category=category, **fields)
    except IntegrityError as exc:
        raise InvalidInput(
            "model_number", "This manufacturer's model is already in the catalogue.", code="duplicate"
        ) from exc
    alert_rules_default(device_model=device_model)
    return device_model
