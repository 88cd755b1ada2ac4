"""Scheduled service, test calls and battery checks, from each model's intervals."""

from datetime import date, time, timedelta
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.errors import Conflict
from backend.models import User
from backend.timeutil import municipal_today
from notifications.services import (
    ReminderSpec,
    it_staff_audience,
    reminder_due_at,
    reminders_cancel,
    reminders_schedule,
)
from velfaerdsteknologi.models import (
    MAINTENANCE_INTERVAL_FIELD,
    Device,
    DeviceStatus,
    MaintenanceKind,
    MaintenanceTask,
)

MAINTENANCE_REMINDER = "reminder.maintenance"
MAINTENANCE_REMINDER_TIME = time(8, 0)


def maintenance_reminder_key(task_id: UUID) -> str:
    return f"maintenance:{task_id}"


def _reminder_schedule(device: Device, task: MaintenanceTask) -> None:
    """The municipality's IT staff of the day are reminded at 08:00 local time on the due date."""
    reminders_schedule(
        items=[
            ReminderSpec(
                recipient_id=None,
                audience=it_staff_audience(device.municipality_id),
                kind=MAINTENANCE_REMINDER,
                due_at=reminder_due_at(task.due_on, MAINTENANCE_REMINDER_TIME, settings.DEFAULT_CITIZEN_TIME_ZONE),
                source_key=maintenance_reminder_key(task.pk),
                refs={"device_id": device.pk, "maintenance_task_id": task.pk},
            )
        ]
    )


def maintenance_reminders_cancel(*, device: Device) -> int:
    """Cancel the reminders of the device's maintenance tasks that are closed (a retired device's)."""
    closed = MaintenanceTask.objects.filter(device=device, completed_at__isnull=False).values_list("pk", flat=True)
    return reminders_cancel(source_keys=[maintenance_reminder_key(task_id) for task_id in closed])


def _interval_days(device: Device, kind: str) -> int | None:
    if kind == MaintenanceKind.BATTERY_CHECK and not device.model.is_battery_powered:
        return None
    return getattr(device.model, MAINTENANCE_INTERVAL_FIELD[MaintenanceKind(kind)])


def _schedule_one(*, device: Device, kind: str, from_day: date) -> MaintenanceTask | None:
    days = _interval_days(device, kind)
    if not days:
        return None
    try:
        with transaction.atomic():
            task = MaintenanceTask.objects.create(device=device, kind=kind, due_on=from_day + timedelta(days=days))
    except IntegrityError:
        return MaintenanceTask.objects.get(device=device, kind=kind, completed_at__isnull=True)
    _reminder_schedule(device, task)
    if kind == MaintenanceKind.SERVICE:
        Device.objects.filter(pk=device.pk).update(next_service_due=task.due_on)
        device.next_service_due = task.due_on
    return task


@transaction.atomic
def maintenance_schedule(*, device: Device, today: date) -> list[MaintenanceTask]:
    """Ensure one open task per maintenance kind the model needs. Safe to call again."""
    if device.status == DeviceStatus.RETIRED:
        return []
    tasks = [_schedule_one(device=device, kind=kind, from_day=today) for kind in MaintenanceKind.values]
    return [task for task in tasks if task is not None]


def maintenance_first_tasks(*, devices: list[Device], today: date) -> list[MaintenanceTask]:
    """The first maintenance of devices not yet saved, as ``maintenance_schedule`` would make it: one task per
    kind the model needs, due one interval from ``today``; each device's ``next_service_due`` follows its
    service. Insert the devices, then the tasks with ``maintenance_first_tasks_save``."""
    tasks = []
    for device in devices:
        for kind in MaintenanceKind.values:
            days = _interval_days(device, kind)
            if not days:
                continue
            task = MaintenanceTask(device=device, kind=kind, due_on=today + timedelta(days=days))
            if kind == MaintenanceKind.SERVICE:
                device.next_service_due = task.due_on
            tasks.append(task)
    return tasks


REMINDER_CHUNK = 1000


def maintenance_first_tasks_save(*, tasks: list[MaintenanceTask], municipality_id: UUID) -> None:
    """Insert new devices' first tasks together, with their reminders (in the caller's transaction)."""
    MaintenanceTask.objects.bulk_create(tasks, batch_size=REMINDER_CHUNK)
    audience = it_staff_audience(municipality_id)
    specs = [
        ReminderSpec(
            recipient_id=None,
            audience=audience,
            kind=MAINTENANCE_REMINDER,
            due_at=reminder_due_at(task.due_on, MAINTENANCE_REMINDER_TIME, settings.DEFAULT_CITIZEN_TIME_ZONE),
            source_key=maintenance_reminder_key(task.pk),
            refs={"device_id": task.device_id, "maintenance_task_id": task.pk},
        )
        for task in tasks
    ]
    for start in range(0, len(specs), REMINDER_CHUNK):
        reminders_schedule(items=specs[start : start + REMINDER_CHUNK])


@transaction.atomic
def maintenance_complete(*, task: MaintenanceTask, by: User, result: str, notes: str = "") -> MaintenanceTask:
    """Record the result of a service, test call or battery check and schedule the next one."""
    locked = MaintenanceTask.objects.select_for_update().select_related("device__model").get(pk=task.pk)
    if locked.completed_at is not None:
        raise Conflict("This maintenance task is already done.", code="already_completed")
    locked.completed_at = timezone.now()
    locked.completed_by = by
    locked.result = result
    locked.notes = notes
    locked.save(update_fields=["completed_at", "completed_by", "result", "notes"])
    reminders_cancel(source_keys=[maintenance_reminder_key(locked.pk)])
    _schedule_one(device=locked.device, kind=locked.kind, from_day=municipal_today())
    return locked


def maintenance_test_calls_cancel(*, device: Device) -> int:
    """A device taken back from a citizen has no test call due (nobody is there to call) until it is installed
    again; its open test call is cancelled with its reminder."""
    open_calls = list(
        MaintenanceTask.objects.filter(
            device=device, kind=MaintenanceKind.TEST_CALL, completed_at__isnull=True
        ).values_list("pk", flat=True)
    )
    if not open_calls:
        return 0
    MaintenanceTask.objects.filter(pk__in=open_calls).update(
        completed_at=timezone.now(), result=MaintenanceTask.Result.CANCELLED, notes="Enheden er returneret"
    )
    reminders_cancel(source_keys=[maintenance_reminder_key(task_id) for task_id in open_calls])
    return len(open_calls)
