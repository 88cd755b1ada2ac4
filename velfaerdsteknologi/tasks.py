"""Background entry points of the welfare-technology app. Each is safe to run twice and meant to run
periodically (see the management commands of the same names for cron or a systemd timer)."""

from django.tasks import task

from velfaerdsteknologi.services.alerts import missing_heartbeats_detect
from velfaerdsteknologi.services.assignments import return_tasks_detect


@task()
def detect_missing_heartbeats() -> int:
    """Raise a missing-data alert for each device in use that has been silent for k heartbeat intervals."""
    return missing_heartbeats_detect()


@task()
def detect_return_tasks() -> int:
    """Open a return task for each device whose citizen has moved or died."""
    return return_tasks_detect()
