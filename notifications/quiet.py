"""Quiet hours: the part of each day a person wants no reminder and no push that can wait.

Reminders due inside them are held back until they end (``notifications.reminders``); pushes of other
notifications wait for the end too, except alerts, whose push goes out at once (the inbox and the
websocket are never held back).
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

from notifications.models import QuietHours


def zone_or_none(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name and len(name) <= 64 else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def quiet_hours_end(quiet: QuietHours, at: datetime) -> datetime | None:
    """When the quiet hours around ``at`` end (a UTC instant), or None when ``at`` is outside them.

    Read in local wall-clock time of the quiet hours' zone, so 22:00–07:00 is 22:00–07:00 on the days the
    clocks change too; the end is 07:00 local on the day it falls, whatever the UTC offset that day.
    """
    zone = zone_or_none(quiet.time_zone) or ZoneInfo(settings.DEFAULT_CITIZEN_TIME_ZONE)
    local = at.astimezone(zone)
    wall = local.time().replace(tzinfo=None)
    start, end = quiet.start_time, quiet.end_time
    if start < end:
        if not start <= wall < end:
            return None
        end_day = local.date()
    else:
        if end <= wall < start:
            return None
        end_day = local.date() + timedelta(days=1) if wall >= start else local.date()
    ends = datetime.combine(end_day, end, tzinfo=zone).astimezone(UTC)
    return ends if ends > at else None
