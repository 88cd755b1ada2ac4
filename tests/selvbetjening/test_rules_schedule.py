"""Recurrence rules: what is refused, and local wall-clock times that hold across daylight-saving changes."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend.errors import InvalidInput
from selvbetjening.rules.schedule import (
    WEEKDAY_CODES,
    local_date,
    occurrences,
    validate_recurrence_rule,
    validate_schedule,
    weekly_times_of,
    weekly_times_rule,
)

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


@dataclass
class Version:
    recurrence_rule: str
    start_date: date
    start_time: time
    end_date: date
    time_zone: str = "Europe/Copenhagen"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def local(instants: list[datetime]) -> list[str]:
    return [instant.astimezone(COPENHAGEN).strftime("%a %Y-%m-%d %H:%M %z") for instant in instants]


# --- Daylight-saving changes ---------------------------------------------------------------------


def test_monday_wednesday_friday_ten_stays_ten_across_spring_forward_2026():
    version = Version("FREQ=WEEKLY;BYDAY=MO,WE,FR", date(2026, 3, 1), time(10, 0), date(2026, 6, 30))
    found = occurrences(version, utc(2026, 3, 23), utc(2026, 4, 4))
    assert local(found) == [
        "Mon 2026-03-23 10:00 +0100",
        "Wed 2026-03-25 10:00 +0100",
        "Fri 2026-03-27 10:00 +0100",
        "Mon 2026-03-30 10:00 +0200",
        "Wed 2026-04-01 10:00 +0200",
        "Fri 2026-04-03 10:00 +0200",
    ]
    assert found[2] == utc(2026, 3, 27, 9, 0)
    assert found[3] == utc(2026, 3, 30, 8, 0)


def test_daily_ten_stays_ten_across_fall_back_2026():
    version = Version("FREQ=DAILY", date(2026, 10, 1), time(10, 0), date(2026, 11, 30))
    found = occurrences(version, utc(2026, 10, 24), utc(2026, 10, 27))
    assert [instant.astimezone(COPENHAGEN).time() for instant in found] == [time(10, 0)] * 3
    assert found == [utc(2026, 10, 24, 8, 0), utc(2026, 10, 25, 9, 0), utc(2026, 10, 26, 9, 0)]


@pytest.mark.parametrize(
    ("change_day", "before", "after"),
    [
        (date(2027, 3, 28), utc(2027, 3, 27, 9, 0), utc(2027, 3, 28, 8, 0)),  # last Sunday of March 2027
        (date(2027, 10, 31), utc(2027, 10, 30, 8, 0), utc(2027, 10, 31, 9, 0)),  # last Sunday of October 2027
    ],
)
def test_daily_ten_across_the_changes_of_2027(change_day, before, after):
    version = Version("FREQ=DAILY", date(2027, 1, 1), time(10, 0), date(2027, 12, 31))
    found = occurrences(version, before, utc(change_day.year, change_day.month, change_day.day, 23))
    assert found == [before, after]
    assert local(found)[0].endswith("10:00 " + ("+0100" if change_day.month == 3 else "+0200"))
    assert local(found)[1].endswith("10:00 " + ("+0200" if change_day.month == 3 else "+0100"))


def test_several_times_a_day_keep_their_local_times_across_spring_forward():
    version = Version("FREQ=DAILY;BYHOUR=8,14,20;BYMINUTE=15", date(2026, 3, 1), time(8, 0), date(2026, 4, 30))
    found = occurrences(version, utc(2026, 3, 28), utc(2026, 3, 30))
    assert [instant.astimezone(COPENHAGEN).strftime("%d %H:%M") for instant in found] == [
        "28 08:15",
        "28 14:15",
        "28 20:15",
        "29 08:15",
        "29 14:15",
        "29 20:15",
    ]
    assert found[2] - found[1] == found[4] - found[3]  # six hours apart on either side of the change


def test_a_time_in_the_spring_forward_gap_is_read_with_the_offset_before_it():
    """02:30 on 29 March 2026 does not exist in Copenhagen: RFC 5545 reads it as 01:30 UTC (03:30 CEST)."""
    version = Version("FREQ=DAILY", date(2026, 3, 27), time(2, 30), date(2026, 4, 3))
    found = occurrences(version, utc(2026, 3, 28), utc(2026, 3, 31))
    assert found == [utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 30), utc(2026, 3, 30, 0, 30)]
    assert local(found) == [
        "Sat 2026-03-28 02:30 +0100",
        "Sun 2026-03-29 03:30 +0200",
        "Mon 2026-03-30 02:30 +0200",
    ]


def test_two_local_times_that_meet_in_the_gap_give_one_slot():
    version = Version("FREQ=DAILY;BYHOUR=2,3;BYMINUTE=30", date(2026, 3, 27), time(2, 30), date(2026, 4, 3))
    found = occurrences(version, utc(2026, 3, 29), utc(2026, 3, 30))
    assert found == [utc(2026, 3, 29, 1, 30)]


def test_a_time_in_the_repeated_autumn_hour_is_the_first_one_once():
    """02:30 on 25 October 2026 happens twice in Copenhagen; the slot is the first, in summer time."""
    version = Version("FREQ=DAILY", date(2026, 10, 20), time(2, 30), date(2026, 10, 31))
    found = occurrences(version, utc(2026, 10, 24), utc(2026, 10, 27))
    assert found == [utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]
    assert local(found)[1] == "Sun 2026-10-25 02:30 +0200"


def test_the_zone_is_the_versions():
    version = Version(
        "FREQ=WEEKLY;BYDAY=MO", date(2026, 3, 1), time(9, 0), date(2026, 3, 31), time_zone="America/New_York"
    )
    # New York moves its clocks on 8 March 2026, three weeks before Europe.
    found = occurrences(version, utc(2026, 3, 1), utc(2026, 3, 17))
    assert found == [utc(2026, 3, 2, 14), utc(2026, 3, 9, 13), utc(2026, 3, 16, 13)]


# --- The period ----------------------------------------------------------------------------------


def test_the_window_includes_its_start_and_excludes_its_end():
    version = Version("FREQ=DAILY", date(2026, 5, 1), time(10, 0), date(2026, 5, 31))
    found = occurrences(version, utc(2026, 5, 4, 8), utc(2026, 5, 6, 8))
    assert found == [utc(2026, 5, 4, 8), utc(2026, 5, 5, 8)]


def test_nothing_before_the_start_date_and_time_and_nothing_after_the_end_date():
    version = Version("FREQ=DAILY;BYHOUR=8,16;BYMINUTE=0", date(2026, 5, 10), time(12, 0), date(2026, 5, 12))
    found = occurrences(version, utc(2026, 5, 1), utc(2026, 6, 1))
    assert local(found) == [
        "Sun 2026-05-10 16:00 +0200",
        "Mon 2026-05-11 08:00 +0200",
        "Mon 2026-05-11 16:00 +0200",
        "Tue 2026-05-12 08:00 +0200",
        "Tue 2026-05-12 16:00 +0200",
    ]


def test_interval_counts_from_the_start_date():
    version = Version("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", date(2026, 5, 4), time(10, 0), date(2026, 6, 30))
    found = occurrences(version, utc(2026, 5, 1), utc(2026, 6, 1))
    assert [instant.astimezone(COPENHAGEN).day for instant in found] == [5, 19]


# --- What is refused -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=WEEKLY;BYDAY=XX",
        "not a rule",
        "BYDAY=MO",
        "FREQ=WEEKLY;;BYDAY=MO",
        "FREQ=WEEKLY;BYDAY=MO;BYDAY=TU",
        "FREQ=FORTNIGHTLY",
        "FREQ=DAILY;BYHOUR=25",
        "FREQ=DAILY;INTERVAL=0",
        "FREQ=MONTHLY;BYMONTHDAY=0",
        "FREQ=WEEKLY;X-NAME=1",
        "DTSTART:20260101T100000\nRRULE:FREQ=DAILY",
        "",
    ],
)
def test_malformed_rules_are_refused_naming_the_field(rule):
    with pytest.raises(InvalidInput) as refused:
        validate_recurrence_rule(rule)
    assert refused.value.field == "recurrence_rule"


@pytest.mark.parametrize("frequency", ["HOURLY", "MINUTELY", "SECONDLY"])
def test_sub_daily_frequencies_are_refused(frequency):
    with pytest.raises(InvalidInput, match=f"FREQ={frequency} is not allowed"):
        validate_recurrence_rule(f"FREQ={frequency}")


@pytest.mark.parametrize("rule", ["FREQ=DAILY;COUNT=10", "FREQ=DAILY;UNTIL=20260601T000000Z", "FREQ=WEEKLY;BYSECOND=0"])
def test_rules_carrying_their_own_period_or_seconds_are_refused(rule):
    with pytest.raises(InvalidInput) as refused:
        validate_recurrence_rule(rule)
    assert refused.value.field == "recurrence_rule"


def test_more_than_six_times_a_day_is_refused_and_six_is_allowed():
    assert validate_recurrence_rule("FREQ=DAILY;BYHOUR=8,10,12,14,16,18") == "FREQ=DAILY;BYHOUR=8,10,12,14,16,18"
    with pytest.raises(InvalidInput, match="more than 6"):
        validate_recurrence_rule("FREQ=DAILY;BYHOUR=8,10,12,14,16,18,20")
    with pytest.raises(InvalidInput, match="more than 6"):
        validate_recurrence_rule("FREQ=WEEKLY;BYDAY=MO;BYHOUR=8,12,16;BYMINUTE=0,30,45")


def test_a_rule_is_normalised():
    assert validate_recurrence_rule("  rrule:freq=weekly;byday=mo,we,fr ") == "FREQ=WEEKLY;BYDAY=MO,WE,FR"


def test_a_schedule_without_any_time_in_its_period_is_refused():
    version = Version("FREQ=YEARLY;BYMONTH=12", date(2026, 3, 1), time(10, 0), date(2026, 5, 31))
    with pytest.raises(InvalidInput) as refused:
        validate_schedule(version)
    assert refused.value.field == "recurrence_rule"


def test_a_rule_that_can_never_happen_is_refused():
    version = Version("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", date(2026, 1, 1), time(10, 0), date(2026, 12, 31))
    with pytest.raises(InvalidInput, match="no training time"):
        validate_schedule(version)
    assert occurrences(version, utc(2026, 1, 1), utc(2027, 1, 1)) == []


def test_an_end_before_the_start_is_refused_naming_end_date():
    version = Version("FREQ=DAILY", date(2026, 3, 10), time(10, 0), date(2026, 3, 9))
    with pytest.raises(InvalidInput) as refused:
        validate_schedule(version)
    assert refused.value.field == "end_date"


def test_a_february_29_schedule_finds_the_leap_day():
    version = Version("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", date(2026, 1, 1), time(10, 0), date(2028, 12, 31))
    validate_schedule(version)
    assert occurrences(version, utc(2026, 1, 1), utc(2029, 1, 1)) == [utc(2028, 2, 29, 9)]


@pytest.mark.parametrize(
    ("instant", "day"),
    [
        # 00:30 in Copenhagen (CET) is still the evening before in UTC.
        (datetime(2026, 3, 28, 23, 30, tzinfo=UTC), date(2026, 3, 29)),
        (datetime(2026, 3, 28, 22, 59, tzinfo=UTC), date(2026, 3, 28)),
        # In summer time midnight is 22:00 UTC.
        (datetime(2026, 7, 1, 22, 0, tzinfo=UTC), date(2026, 7, 2)),
        (datetime(2026, 7, 1, 21, 59, tzinfo=UTC), date(2026, 7, 1)),
    ],
)
def test_a_slots_day_is_the_day_in_the_plans_zone(instant, day):
    assert local_date(instant, "Europe/Copenhagen") == day


# --- Weekdays and times of day (what the staff plan builder says) ----------------------------------


@pytest.mark.parametrize(
    ("days", "times", "rule"),
    [
        (["WE", "MO"], [time(10, 0)], "FREQ=WEEKLY;BYDAY=MO,WE"),
        (["TU"], [time(18, 0), time(8, 0)], "FREQ=WEEKLY;BYDAY=TU;BYHOUR=8,18;BYMINUTE=0"),
        (["MO", "WE"], [time(7, 30), time(19, 0)], "FREQ=DAILY;BYDAY=MO,WE;BYHOUR=7,19;BYMINUTE=0,30;BYSETPOS=2,3"),
    ],
)
def test_weekly_times_rule_says_weekdays_and_times_and_reads_back(days, times, rule):
    made, start_time = weekly_times_rule(days, times)
    assert made == rule
    assert start_time == min(times)
    assert weekly_times_of(made, start_time) == (sorted(days, key=WEEKDAY_CODES.index), sorted(times))


def test_morning_and_evening_on_different_minutes_give_exactly_those_times_across_daylight_saving():
    rule, start_time = weekly_times_rule(["SU", "MO"], [time(19, 0), time(7, 30)])
    # 29 March 2026 is the spring-forward Sunday in Copenhagen; 25 October 2026 the autumn one.
    for start in (date(2026, 3, 29), date(2026, 10, 25)):
        version = Version(rule, start, start_time, start + timedelta(days=1))
        local = [
            instant.astimezone(COPENHAGEN)
            for instant in occurrences(version, datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
        ]
        assert [(moment.date(), moment.strftime("%H:%M")) for moment in local] == [
            (start, "07:30"),
            (start, "19:00"),
            (start + timedelta(days=1), "07:30"),
            (start + timedelta(days=1), "19:00"),
        ]


def test_weekly_times_rule_refuses_what_a_plan_cannot_hold():
    with pytest.raises(InvalidInput) as no_day:
        weekly_times_rule([], [time(10, 0)])
    assert no_day.value.field == "recurrence_rule"
    with pytest.raises(InvalidInput):
        weekly_times_rule(["XX"], [time(10, 0)])
    with pytest.raises(InvalidInput) as no_time:
        weekly_times_rule(["MO"], [])
    assert no_time.value.field == "start_time"
    with pytest.raises(InvalidInput) as too_many:
        weekly_times_rule(["MO"], [time(hour, 15 * (hour % 2)) for hour in range(7, 14)])
    assert "more than 6" in str(too_many.value.detail)


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO",
        "FREQ=MONTHLY;BYMONTHDAY=1",
        "FREQ=WEEKLY",
        "FREQ=WEEKLY;BYDAY=MO;BYHOUR=7,19;BYMINUTE=0,30;BYSETPOS=2,3",
        "FREQ=DAILY;BYDAY=1MO",
        "FREQ=DAILY;BYHOUR=7;BYSETPOS=0",
        "not a rule",
    ],
)
def test_weekly_times_of_leaves_other_rules_alone(rule):
    assert weekly_times_of(rule, time(10, 0)) is None
