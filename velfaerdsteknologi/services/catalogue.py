"""Changing a catalogue model after it was added: its name and its maintenance intervals.

Manufacturer, model number, category and what the model sends say what the model *is* and stay as added (a
different model is a new catalogue entry). An interval says how often its devices are serviced:

- a changed interval leaves the open tasks at the dates they were planned for; each device's next task of that
  kind, made when the open one is completed, follows the new interval;
- an interval the model did not have gives every device of the model in service (not retired) its first task of
  that kind, one interval from today, with its reminder;
- a removed interval cancels the open tasks of that kind (result "cancelled", with the reason) and their
  reminders; the completed ones stay in the devices' history.
"""

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from backend.errors import InvalidInput
from notifications.services.scheduling import reminders_cancel
from velfaerdsteknologi.models import (
    MAINTENANCE_INTERVAL_FIELD,
    Device,
    DeviceModel,
    DeviceStatus,
    MaintenanceKind,
    MaintenanceTask,
)
from velfaerdsteknologi.services.maintenance import maintenance_reminder_key, maintenance_schedule

CHANGEABLE_FIELDS = ("name", "service_interval_days", "test_call_interval_days", "battery_check_interval_days")
INTERVAL_REMOVED_NOTE = "The model's interval was removed."


def _intervals(device_model: DeviceModel) -> dict[str, int | None]:
    return {
        kind: None
        if kind == MaintenanceKind.BATTERY_CHECK and not device_model.is_battery_powered
        else getattr(device_model, field)
        for kind, field in MAINTENANCE_INTERVAL_FIELD.items()
    }


@transaction.atomic
def device_model_change(*, device_model: DeviceModel, changes: dict[str, Any], today: date) -> DeviceModel:
    """Change the model's name and intervals (``changes``: only what is set); see the module for what happens to
    its devices' maintenance. Nothing changes when a change is refused."""
    for field in changes:
        if field not in CHANGEABLE_FIELDS:
            raise InvalidInput(field, "This field cannot be changed here.")
    locked = DeviceModel.objects.select_for_update().select_related("category").get(pk=device_model.pk)
    if changes.get("battery_check_interval_days") and not locked.is_battery_powered:
        raise InvalidInput("battery_check_interval_days", "Only a battery-powered model has battery checks.")
    if "name" in changes:
        changes = {**changes, "name": (changes["name"] or "").strip()}
    before = _intervals(locked)
    for field, value in changes.items():
        setattr(locked, field, value)
    if changes:
        locked.save(update_fields=list(changes))
    after = _intervals(locked)
    added = [kind for kind in after if after[kind] and not before[kind]]
    removed = [kind for kind in after if before[kind] and not after[kind]]
    devices = Device.objects.filter(model=locked).exclude(status=DeviceStatus.RETIRED).select_related("model")
    if removed:
        open_tasks = MaintenanceTask.objects.filter(device__model=locked, kind__in=removed, completed_at__isnull=True)
        keys = [maintenance_reminder_key(task_id) for task_id in open_tasks.values_list("pk", flat=True)]
        open_tasks.update(
            completed_at=timezone.now(), result=MaintenanceTask.Result.CANCELLED, notes=INTERVAL_REMOVED_NOTE
        )
        if MaintenanceKind.SERVICE in removed:
            devices.update(next_service_due=None)
        reminders_cancel(source_keys=keys)
    if added:
        for device in devices.iterator(chunk_size=500):
            device.model = locked
            maintenance_schedule(device=device, today=today)
    return locked
