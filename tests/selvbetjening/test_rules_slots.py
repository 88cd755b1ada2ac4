"""When a slot counts: the Python, ORM and SQL readings of each rule agree around the grace period's end,
and adherence and the team caseload count by them."""

from datetime import datetime, timedelta
from itertools import product

import pytest
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from backend.timeutil import municipal_today
from selvbetjening.models import TrainingPlan, TrainingSlot
from selvbetjening.rules.slots import DUE, FILLED, OVERDUE, SETTLED, UNSWEPT, UPCOMING, SlotRule
from selvbetjening.selectors.adherence import citizen_adherence, window_for
from selvbetjening.selectors.caseload import team_caseload
from tests.selvbetjening.training_factories import make_plan

pytestmark = pytest.mark.django_db
Status = TrainingSlot.Status
RULES = [DUE, FILLED, OVERDUE, UPCOMING, UNSWEPT, SETTLED]
# The grace period's end, relative to now: well before, a microsecond before, at, a microsecond after, well after.
ENDS = [
    -timedelta(days=1),
    -timedelta(microseconds=1),
    timedelta(0),
    timedelta(microseconds=1),
    timedelta(days=1),
]


@pytest.fixture
def now() -> datetime:
    return timezone.now().replace(microsecond=500_000)


@pytest.fixture
def slots(episode, now) -> list[TrainingSlot]:
    """A slot of every status with its grace period ending around ``now``, all on the municipality's today."""
    plan = make_plan(episode=episode, exercises=1)
    today = municipal_today()
    return [
        TrainingSlot.objects.create(
            plan=plan,
            version=plan.current_version,
            citizen=plan.citizen,
            scheduled_at=now - timedelta(hours=8, minutes=index),
            local_date=today,
            due_until=now + end,
            status=status,
        )
        for index, (status, end) in enumerate(product(Status.values, ENDS))
    ]


def in_sql(rule: SlotRule, now: datetime) -> set:
    condition, parameters = rule.sql("s", now="now")
    # The table from the model and the condition from the rule; every value is a parameter.
    statement = f"SELECT s.id FROM {TrainingSlot._meta.db_table} s WHERE {condition}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(statement, {**parameters, "now": connection.ops.adapt_datetimefield_value(now)})
        field = TrainingSlot._meta.pk
        return {field.to_python(row[0]) for row in cursor.fetchall()}


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_python_orm_and_sql_agree_on_every_slot(slots, now, rule):
    in_python = {slot.pk for slot in slots if rule.holds(slot, now)}
    in_orm = set(TrainingSlot.objects.filter(rule.q(now)).values_list("pk", flat=True))
    assert in_python == in_orm == in_sql(rule, now)


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_the_orm_reading_through_a_relation_counts_the_same_slots(slots, now, rule):
    # Counted from the plan's side, as the effect indicators count an episode's slots.
    [plan] = TrainingPlan.objects.annotate(counted=Count("slots", filter=rule.q(now, through="slots__")))
    assert plan.counted == sum(rule.holds(slot, now) for slot in slots) > 0


def test_settled_is_done_or_missed_whatever_the_time(slots, now):
    settled = {slot.pk for slot in slots if SETTLED.holds(slot, now)}
    assert settled == {slot.pk for slot in slots if slot.status in (Status.DONE, Status.MISSED)}
    assert settled == {slot.pk for slot in slots if SETTLED.holds(slot, now + timedelta(days=2))}


def test_due_is_done_missed_or_pending_past_its_grace_period(slots, now):
    due = {(slot.status, slot.due_until - now) for slot in slots if DUE.holds(slot, now)}
    past = [end for end in ENDS if end < timedelta(0)]
    assert due == {
        *((Status.DONE, end) for end in ENDS),
        *((Status.MISSED, end) for end in ENDS),
        *((Status.PENDING, end) for end in past),
    }
    # A slot whose grace period ends this very instant can still be filled on time.
    [at_the_end] = [slot for slot in slots if slot.status == Status.PENDING and slot.due_until == now]
    assert UPCOMING.holds(at_the_end, now) and not DUE.holds(at_the_end, now)


def test_due_is_filled_and_overdue_and_every_live_slot_is_due_or_upcoming(slots, now):
    for slot in slots:
        due, filled, overdue, upcoming = (rule.holds(slot, now) for rule in (DUE, FILLED, OVERDUE, UPCOMING))
        assert due == (filled or overdue) and not (filled and overdue)
        assert (due or upcoming) == (slot.status != Status.CANCELLED) and not (due and upcoming)


def test_adherence_and_the_team_caseload_count_by_the_same_rules(world, slots, now):
    expected = {rule.name: sum(rule.holds(slot, now) for slot in slots) for rule in (DUE, FILLED, OVERDUE, UPCOMING)}
    today = municipal_today()
    total = citizen_adherence(world.citizen, window_for(today, today), now=now).total
    assert (total.scheduled, total.filled, total.missed, total.upcoming) == (
        expected["due"],
        expected["filled"],
        expected["overdue"],
        expected["upcoming"],
    )
    [row] = team_caseload(world.team, now=now).rows
    assert (row.slots_due, row.slots_filled) == (expected["due"], expected["filled"])
