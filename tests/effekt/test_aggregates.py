"""Precomputed indicator tables: a query without filters reads the stored table and shows exactly what
computing it shows (the same cells, the same suppression), a change shows once the refresh has run, a
refresh with nothing changed computes nothing, and a table computed for other teams is not used."""

from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from backend import cpr
from backend.models import Citizen
from effekt.aggregates import tables_refresh
from effekt.indicators.definitions import INDICATORS
from effekt.indicators.evaluator import AGE_BANDS
from effekt.models import AggregateRead, IndicatorTable
from effekt.services import benchmark_join
from selvbetjening.models import (
    CitizenRequest,
    Episode,
    Goal,
    GoalRating,
    QuestionnaireResponse,
    SessionLog,
    TrainingSlot,
)
from tests import factories as core
from tests.effekt.population import DRESSING, PERIOD, WALKING, WASHING, completed_episode, goal, three_teams
from tests.effekt.test_query_counts import add_episodes
from tests.selvbetjening import factories
from tests.velfaerdsteknologi.factories import category
from velfaerdsteknologi.models import Assignment, DeviceModel

pytestmark = pytest.mark.django_db

PERIODS = [PERIOD, {"from": "2026-01-01", "to": "2026-03-31"}, {"from": "2026-04-01", "to": "2026-06-30"}]


def _without_time(body: dict) -> dict:
    return {key: value for key, value in body.items() if key != "computed_at"}


def _population(world) -> None:
    three_teams(world)
    add_episodes(world, 7, factories.QuestionnaireVersionFactory())
    for _ in range(3):
        goal(completed_episode(world.team, ended_on=date(2026, 5, 20)), gas=-2, condition=DRESSING)
    second_unit = core.OrganisationUnitFactory(municipality=world.municipality, name="Sundhed")
    small = core.TeamFactory(unit=second_unit, name="Træning Øst")
    for _ in range(4):
        goal(completed_episode(small, result="E2"), gas=1, level=1, condition=WALKING)


def test_every_stored_cell_is_what_computing_it_shows(world):
    _population(world)
    analyst = world.client("analyst")
    focus = [{}, {"unit": str(world.team.unit_id)}, {"team": str(world.team.pk)}, {"team": str(world.other_team.pk)}]
    queries = [
        {**period, **where, "breakdown": breakdown}
        for period in PERIODS
        for where in focus
        for breakdown in (("unit", "team") if not where else ("none", "team"))
    ]
    computed = _computed(analyst, queries)
    at = timezone.now().replace(microsecond=0)
    report = tables_refresh(now=at)
    assert report.computed == len(INDICATORS)  # one year, 2026, for every indicator
    assert _stored_as_computed(analyst, queries, computed, at) > 0  # the suppression is in the stored tables too


def _computed(analyst, queries: list[dict]) -> dict:
    """Every indicator's answer to each query, computed (no table stored yet)."""
    assert not IndicatorTable.objects.exists()
    return {
        (indicator.key, index): analyst.get(f"/api/v1/indicators/{indicator.key}", query).json()
        for indicator in INDICATORS
        for index, query in enumerate(queries)
    }


def _stored_as_computed(analyst, queries: list[dict], computed: dict, at: datetime, stored=lambda query: True) -> int:
    """Each answer again, now from the stored tables (those the query has, by ``stored``), the same as
    computed; how many cells are suppressed."""
    suppressed = 0
    for (key, index), body in computed.items():
        again = analyst.get(f"/api/v1/indicators/{key}", queries[index]).json()
        assert _without_time(again) == _without_time(body), (key, queries[index])
        if stored(queries[index]):
            assert datetime.fromisoformat(again["computed_at"]) == at, (key, queries[index])
        suppressed += sum(cell["suppressed"] for cell in [again["total"], *again["cells"]])
    return suppressed


