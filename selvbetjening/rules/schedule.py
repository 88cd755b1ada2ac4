"""Training schedules: RFC 5545 recurrence rules read as local wall-clock times in the citizen's zone.

A plan version's rule is expanded from its ``start_date`` at its ``start_time`` as *naive local* times
(so Monday 10:00 stays 10:00 across daylight-saving changes) up to the end of its ``end_date``; each
local time is then placed in ``time_zone`` and turned into a UTC instant the way RFC 5545 §3.3.5
prescribes:

- a time that falls in the spring-forward gap (02:30 on the last Sunday of March in Copenhagen) is
  read with the offset before the gap, so it becomes 03:30 summer time, one hour after 01:30;
- a time that occurs twice in the autumn (02:30 on the last Sunday of October) is the first one,
  in summer time (``fold=0``).

Two local times that land on the same instant that way (02:30 and 03:30 on a spring-forward day)
give one occurrence.

The plan version's start and end govern the period, so a rule may not carry its own ``DTSTART``,
``UNTIL`` or ``COUNT``; training is at most daily in frequency (several times a day only through
``BYHOUR``/``BYMINUTE``) and never more than ``MAX_PER_DAY`` times a day.
"""

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrulestr

from backend.errors import InvalidInput

FIELD = "recurrence_rule"
MAX_PER_DAY = 6
MAX_INTERVAL = 366
ALLOWED_FREQUENCIES = frozenset({"DAILY", "WEEKLY", "MONTHLY", "YEARLY"})
SUB_DAILY_FREQUENCIES = frozenset({"HOURLY", "MINUTELY", "SECONDLY"})
ALLOWED_PARTS = frozenset(
    {"FREQ", "INTERVAL", "WKST", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYYEARDAY", "BYWEEKNO", "BYSETPOS"}
    | {"BYHOUR", "BYMINUTE"}
)
PERIOD_PARTS = frozenset({"DTSTART", "UNTIL", "COUNT"})
# The Gregorian calendar repeats itself every 400 years to the weekday (146 097 days, 20 871 weeks,
# 4 800 months). Expanding in a copy of the calendar moved forward by whole cycles, as close to the
# year 9999 as the window allows, bounds the search of dateutil for an occurrence that never comes
# (say, 30 February) to at most one cycle instead of the ~8 000 years to ``datetime.MAXYEAR``.
CALENDAR_CYCLE_YEARS = 400
LAST_SHIFTED_YEAR = 9998
DENSITY_PROBE_DAYS = 800
# Naive local wall-clock times throughout: a Monday at midnight, so every time of the day counts.
DENSITY_PROBE_START = datetime.combine(date(2028, 1, 3), time.min)


class Schedule(Protocol):
    """What a plan version (or anything shaped like one) tells about when to train."""

    recurrence_rule: str
    start_date: date
    start_time: time
    end_date: date
    time_zone: str


def _parts(rule: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    for chunk in rule.split(";"):
        name, separator, value = chunk.partition("=")
        if not separator or not name or not value:
            raise InvalidInput(FIELD, f"'{chunk}' is not of the form NAME=VALUE.")
        if name in parts:
            raise InvalidInput(FIELD, f"{name} is given twice.")
        parts[name] = value
    return parts


def _check_parts(parts: dict[str, str]) -> None:
    for name in parts:
        if name in PERIOD_PARTS:
            raise InvalidInput(FIELD, f"{name} is not allowed: the plan's start_date and end_date decide the period.")
        if name == "BYSECOND":
            raise InvalidInput(FIELD, "BYSECOND is not allowed: training times are to the minute.")
        if name not in ALLOWED_PARTS:
            raise InvalidInput(FIELD, f"{name} is not a recurrence rule part this schedule supports.")
    frequency = parts.get("FREQ")
    if frequency is None:
        raise InvalidInput(FIELD, "FREQ is required.")
    if frequency in SUB_DAILY_FREQUENCIES:
        raise InvalidInput(
            FIELD, f"FREQ={frequency} is not allowed: at most daily; use BYHOUR for several times a day."
        )
    if frequency not in ALLOWED_FREQUENCIES:
        raise InvalidInput(FIELD, f"FREQ={frequency} is not a frequency.")
    interval = parts.get("INTERVAL", "1")
    if not interval.isdigit() or not 1 <= int(interval) <= MAX_INTERVAL:
        raise InvalidInput(FIELD, f"INTERVAL must be a whole number from 1 to {MAX_INTERVAL}.")
    for value in parts.get("BYMONTHDAY", "1").split(","):
        if not value.lstrip("+-").isdigit() or not 1 <= abs(int(value)) <= 31:
            raise InvalidInput(FIELD, "BYMONTHDAY values must be 1 to 31 or -31 to -1.")


def _shift(value: datetime, years: int) -> datetime:
    return value.replace(year=value.year + years)


def _local_times(rule: str, dtstart: datetime, first: datetime, last: datetime) -> Iterator[datetime]:
    """The naive local times the rule gives from ``dtstart``, between ``first`` and ``last`` inclusive."""
    if last < first or last < dtstart:
        return
    cycles = max(0, (LAST_SHIFTED_YEAR - last.year) // CALENDAR_CYCLE_YEARS)
    years = cycles * CALENDAR_CYCLE_YEARS
    recurrence = rrulestr(rule, dtstart=_shift(dtstart, years), cache=False)
    shifted_first, shifted_last = _shift(first, years), _shift(last, years)
    values = iter(recurrence)
    while True:
        try:
            value = next(values)
        except StopIteration:
            return
        except (ValueError, OverflowError):
            # Weekly sets that would reach past the year 9999 at the very end of the search.
            return
        if value > shifted_last:
            return
        if value >= shifted_first:
            yield _shift(value, -years)


def _parse(rule: str) -> None:
    try:
        rrulestr(rule, dtstart=DENSITY_PROBE_START, cache=False)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise InvalidInput(FIELD, f"is not a valid RFC 5545 recurrence rule ({exc}).") from exc


def _most_in_one_day(rule: str) -> int:
    per_day: Counter[date] = Counter()
    last = DENSITY_PROBE_START + timedelta(days=DENSITY_PROBE_DAYS)
    for value in _local_times(rule, DENSITY_PROBE_START, DENSITY_PROBE_START, last):
        per_day[value.date()] += 1
        if per_day[value.date()] > MAX_PER_DAY:
            break
    return max(per_day.values(), default=0)


def validate_recurrence_rule(rule: str) -> str:
    """The rule in its normal form (upper case, no ``RRULE:`` prefix), or 422 naming ``recurrence_rule``."""
    normal = rule.strip().upper()
    normal = normal.removeprefix("RRULE:")
    if not normal:
        raise InvalidInput(FIELD, "is required.")
    if any(character in normal for character in ":\r\n"):
        raise InvalidInput(FIELD, "must be one RRULE value, without DTSTART or other lines.")
    parts = _parts(normal)
    _check_parts(parts)
    _parse(normal)
    if _most_in_one_day(normal) > MAX_PER_DAY:
        raise InvalidInput(FIELD, f"gives more than {MAX_PER_DAY} training times on a day.")
    return normal


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput("time_zone", "is not a known time zone.") from exc


def _start(schedule: Schedule) -> datetime:
    return datetime.combine(schedule.start_date, schedule.start_time)


def _end(schedule: Schedule) -> datetime:
    return datetime.combine(schedule.end_date, time.max)


def _to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    # fold=0: the first of a repeated hour, and the offset before a gap (RFC 5545 §3.3.5).
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def validate_schedule(schedule: Schedule) -> None:
    """A schedule that gives at least one training time within its period, or 422 naming the field."""
    if schedule.end_date < schedule.start_date:
        raise InvalidInput("end_date", "must not be before start_date.")
    zone_of(schedule.time_zone)
    first = next(_local_times(schedule.recurrence_rule, _start(schedule), _start(schedule), _end(schedule)), None)
    if first is None:
        raise InvalidInput(FIELD, "gives no training time between start_date and end_date.")


def occurrences(version: Schedule, start: datetime, end: datetime) -> list[datetime]:
    """The schedule's training times from ``start`` (inclusive) to ``end`` (exclusive), as UTC instants.

    ``start`` and ``end`` are aware instants; the result is sorted, without duplicates, and each time
    keeps its local wall-clock time in the version's zone.
    """
    zone = zone_of(version.time_zone)
    # A day's margin on either side: the local window of an instant window is at most a few hours
    # wider or narrower around a daylight-saving change.
    first = max(_start(version), start.astimezone(zone).replace(tzinfo=None) - timedelta(days=1))
    last = min(_end(version), end.astimezone(zone).replace(tzinfo=None) + timedelta(days=1))
    instants = {_to_utc(local, zone) for local in _local_times(version.recurrence_rule, _start(version), first, last)}
    return sorted(instant for instant in instants if start <= instant < end)


def local_date(instant: datetime, time_zone: str) -> date:
    """The day an instant falls on in the zone."""
    return instant.astimezone(zone_of(time_zone)).date()


# --- Weekdays and times of day -------------------------------------------------------------------

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WEEKLY_TIMES_PARTS = frozenset({"FREQ", "BYDAY", "BYHOUR", "BYMINUTE", "BYSETPOS", "WKST"})


def weekly_times_rule(weekdays: Iterable[str], times: Iterable[time]) -> tuple[str, time]:
    """The recurrence rule and start time for training on ``weekdays`` at each of ``times`` (local, to the
    minute), as ``validate_recurrence_rule`` gives it, or 422 naming the field.

    One time is the start time alone (``FREQ=WEEKLY;BYDAY=MO,WE``); several on the same minute are
    ``BYHOUR`` with one ``BYMINUTE``. Times on different minutes (07:30 and 19:00) cannot be said by
    ``BYHOUR`` and ``BYMINUTE`` alone, which give every hour with every minute; the day's set of those
    is cut down to the times asked for by ``BYSETPOS``, which RFC 5545 applies per period, so the
    frequency is daily with ``BYDAY`` keeping the weekdays."""
    asked = set(weekdays)
    days = [code for code in WEEKDAY_CODES if code in asked]
    if not days or asked - set(WEEKDAY_CODES):
        raise InvalidInput(FIELD, "give one or more weekdays (MO to SU).")
    values = sorted({value.replace(second=0, microsecond=0, tzinfo=None) for value in times})
    if not values:
        raise InvalidInput("start_time", "give at least one time of day.")
    if len(values) > MAX_PER_DAY:
        raise InvalidInput(FIELD, f"gives more than {MAX_PER_DAY} training times on a day.")
    by_day = "BYDAY=" + ",".join(days)
    if len(values) == 1:
        return validate_recurrence_rule(f"FREQ=WEEKLY;{by_day}"), values[0]
    hours = sorted({value.hour for value in values})
    minutes = sorted({value.minute for value in values})
    by_time = "BYHOUR=" + ",".join(map(str, hours)) + ";BYMINUTE=" + ",".join(map(str, minutes))
    if len(minutes) == 1:
        return validate_recurrence_rule(f"FREQ=WEEKLY;{by_day};{by_time}"), values[0]
    day_set = [time(hour, minute) for hour in hours for minute in minutes]
    positions = ",".join(str(day_set.index(value) + 1) for value in values)
    return validate_recurrence_rule(f"FREQ=DAILY;{by_day};{by_time};BYSETPOS={positions}"), values[0]


def weekly_times_of(rule: str, start_time: time) -> tuple[list[str], list[time]] | None:
    """The weekdays and times of day of a rule that trains on whole weekdays at fixed times (what
    ``weekly_times_rule`` makes, and the weekly and daily rules written by hand), or None for any other
    rule (every other week, monthly, ...)."""
    try:
        parts = _parts(rule.strip().upper().removeprefix("RRULE:"))
    except InvalidInput:
        return None
    frequency = parts.get("FREQ")
    if frequency not in ("DAILY", "WEEKLY") or set(parts) - WEEKLY_TIMES_PARTS:
        return None
    days = [day for day in parts.get("BYDAY", "").split(",") if day]
    if any(day not in WEEKDAY_CODES for day in days):
        return None
    if not days:
        if frequency == "WEEKLY":
            return None
        days = list(WEEKDAY_CODES)
    try:
        hours = [int(value) for value in parts.get("BYHOUR", str(start_time.hour)).split(",")]
        minutes = [int(value) for value in parts.get("BYMINUTE", str(start_time.minute)).split(",")]
        day_set = sorted({time(hour, minute) for hour in hours for minute in minutes})
        if "BYSETPOS" not in parts:
            return [code for code in WEEKDAY_CODES if code in days], day_set
        positions = [int(value) for value in parts["BYSETPOS"].split(",")]
        if 0 in positions:
            return None
        chosen = sorted({day_set[position - 1 if position > 0 else position] for position in positions})
    except (ValueError, IndexError):
        return None
    if frequency == "WEEKLY":
        # BYSETPOS on a weekly rule picks from the whole week's set, not from each day's.
        return None
    return [code for code in WEEKDAY_CODES if code in days], chosen
