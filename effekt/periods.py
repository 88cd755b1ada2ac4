"""The periods indicators are given for: a calendar year or one of its quarters.

Free ranges are refused: the difference of two overlapping ranges is the figure of the days between
them, however few citizens it holds. A year and its quarters are suppressed together instead.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from backend.errors import InvalidInput
from effekt.indicators.evaluator import QUARTERS, YEAR


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    key: str  # "year" or "Q1".."Q4"

    @property
    def year_start(self) -> date:
        return date(self.start.year, 1, 1)

    @property
    def year_end(self) -> date:
        return date(self.start.year, 12, 31)


def _quarter_end(year: int, quarter: int) -> date:
    return date(year, 12, 31) if quarter == 4 else date(year, 3 * quarter + 1, 1) - timedelta(days=1)


def period_for(start: date | None, end: date | None, *, today: date) -> Period:
    """The year or quarter ``start``–``end`` spans; without them, the last complete calendar year.
    Anything else is a 422 naming ``from``."""
    if start is None and end is None:
        return Period(date(today.year - 1, 1, 1), date(today.year - 1, 12, 31), YEAR)
    if start is not None and end is not None:
        if (start.month, start.day) == (1, 1) and end == date(start.year, 12, 31):
            return Period(start, end, YEAR)
        if start.day == 1 and start.month % 3 == 1:
            quarter = (start.month - 1) // 3 + 1
            if end == _quarter_end(start.year, quarter):
                return Period(start, end, QUARTERS[quarter - 1])
    raise InvalidInput("from", "from and to must span one calendar year or one calendar quarter (both days included).")