# Single filters: two conditions, a device type, every age band, and a condition and a device type that no
# row of the municipality has.
FILTERS = [
    {"condition": str(WALKING[0])},
    {"condition": str(DRESSING[0])},
    {"device_type": "fall_detector"},
    *({"age_band": band} for band in AGE_BANDS),
    {"condition": str(WASHING[0])},
    {"device_type": "gps_tracker"},
]


def test_every_stored_filtered_cell_is_what_computing_it_shows(world):
    _population(world)
    analyst = world.client("analyst")
    focus = [
        {"breakdown": "team"},
        {"team": str(world.team.pk)},
        {"unit": str(world.team.unit_id), "breakdown": "team"},
    ]
    queries = [{**PERIOD, **where, **single} for single in FILTERS for where in focus]
    computed = _computed(analyst, queries)
    at = timezone.now().replace(microsecond=0)
    report = tables_refresh(now=at)
    # Per indicator: no filter, 2 conditions, 1 device type, 3 age bands.
    assert (report.computed, report.tables) == (len(INDICATORS), len(INDICATORS) * 7)

    def stored(query: dict) -> bool:
        return query.get("condition") != str(WASHING[0]) and query.get("device_type") != "gps_tracker"

    assert _stored_as_computed(analyst, queries, computed, at, stored) > 0


@pytest.mark.parametrize(
    ("filters", "named"),
    [
        ({"condition": str(WALKING[0]), "age_band": "80+"}, "age_band"),
        ({"condition": str(WALKING[0]), "device_type": "fall_detector"}, "device_type"),
        ({"age_band": "65-79", "device_type": "fall_detector"}, "device_type"),
        ({"condition": str(WALKING[0]), "age_band": "80+", "device_type": "fall_detector"}, "age_band"),
    ],
)
def test_two_filters_at_once_are_refused_everywhere_and_nothing_is_logged(world, filters, named):
    _population(world)
    tables_refresh(now=datetime(2026, 12, 1, tzinfo=UTC))
    benchmark_join(municipality=world.municipality, by=world.analyst.user)
    analyst = world.client("analyst")
    before = AggregateRead.objects.count()
    asked: list[tuple[str, dict]] = [
        ("goal_attainment", {**PERIOD, "unit": str(world.team.unit_id), "breakdown": "team"}),
        ("device_effect", PERIOD),
        ("function_change/csv", PERIOD),
        ("episode_length/measure-report", PERIOD),
        ("adherence/series", {"year": 2026}),
        ("request_response/benchmark", PERIOD),
    ]
    for path, query in asked:
        response = analyst.get(f"/api/v1/indicators/{path}", {**query, **filters})
        assert response.status_code == 422, path
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] == named, path
    assert AggregateRead.objects.count() == before
    # Each of them alone is read from its stored table.
    for name, value in filters.items():
        one = analyst.get("/api/v1/indicators/goal_attainment", {**PERIOD, name: value}).json()
        assert datetime.fromisoformat(one["computed_at"]) == datetime(2026, 12, 1, tzinfo=UTC), name


def test_a_change_shows_after_the_refresh(world):
    three_teams(world)
    analyst = world.client("analyst")
    first = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    tables_refresh(now=first)
    body = analyst.get("/api/v1/indicators/goal_attainment", PERIOD).json()
    assert (body["total"]["citizens"], datetime.fromisoformat(body["computed_at"])) == (15, first)

    added = goal(completed_episode(world.team), gas=-2)
    stale = analyst.get("/api/v1/indicators/goal_attainment", PERIOD).json()
    assert (stale["total"]["citizens"], datetime.fromisoformat(stale["computed_at"])) == (15, first)

    second = first + timedelta(minutes=5)
    report = tables_refresh(now=second)
    # The goal's episode changed the goal and episode based indicators, not the requests'.
    recomputed = set(IndicatorTable.objects.filter(computed_at=second).values_list("indicator_key", flat=True))
    assert {"goal_attainment", "function_change", "device_effect", "episode_length"} <= recomputed
    assert "request_response" not in recomputed
    assert report.computed == len(recomputed)
    fresh = analyst.get("/api/v1/indicators/goal_attainment", PERIOD).json()
    assert (fresh["total"]["citizens"], datetime.fromisoformat(fresh["computed_at"])) == (16, second)
    share = fresh["total"]["values"]["share_goals_at_expected"]

    # A new rating of a goal counts as a change as well.
    factories.GoalRatingFactory(goal=added, rated_on=date(2026, 3, 29), gas_score=1, function_level=1)
    tables_refresh(now=second + timedelta(minutes=5))
    rated = analyst.get("/api/v1/indicators/goal_attainment", PERIOD).json()
    assert rated["total"]["values"]["share_goals_at_expected"] > share


