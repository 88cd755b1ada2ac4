"""When a citizen's request is late: two readings of its deadline (``respond_by``), for two purposes.

*Overdue* is the team's to-do: a request still waiting for the team (open or in progress) whose deadline
has passed. It is the ``is_overdue`` a request shows, what the ``request_overdue`` notice is sent for and
what a citizen's row of the team caseload counts (``selectors/caseload.py`` states it in its SQL; a test
holds that to ``overdue_q``). An answered or closed request is no one's to-do, whatever its deadline; a
citizen writing again reopens it with a new deadline, and it can be overdue again.

*Deadline missed* is the effect indicator's measure of response times: the deadline passed and no answer
was given (``answered_at`` empty), whatever the request's status is now. It is a fact about the past, not
a to-do. The two part ways on two kinds of request: one the citizen closed after its deadline before anyone
answered (no one's to-do, yet not answered in time), and one answered and then reopened by the citizen
past its new deadline (overdue again, yet the indicator judges it by the answer it got).
"""

from datetime import datetime
from typing import Protocol

from django.db.models import Q

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


def deadline_missed(*, respond_by: datetime, answered_at: datetime | None, now: datetime) -> bool:
    """Whether the deadline has passed at ``now`` without an answer: the effect indicator's reading."""
    return answered_at is None and respond_by < now
