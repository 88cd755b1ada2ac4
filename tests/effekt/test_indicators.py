"""Each indicator on a small population whose answer is worked out by hand."""

from datetime import UTC, date, datetime, timedelta

import pytest

from selvbetjening.models import Episode
from tests import factories as core
from tests.effekt.population import (
    DRESSING,
    PERIOD,
    WALKING,
    WASHING,
    completed_episode,
    device_for,
    goal,
    sessions,
    slots,
)
from tests.selvbetjening import factories

pytestmark = pytest.mark.django_db


def values(world, key: str, **query):
    response = world.client("analyst").get(f"/api/v1/indicators/{key}", {**PERIOD, **query})
    assert response.status_code == 200, response.content
    return response.json()


def group(cell: dict, key: str) -> dict:
    return next(item for item in cell["groups"] if item["key"] == key)


def test_goal_attainment_t_score_and_share_at_expected(world):
    # One goal per episode, weight 1: T = 50 + 10·x, so GAS 0, 1, −1, 0, 2, 1 give 50, 60, 40, 50, 70, 60.
    for gas in (0, 1, -1, 0, 2, 1):
        goal(completed_episode(world.team), gas=gas)
    # Outside the period, still running, or in another municipality: not counted.
    goal(completed_episode(world.team, ended_on=date(2025, 12, 31)), gas=-2)
    goal(
        factories.EpisodeFactory(team=world.team, citizen=core.CitizenFactory(municipality=world.municipality)), gas=-2
    )
    goal(completed_episode(core.TeamFactory()), gas=-2)

    total = values(world, "goal_attainment")["total"]

    assert total["suppressed"] is False
    assert (total["citizens"], total["count"]) == (6, 6)
    assert total["values"] == {"mean_t_score": 55.0, "share_goals_at_expected": 0.83, "mean_gas_change": 1.5}


def test_the_latest_rating_counts_and_a_goal_without_follow_up_only_for_what_it_has(world):
    for _ in range(5):
        episode = completed_episode(world.team)
        made = goal(episode, gas=-1, rated_on=date(2026, 3, 20))
        factories.GoalRatingFactory(goal=made, rated_on=date(2026, 3, 27), gas_score=1)
    total = values(world, "goal_attainment")["total"]
    assert total["values"]["share_goals_at_expected"] == 1.0
    assert total["values"]["mean_t_score"] == 60.0


def test_function_change_per_condition(world):
    # Walking: baseline 3, follow-up 1, 2, 3, 1, 2, 3: improvement 2, 1, 0, 2, 1, 0 → mean 1.0, 4 of 6 better.
    for level in (1, 2, 3, 1, 2, 3):
        goal(completed_episode(world.team), level=level, condition=WALKING)
    for level in (2, 2, 2, 2, 2):
        goal(completed_episode(world.team), level=level, baseline_level=2, condition=DRESSING)
    for level in (0, 1):
        goal(completed_episode(world.team), level=level, condition=WASHING)

    total = values(world, "function_change")["total"]

    walking = group(total, str(WALKING[0]))
    assert walking["name"] == "Gå"
    assert walking["suppressed"] is False
    assert walking["citizens"] == 6
    assert walking["values"] == {"mean_function_improvement": 1.0, "share_improved": 0.67}
    # Washing has 2 citizens; dressing, the smallest other group, is hidden with it, so that the total
    # minus walking does not give washing away.
    assert group(total, str(WASHING[0]))["suppressed"] is True
    assert group(total, str(DRESSING[0]))["suppressed"] is True
    assert group(total, str(DRESSING[0]))["values"] is None
    assert total["citizens"] == 13


def test_follow_up_results_distribution(world):
    for code, count in (("E1", 6), ("E2", 5), ("E3", 1)):
        for _ in range(count):
            completed_episode(world.team, result=code)

    total = values(world, "follow_up_results")["total"]

    assert total["count"] == 12
    e1 = group(total, "E1")
    assert (e1["suppressed"], e1["citizens"], e1["share"]) == (False, 6, 0.5)
    assert e1["name"] == "Målet er nået"
    assert group(total, "E3")["suppressed"] is True
    assert group(total, "E2")["suppressed"] is True  # else 12 − 6 − 5 = 1 would be E3


def test_episode_length_against_planned(world):
    start = date(2026, 3, 2)
    for days in (28, 35, 21, 28, 42):
        completed_episode(
            world.team, start=start, planned_end=start + timedelta(days=28), ended_on=start + timedelta(days=days)
        )
    total = values(world, "episode_length")["total"]
    assert total["values"] == {"mean_actual_days": 30.8, "mean_planned_days": 28.0, "share_within_planned": 0.6}


def test_time_from_referral_to_start(world):
    start = date(2026, 2, 16)
    for waited in (0, 7, 14, 3, 6):
        episode = factories.EpisodeFactory(
            team=world.team,
            citizen=core.CitizenFactory(municipality=world.municipality),
            start_date=start,
            planned_end_date=start + timedelta(days=28),
        )
        registered = datetime(2026, 2, 16, 11, 0, tzinfo=UTC) - timedelta(days=waited)
        Episode.objects.filter(pk=episode.pk).update(created_at=registered)
    total = values(world, "referral_to_start")["total"]
    assert total["citizens"] == 5
    assert total["values"] == {"mean_days": 6.0, "median_days": 6.0}