def test_a_refresh_with_nothing_changed_computes_nothing(world):
    three_teams(world)
    assert tables_refresh().computed == len(INDICATORS)
    again = tables_refresh()
    assert (again.computed, again.unchanged) == (0, len(INDICATORS))


def test_a_request_past_its_deadline_unanswered_is_a_change(world):
    made = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    for _ in range(6):
        episode = completed_episode(world.team)
        request = factories.CitizenRequestFactory(
            citizen=episode.citizen, team=world.team, episode=episode, respond_by=made + timedelta(days=2)
        )
        type(request).objects.filter(pk=request.pk).update(created_at=made)
    analyst = world.client("analyst")
    tables_refresh(now=made + timedelta(days=1))
    assert analyst.get("/api/v1/indicators/request_response", PERIOD).json()["total"]["citizens"] == 0

    report = tables_refresh(now=made + timedelta(days=3))
    assert report.computed == 1  # request_response only
    body = analyst.get("/api/v1/indicators/request_response", PERIOD).json()
    assert (body["total"]["citizens"], body["total"]["values"]["share_on_time"]) == (6, 0.0)


def test_a_table_computed_for_other_teams_is_not_read(world):
    three_teams(world)
    tables_refresh(now=datetime(2026, 12, 1, tzinfo=UTC))
    new_unit = core.OrganisationUnitFactory(municipality=world.municipality, name="Sundhed")
    world.other_team.unit = new_unit
    world.other_team.save()
    analyst = world.client("analyst")
    before = timezone.now()
    body = analyst.get("/api/v1/indicators/goal_attainment", {**PERIOD, "breakdown": "unit"}).json()
    assert datetime.fromisoformat(body["computed_at"]) >= before
    assert {cell["name"] for cell in body["cells"]} == {"Ældre og Handicap", "Sundhed"}

    refreshed = datetime(2026, 12, 1, 8, 5, tzinfo=UTC)
    assert tables_refresh(now=refreshed).computed == len(INDICATORS)
    again = analyst.get("/api/v1/indicators/goal_attainment", {**PERIOD, "breakdown": "unit"}).json()
    assert _without_time(again) == _without_time(body)
    assert datetime.fromisoformat(again["computed_at"]) == refreshed


def test_the_refresh_command_reports_what_it_did(world):
    three_teams(world)
    out = StringIO()
    call_command("indicators_refresh", stdout=out)
    assert out.getvalue().strip() == f"{len(INDICATORS)} indicator tables computed, 0 unchanged."
    out = StringIO()
    call_command("indicators_refresh", stdout=out)
    assert out.getvalue().strip() == f"0 indicator tables computed, {len(INDICATORS)} unchanged."


def test_the_page_says_when_its_figures_were_computed(world):
    from tests.effekt.test_pages import team_lead
    from tests.staffweb.helpers import web_client

    three_teams(world)
    tables_refresh(now=datetime(2026, 12, 1, 8, 5, tzinfo=UTC))
    page = web_client(team_lead(world).user).get("/staff/effekt/", {"year": "2026"}).content.decode()
    # The older figures of the two years: the stored 2026 table, at 9.05 in Copenhagen.
    assert "Tallene er beregnet 1. december 2026 kl. 09:05." in page


