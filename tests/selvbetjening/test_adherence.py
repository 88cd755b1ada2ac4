"""Adherence as a therapist reads it, and the staff view of one citizen's training progress."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend.models import AccessLogEntry
from backend.timeutil import municipal_today
from selvbetjening.models import TrainingSlot
from selvbetjening.selectors.adherence import Window, citizen_adherence, window_for
from tests.selvbetjening import factories
from tests.selvbetjening.training_factories import SessionLogFactory, make_plan, slot_at

DONE, MISSED, PENDING, CANCELLED = (
    TrainingSlot.Status.DONE,
    TrainingSlot.Status.MISSED,
    TrainingSlot.Status.PENDING,
    TrainingSlot.Status.CANCELLED,
)


def day(offset: int):
    return municipal_today() + timedelta(days=offset)


def at(offset: int, hour: int = 10) -> datetime:
    """A naive local wall-clock time ``offset`` days from today."""
    return datetime.combine(day(offset), time(hour, 0))


def done_slot(plan, offset: int, **session_fields):
    slot = slot_at(plan, at(offset), status=DONE)
    SessionLogFactory(plan=plan, slot=slot, performed_at=slot.scheduled_at + timedelta(minutes=5), **session_fields)
    return slot


def progress_url(citizen) -> str:
    return f"/api/v1/citizens/{citizen.pk}/training/progress"


@pytest.fixture
def plan(episode):
    return make_plan(episode=episode)


def last_days(days: int) -> Window:
    return Window(day(-days + 1), day(0))


# --- The selector -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_three_done_of_four_due_is_75_percent_and_not_yet_due_or_cancelled_slots_do_not_count(world, plan):
    for offset in (-7, -5, -3):
        done_slot(plan, offset)
    slot_at(plan, at(-2), status=MISSED)
    slot_at(plan, at(-1), status=CANCELLED)
    slot_at(plan, at(2), status=PENDING)

    figures = citizen_adherence(world.citizen, last_days(14))

    assert (figures.total.scheduled, figures.total.filled, figures.total.missed) == (4, 3, 1)
    assert figures.total.adherence == 0.75
    assert figures.total.upcoming == 0, "the slot two days ahead lies outside a window ending today"
    ahead = citizen_adherence(world.citizen, Window(day(-7), day(3)))
    assert ahead.total.upcoming == 1
    assert ahead.total.adherence == 0.75


@pytest.mark.django_db
def test_a_pending_slot_past_its_grace_period_counts_as_missed_before_the_sweep_ran(world, plan):
    for offset in (-6, -4, -2):
        done_slot(plan, offset)
    forgotten = slot_at(plan, at(-1), status=PENDING)

    figures = citizen_adherence(world.citizen, last_days(7))

    assert forgotten.status == PENDING
    assert figures.total.missed == 1
    assert figures.total.adherence == 0.75
    yesterday = next(figures_of_day for figures_of_day in figures.days if figures_of_day.day == day(-1))
    assert (yesterday.scheduled, yesterday.missed, yesterday.adherence) == (1, 1, 0.0)


@pytest.mark.django_db
def test_a_missed_slot_drops_adherence(world, plan):
    for offset in (-6, -4, -2):
        done_slot(plan, offset)
    assert citizen_adherence(world.citizen, last_days(7)).total.adherence == 1.0

    slot_at(plan, at(-1), status=MISSED)

    assert citizen_adherence(world.citizen, last_days(7)).total.adherence == 0.75


@pytest.mark.django_db
def test_ad_hoc_sessions_count_as_activity_but_do_not_fill_slots(world, plan):
    done_slot(plan, -3)
    slot_at(plan, at(-2), status=MISSED)
    for offset in (-2, -1, -1):
        SessionLogFactory(plan=plan, performed_at=datetime.combine(day(offset), time(15, 0), tzinfo=UTC))

    figures = citizen_adherence(world.citizen, last_days(7))

    assert figures.total.adherence == 0.5
    assert (figures.total.session_count, figures.total.ad_hoc_sessions) == (4, 3)
    day_with_missed_slot = next(item for item in figures.days if item.day == day(-2))
    assert (day_with_missed_slot.filled, day_with_missed_slot.session_count) == (0, 1)


@pytest.mark.django_db
def test_the_streak_counts_done_slots_back_to_the_last_missed_one(world, plan):
    for offset in (-9, -8):
        done_slot(plan, offset)
    slot_at(plan, at(-7), status=MISSED)
    for offset in (-5, -3, -1):
        done_slot(plan, offset)
    slot_at(plan, at(1), status=PENDING)

    assert citizen_adherence(world.citizen, last_days(14)).streak_slots == 3

    slot_at(plan, at(-2, hour=20), status=PENDING)
    assert citizen_adherence(world.citizen, last_days(14)).streak_slots == 1, "an overdue slot ends the run"


@pytest.mark.django_db
def test_the_day_streak_counts_days_with_any_session_back_from_the_last_day(world, plan):
    for offset in (-4, -2, -1):
        SessionLogFactory(plan=plan, performed_at=datetime.combine(day(offset), time(9, 0), tzinfo=UTC))

    assert citizen_adherence(world.citizen, last_days(7)).streak_days == 2, "today has none yet: no break"
    SessionLogFactory(plan=plan, performed_at=datetime.combine(day(-3), time(9, 0), tzinfo=UTC))
    assert citizen_adherence(world.citizen, last_days(7)).streak_days == 4


@pytest.mark.django_db
def test_a_session_late_in_the_evening_belongs_to_the_local_day_across_summer_time(world, episode):
    plan = make_plan(episode=episode)
    # 22:30 UTC on the last Sunday of March 2026 is 00:30 on Monday in Copenhagen (summer time began).
    SessionLogFactory(plan=plan, performed_at=datetime(2026, 3, 29, 22, 30, tzinfo=UTC))

    figures = citizen_adherence(world.citizen, Window(date(2026, 3, 29), date(2026, 3, 30)))

    assert [item.session_count for item in figures.days] == [0, 1]


def test_window_defaults_to_28_days_up_to_today_and_is_at_most_366_days():
    window = window_for(None, None)
    assert (window.end, (window.end - window.start).days + 1) == (municipal_today(), 28)
    assert len(window_for(day(-365), day(0)).days) == 366


# --- The endpoint -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_staff_see_adherence_per_day_and_week_pain_and_effort_and_goal_ratings(world, episode, plan):
    done_slot(plan, -3, pain_before=2, pain_after=4, effort=5)
    SessionLogFactory(
        plan=plan,
        performed_at=datetime.combine(day(-3), time(16, 0), tzinfo=UTC),
        pain_before=3,
        pain_after=6,
        effort=3,
    )
    slot_at(plan, at(-2), status=MISSED)
    goal = factories.GoalFactory(episode=episode, rank=1)
    factories.GoalRatingFactory(goal=goal, rated_on=day(-20), gas_score=-1, function_level=3)
    factories.GoalRatingFactory(goal=goal, rated_on=day(-2), gas_score=1, function_level=2)
    factories.GoalRatingFactory(goal=goal, rated_on=day(-40), gas_score=-2)

    response = world.client("staff_in_team").get(progress_url(world.citizen))

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["from_date"], body["to_date"]) == (str(day(-27)), str(day(0)))
    assert len(body["days"]) == 28
    assert (body["summary"]["slots_due"], body["summary"]["slots_filled"], body["summary"]["adherence"]) == (2, 1, 0.5)
    assert (body["summary"]["sessions"], body["summary"]["ad_hoc_sessions"]) == (2, 1)
    three_days_ago = next(item for item in body["days"] if item["date"] == str(day(-3)))
    assert three_days_ago["pain_after_mean"] == 5.0
    assert three_days_ago["pain_before_mean"] == 2.5
    assert three_days_ago["effort_mean"] == 4.0
    assert sorted(value["pain_after"] for value in three_days_ago["session_values"]) == [4, 6]
    assert sum(week["slots_due"] for week in body["weeks"]) == 2
    assert all(
        datetime.fromisoformat(week["first_day"]).isocalendar().week == week["iso_week"] for week in body["weeks"]
    )
    [goal_trend] = body["goals"]
    assert [(rating["rated_on"], rating["gas_score"]) for rating in goal_trend["ratings"]] == [
        (str(day(-20)), -1),
        (str(day(-2)), 1),
    ], "ratings in the window, oldest first"
    assert AccessLogEntry.objects.filter(
        citizen=world.citizen, resource_type="training_progress", action="read"
    ).exists()


@pytest.mark.django_db
def test_the_window_follows_from_and_to(world, plan):
    done_slot(plan, -40)
    client = world.client("staff_in_team")

    body = client.get(progress_url(world.citizen), {"from": str(day(-45)), "to": str(day(-30))}).json()

    assert (body["from_date"], body["to_date"], len(body["days"])) == (str(day(-45)), str(day(-30)), 16)
    assert body["summary"]["slots_filled"] == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-03-10", "to": "2026-03-01"}, "to"),
        ({"from": "2025-01-01", "to": "2026-01-02"}, "from"),
        ({"from": "not-a-date"}, "from"),
    ],
)
def test_a_bad_window_is_422_naming_the_field(world, params, field):
    response = world.client("staff_in_team").get(progress_url(world.citizen), params)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


@pytest.mark.django_db
def test_a_366_day_window_is_accepted(world):
    params = {"from": "2025-01-01", "to": "2026-01-01"}

    response = world.client("staff_in_team").get(progress_url(world.citizen), params)

    assert response.status_code == 200
    assert len(response.json()["days"]) == 366


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "status"),
    [("staff_out_of_team", 404), ("it", 403), ("analyst", 403), ("citizen", 403), ("relative_with_consent", 403)],
)
def test_only_staff_caring_for_the_citizen_see_the_progress(world, plan, role, status):
    done_slot(plan, -2)
    logged = AccessLogEntry.objects.count()

    response = world.client(role).get(progress_url(world.citizen))

    assert response.status_code == status
    assert "slots" not in response.content.decode()
    assert AccessLogEntry.objects.count() == logged


@pytest.mark.django_db
def test_the_progress_costs_the_same_queries_for_3_and_30_sessions(world, episode, plan):
    def grow(first: int, times: int) -> None:
        for index in range(first, first + times):
            done_slot(plan, -1 - index)
            SessionLogFactory(plan=plan, performed_at=datetime.combine(day(-1 - index), time(18), tzinfo=UTC))
            factories.GoalRatingFactory(goal=factories.GoalFactory(episode=episode), rated_on=day(-1))

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert world.client("staff_in_team").get(progress_url(world.citizen)).status_code == 200
        return len(captured)

    grow(0, 3)
    small = count()
    grow(3, 27)
    assert count() == small
