"""The periods indicators are given for: a calendar year, one of its quarters or one of its months.

Free ranges are refused: the difference of two overlapping ranges is the figure of the days between
them, however few citizens it holds. A year, its quarters and its months are suppressed together instead.
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from backend.errors import InvalidInput
from effekt.indicators.evaluator import MONTHS, QUARTERS, YEAR


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    key: str  # "year", "Q1".."Q4" or "M01".."M12"

    @property
    def year_start(self) -> date:
        return date(self.start.year, 1, 1)

    @property
    def year_end(self) -> date:
        return date(self.start.year, 12, 31)


def _quarter_end(year: int, quarter: int) -> date:
    return date(year, 12, 31) if quarter == 4 else date(year, 3 * quarter + 1, 1) - timedelta(days=1)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def year_period(year: int) -> Period:
    return Period(date(year, 1, 1), date(year, 12, 31), YEAR)


def month_periods(year: int) -> list[Period]:
    """The twelve months of ``year``, in order."""
    return [Period(date(year, month, 1), _month_end(year, month), MONTHS[month - 1]) for month in range(1, 13)]


def period_for(start: date | None, end: date | None, *, today: date) -> Period:
    """The year, quarter or month ``start``–``end`` spans; without them, the last complete calendar year.
    Anything else is a 422 naming ``from``."""
    if start is None and end is None:
        return year_period(today.year - 1)
    if start is not None and end is not None and start.day == 1:
        if start.month == 1 and end == date(start.year, 12, 31):
            return year_period(start.year)
        if start.month % 3 == 1:
            quarter = (start.month - 1) // 3 + 1
            if end == _quarter_end(start.year, quarter):
                return Period(start, end, QUARTERS[quarter - 1])
        if end == _month_end(start.year, start.month):
            return Period(start, end, MONTHS[start.month - 1])
    raise InvalidInput("from", "from and to must span one calendar year, quarter or month (both days included).")
