"""When a citizen's request is late: two readings of its deadline (``respond_by``), for two purposes.

*Overdue* is the team's to-do: a request still waiting for the team (open or in progress) whose deadline
has passed. It is the ``is_overdue`` a request shows, what the ``request_overdue`` notice is sent for and
what a citizen's row of the team caseload counts (``selectors/caseload.py`` through ``overdue_sql``; a
test holds the three readings to one another). An answered or closed request is no one's to-do, whatever its deadline; a
citizen writing again reopens it with a new deadline, and it can be overdue again.

*Deadline missed* is the effect indicator's measure of response times: the deadline passed and no answer
was given (``answered_at`` empty), whatever the request's status is now. It is a fact about the past, not
a to-do. The two part ways on two kinds of request: one the citizen closed after its deadline before anyone
answered (no one's to-do, yet not answered in time), and one answered and then reopened by the citizen
past its new deadline (overdue again, yet the indicator judges it by the answer it got). The indicator
judges a request once it has an answer or its deadline is missed (``judged_q``), and counts it as answered
in time when the answer came by the deadline (``answered_in_time``).
"""

from datetime import datetime
from typing import Protocol

from django.db.models import Q

from backend import sql
from selvbetjening.models import CitizenRequest

Status = CitizenRequest.Status
# The statuses in which a request waits for the team's answer.
AWAITING_ANSWER = (Status.OPEN.value, Status.IN_PROGRESS.value)


class Request(Protocol):
    status: str
    respond_by: datetime


def is_overdue(request: Request, now: datetime) -> bool:
    """Whether ``request`` waits for the team past its deadline at ``now``."""
    return request.status in AWAITING_ANSWER and request.respond_by < now


def overdue_q(now: datetime) -> Q:
    """``is_overdue`` as an ORM condition on ``CitizenRequest``."""
    return Q(status__in=AWAITING_ANSWER, respond_by__lt=now)


def overdue_sql(alias: str, *, now: str) -> tuple[str, dict[str, str]]:
    """``is_overdue`` as an SQL condition on the request table under ``alias``, with the statuses as named
    parameters ``request_overdue_<n>`` (returned with their values) and ``now`` the name of the statement's
    parameter that holds the instant."""
    statuses = {f"request_overdue_{number}": status for number, status in enumerate(AWAITING_ANSWER)}
    status = sql.column(CitizenRequest, "status", alias)
    respond_by = sql.column(CitizenRequest, "respond_by", alias)
    listed = ", ".join(f"%({name})s" for name in statuses)
    return f"({status} IN ({listed}) AND {respond_by} < %({now})s)", statuses


def deadline_missed(*, respond_by: datetime, answered_at: datetime | None, now: datetime) -> bool:
    """Whether the deadline has passed at ``now`` without an answer: the effect indicator's reading."""
    return answered_at is None and respond_by < now


def judged_q(now: datetime) -> Q:
    """The requests the effect indicator judges at ``now``: answered, or with their deadline missed."""
    return Q(answered_at__isnull=False) | Q(answered_at__isnull=True, respond_by__lt=now)


def answered_in_time(*, respond_by: datetime, answered_at: datetime | None) -> bool:
    """Whether the answer came by the deadline (no answer: not in time)."""
    return answered_at is not None and answered_at <= respond_by