def test_adherence_and_goal_attainment_by_adherence(world):
    # High adherence (≥ 80 %): 8/10, 9/10, 10/10, 4/5, 5/5; low: 1/10, 5/10, 3/5, 0/4, 7/10.
    high = [(8, 2, 0), (9, 1, 1), (10, 0, 0), (4, 1, 1), (5, 0, 0)]
    low = [(1, 9, -1), (5, 5, 0), (3, 2, -1), (0, 4, -2), (7, 3, 1)]
    for done, missed, gas in high + low:
        episode = completed_episode(world.team)
        slots(episode, done=done, missed=missed)
        goal(episode, gas=gas)

    total = values(world, "adherence")["total"]

    # Mean of 0.8, 0.9, 1, 0.8, 1, 0.1, 0.5, 0.6, 0, 0.7 = 6.4 / 10.
    assert total["values"]["mean_adherence"] == 0.64
    assert total["values"]["share_goals_at_expected"] == 0.7
    assert group(total, "adherence_high")["values"]["share_goals_at_expected"] == 1.0
    assert group(total, "adherence_low")["values"]["share_goals_at_expected"] == 0.4
    assert group(total, "adherence_low")["values"]["mean_adherence"] == 0.38


def test_pain_and_effort_change(world):
    # First and last recorded values: pain 6→2, 5→5, 4→1, 7→3, 3→4: −4, 0, −3, −4, +1 → −2.
    # Effort 5→3, 6→6, (one value only), 4→2, 5→5: −2, 0, −2, 0 → −1.
    cases = [
        [(6, 5), (4, None), (2, 3)],
        [(5, 6), (5, 6)],
        [(4, None), (1, 3)],
        [(7, 4), (None, 3), (3, 2)],
        [(3, 5), (4, 5)],
    ]
    for case in cases:
        sessions(completed_episode(world.team), case)
    total = values(world, "pain_and_effort")["total"]
    assert total["citizens"] == 5
    assert total["values"] == {"mean_pain_change": -2.0, "mean_effort_change": -1.0}


def test_questionnaire_score_change_first_against_last(world):
    version = factories.QuestionnaireVersionFactory(questionnaire__key="eq-5d", questionnaire__title_da="EQ-5D")
    # Scores per episode in the order answered: 10→14, 8→8, 12→9→15, 5→9, 7→11: +4, 0, +3, +4, +4 → 3.
    for scores in ([10, 14], [8, 8], [12, 9, 15], [5, 9], [7, 11]):
        episode = completed_episode(world.team)
        for index, score in enumerate(scores):
            response = factories.QuestionnaireResponseFactory(
                assignment__citizen=episode.citizen,
                assignment__episode=episode,
                assignment__version=version,
                version=version,
                score=score,
            )
            type(response).objects.filter(pk=response.pk).update(
                submitted_at=datetime(2026, 3, 2, tzinfo=UTC) + timedelta(days=7 * index)
            )
    total = values(world, "questionnaire_change")["total"]
    eq5d = group(total, "eq-5d")
    assert eq5d["name"] == "EQ-5D"
    assert eq5d["count"] == 5
    assert eq5d["values"] == {"mean_score_change": 3.0}


def test_request_response_time_against_the_promise(world):
    created = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    # Answered after 4, 10, 30, 60 hours against a 48-hour promise; one never answered and overdue.
    for hours in (4, 10, 30, 60, None):
        request = factories.CitizenRequestFactory(
            citizen=core.CitizenFactory(municipality=world.municipality),
            team=world.team,
            respond_by=created + timedelta(hours=48),
            answered_at=None if hours is None else created + timedelta(hours=hours),
        )
        type(request).objects.filter(pk=request.pk).update(created_at=created)
    total = values(world, "request_response")["total"]
    assert total["count"] == 5
    assert total["values"] == {"share_on_time": 0.6, "mean_hours_to_answer": 26.0}


def test_device_effect_against_comparable_goals_and_before_after(world):
    # With a fall detector: walking from level 3; ratings before installation 3, at follow-up 1, 2, 1, 2, 1.
    for level in (1, 2, 1, 2, 1):
        episode = completed_episode(world.team)
        device_for(episode, installed=date(2026, 3, 10))
        goal(episode, gas=1 if level == 1 else 0, level=level)
    # Comparable without: walking from level 3, follow-up 3, 2, 3, 2, 3 (improvement 0, 1, 0, 1, 0).
    for level in (3, 2, 3, 2, 3):
        goal(completed_episode(world.team), gas=-1 if level == 3 else 0, level=level)
    # Not comparable (another starting level): left out.
    goal(completed_episode(world.team), gas=2, level=0, baseline_level=2)

    total = values(world, "device_effect", device_type="fall_detector")["total"]

    assert total["count"] == 10
    with_device = group(total, "with_device")
    assert with_device["values"] == {
        "share_goals_at_expected": 1.0,
        "mean_function_improvement": 1.6,
        "mean_improvement_since_device": 1.6,
    }
    without = group(total, "without_device")
    assert without["values"]["share_goals_at_expected"] == 0.4
    assert without["values"]["mean_function_improvement"] == 0.4
    assert without["values"]["mean_improvement_since_device"] is None
