"""What every self-service request shape shares: bounded dates and times, and the page query."""

from datetime import date, datetime, timedelta
from typing import Annotated

from django.utils import timezone
from pydantic import AfterValidator, AwareDatetime

from backend.schemas import PageQuery  # noqa: F401  (the kernel's, for this app's schemas)
from backend.timeutil import municipal_today

DATE_WINDOW_YEARS = 50
DATE_WINDOW = timedelta(days=round(365.25 * DATE_WINDOW_YEARS))


def _date_in_window(value: date) -> date:
    today = municipal_today()
    if not today - DATE_WINDOW <= value <= today + DATE_WINDOW:
        raise ValueError(f"must be within {DATE_WINDOW_YEARS} years of today")
    return value


def _datetime_in_window(value: datetime) -> datetime:
    now = timezone.now()
    if not now - DATE_WINDOW <= value <= now + DATE_WINDOW:
        raise ValueError(f"must be within {DATE_WINDOW_YEARS} years of now")
    return value


# Every date and time a client sends: bounded, so that date arithmetic cannot overflow, and times
# with their offset, so that none is read in the server's zone by accident.
InDate = Annotated[date, AfterValidator(_date_in_window)]
InDatetime = Annotated[AwareDatetime, AfterValidator(_datetime_in_window)]
