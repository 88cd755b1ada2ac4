"""When a request is late (``selvbetjening.rules.requests``): the team's *overdue* (waiting for the team
past the deadline) and the effect indicator's *deadline missed* (no answer by the deadline) are two rules.
Every reading of each follows its rule, and the two part ways on exactly the requests they should."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from backend import sql
from backend.timeutil import municipal_today
from effekt.aggregates import _overdue
from effekt.indicators.sources import Scope, requests_answered
from selvbetjening.models import CitizenRequest
from selvbetjening.presenters.care import request as present_request
from selvbetjening.rules.requests import (
    answered_in_time,
    deadline_missed,
    is_overdue,
    judged_q,
    overdue_q,
    overdue_sql,
)
from selvbetjening.selectors.caseload import team_caseload
from selvbetjening.services.requests import requests_overdue_notify
from tests.selvbetjening.factories import CitizenRequestFactory
from tests.selvbetjening.test_caseload import member

pytestmark = pytest.mark.django_db
Status = CitizenRequest.Status
HOUR = timedelta(hours=1)


def in_sql(now):  # type: ignore[no-untyped-def]
    """The requests ``overdue_sql`` selects at ``now``."""
    condition, parameters = overdue_sql("req", now="now")
    rows = sql.fetch(
        f"SELECT {sql.column(CitizenRequest, 'id', 'req')} FROM {sql.table(CitizenRequest)} req WHERE {condition}",  # noqa: S608
        {**parameters, "now": connection.ops.adapt_datetimefield_value(now)},
    )
    return {CitizenRequest._meta.pk.to_python(row[0]) for row in rows}


def test_overdue_is_one_rule_for_the_request_shown_the_notice_and_the_caseload(world):
    citizen = member(world, "Venter").citizen
    now = timezone.now()
    made = {
        (status, side): CitizenRequestFactory(
            citizen=citizen, team=world.team, status=status, respond_by=now + (-HOUR if side == "past" else HOUR)
        )
        for status in Status.values
        for side in ("past", "ahead")
    }
    expected = {made[(Status.OPEN, "past")].pk, made[(Status.IN_PROGRESS, "past")].pk}

    assert {item.pk for item in made.values() if is_overdue(item, now)} == expected
    assert set(CitizenRequest.objects.filter(overdue_q(now)).values_list("pk", flat=True)) == expected
    assert in_sql(now) == expected
    shown = {item.pk for item in made.values() if present_request(item)["is_overdue"]}
    assert shown == expected
    assert requests_overdue_notify(now=now) == len(expected)
    notified = CitizenRequest.objects.filter(overdue_notified_at__isnull=False).values_list("pk", flat=True)
    assert set(notified) == expected
    row = next(row for row in team_caseload(world.team, now=now).rows if row.citizen.pk == citizen.pk)
    assert row.requests_overdue == len(expected)


def test_the_teams_overdue_and_the_indicators_missed_deadline_part_ways_where_they_should(world):
    now = timezone.now()
    ago = now - 3 * HOUR

    def request(status: str, *, answered: bool) -> CitizenRequest:
        return CitizenRequestFactory(
            citizen=world.citizen, team=world.team, status=status, respond_by=now - HOUR,
            answered_at=ago if answered else None,
        )  # fmt: skip

    cases = {
        # Waiting past its deadline with no answer: late by both.
        "waiting": (request(Status.IN_PROGRESS, answered=False), True, True),
        # Closed by the citizen after its deadline, never answered: no one's to-do, yet not answered in time.
        "closed unanswered": (request(Status.CLOSED, answered=False), False, True),
        # Answered, then reopened by the citizen and past its new deadline: overdue again, judged by its answer.
        "reopened": (request(Status.OPEN, answered=True), True, False),
        # Answered: neither.
        "answered": (request(Status.ANSWERED, answered=True), False, False),
    }
    for name, (item, overdue, missed) in cases.items():
        assert is_overdue(item, now) is overdue, name
        assert present_request(item)["is_overdue"] is overdue, name
        assert deadline_missed(respond_by=item.respond_by, answered_at=item.answered_at, now=now) is missed, name
        # The effect tables' summary of a request row changes when its deadline is missed.
        [(*_, flag)] = list(_overdue([(item.pk, item.respond_by, item.answered_at)], now))
        assert flag is missed, name

    # The indicator counts the closed unanswered request as not answered in time.
    today = municipal_today()
    rows = requests_answered(Scope(world.municipality.pk, today - timedelta(days=1), today, now=now))
    assert [row["on_time"] for row in rows if row["answered_at"] is None] == [False, False]  # waiting, closed
    overdue = set(CitizenRequest.objects.filter(overdue_q(now)).values_list("pk", flat=True))
    assert overdue == {cases["waiting"][0].pk, cases["reopened"][0].pk}


def test_the_indicator_judges_requests_answered_or_past_their_deadline_and_in_time_only_when_answered_by_it(world):
    now = timezone.now()
    made = {
        (answered, deadline): CitizenRequestFactory(
            citizen=world.citizen,
            team=world.team,
            status=Status.ANSWERED if answered != "never" else Status.OPEN,
            respond_by=now + (-HOUR if deadline == "past" else HOUR),
            answered_at={"early": now - 2 * HOUR, "late": now - HOUR / 2, "never": None}[answered],
        )
        for answered in ("early", "late", "never")
        for deadline in ("past", "ahead")
    }
    judged = set(CitizenRequest.objects.filter(judged_q(now)).values_list("pk", flat=True))
    in_python = {
        item.pk
        for item in made.values()
        if item.answered_at is not None
        or deadline_missed(respond_by=item.respond_by, answered_at=item.answered_at, now=now)
    }
    assert judged == in_python == {item.pk for key, item in made.items() if key != ("never", "ahead")}
    in_time = {
        key for key, item in made.items() if answered_in_time(respond_by=item.respond_by, answered_at=item.answered_at)
    }
    # Answered an hour before the deadline, or (deadline ahead) any time so far; never answered is never in time.
    assert in_time == {("early", "past"), ("early", "ahead"), ("late", "ahead")}
    today = municipal_today()
    rows = requests_answered(Scope(world.municipality.pk, today - timedelta(days=1), today, now=now))
    assert sorted(row["on_time"] for row in rows) == sorted(key in in_time for key in made if key != ("never", "ahead"))