def _latest_rating(world):
    return GoalRating.objects.filter(goal__episode__team=world.team, gas_score__isnull=False).latest("rated_on", "pk")


def _birth_moved(world):
    """A citizen's CPR number corrected to one born in 1980 (the test citizens are born 1920–1960): from
    65–79 or 80+ to 0–64."""
    citizen = Citizen.objects.filter(episodes__team=world.team).order_by("pk").first()
    younger = cpr.CprNumber.parse("0101800123")
    return Citizen.objects.filter(pk=citizen.pk).update(cpr_ciphertext=cpr.encrypt(younger))


# Each kind of row an indicator reads, changed by an UPDATE that touches no time of change (as a bulk
# update, a correction in the admin or a script would): (indicator, filter, change).
CHANGES = {
    "rating": ("goal_attainment", {}, lambda w: GoalRating.objects.filter(pk=_latest_rating(w).pk).update(gas_score=2)),
    "goal": (
        "function_change",
        {},
        lambda w: Goal.objects.filter(episode__team=w.team, condition_code=WALKING[0]).update(baseline_level=4),
    ),
    "goal condition": (
        "goal_attainment",
        {"condition": str(DRESSING[0])},
        lambda w: Goal.objects.filter(episode__team=w.team, condition_code=WALKING[0]).update(
            condition_code=DRESSING[0]
        ),
    ),
    "follow-up result": (
        "follow_up_results",
        {},
        lambda w: Episode.objects.filter(team=w.team, follow_up_result_id="E1").update(follow_up_result_id="E2"),
    ),
    "episode registration": (
        "referral_to_start",
        {},
        lambda w: Episode.objects.filter(team=w.team).update(created_at=datetime(2025, 12, 1, tzinfo=UTC)),
    ),
    "training slot": (
        "adherence",
        {},
        lambda w: TrainingSlot.objects.filter(plan__episode__team__unit=w.team.unit).update(
            status=TrainingSlot.Status.MISSED
        ),
    ),
    "session log": (
        "pain_and_effort",
        {},
        lambda w: SessionLog.objects.filter(plan__episode__team__unit=w.team.unit, pain_before=3).update(pain_before=9),
    ),
    "questionnaire answer": (
        "questionnaire_change",
        {},
        lambda w: QuestionnaireResponse.objects.filter(score=8).update(score=20),
    ),
    "request": (
        "request_response",
        {},
        lambda w: CitizenRequest.objects.update(answered_at=datetime(2026, 3, 9, tzinfo=UTC)),
    ),
    "device assignment": (
        "device_effect",
        {},
        lambda w: Assignment.objects.update(installed_at=datetime(2026, 3, 29, 12, tzinfo=UTC)),
    ),
    "device type": (
        "goal_attainment",
        {"device_type": "gps_tracker"},
        lambda w: DeviceModel.objects.update(category=category("gps_tracker")),
    ),
    "citizen's birth date": ("goal_attainment", {"age_band": "0-64"}, _birth_moved),
}


@pytest.mark.parametrize("kind", list(CHANGES))
def test_a_change_to_any_kind_of_row_reaches_the_tables_at_the_next_refresh(world, kind):
    _population(world)
    key, single, change = CHANGES[kind]
    query = {**PERIOD, **single, "breakdown": "team"}
    analyst = world.client("analyst")
    first = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    tables_refresh(now=first)
    before = analyst.get(f"/api/v1/indicators/{key}", query).json()

    assert change(world)
    assert tables_refresh(now=first + timedelta(minutes=5)).computed >= 1
    after = analyst.get(f"/api/v1/indicators/{key}", query).json()
    assert datetime.fromisoformat(after["computed_at"]) == first + timedelta(minutes=5)
    assert _without_time(after) != _without_time(before)
    # What the refresh stored is what computing the tables from nothing gives.
    IndicatorTable.objects.all().delete()
    tables_refresh(now=first + timedelta(minutes=10))
    assert _without_time(analyst.get(f"/api/v1/indicators/{key}", query).json()) == _without_time(after)
