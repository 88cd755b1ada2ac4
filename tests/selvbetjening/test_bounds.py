"""Dates, times and numbers from clients stay within what the system can store and compute: a value
out of range is a 422 naming the field, never a 500, and nothing is saved."""

from datetime import timedelta

import pytest

from backend.errors import InvalidInput
from backend.models import AccessLogEntry
from backend.timeutil import municipal_today
from selvbetjening.models import Episode, Goal, GoalRating, NetworkGrant, NetworkInvitation, QuestionnaireResponse
from selvbetjening.rules.questionnaires import answers_validate, definition_parse, score_compute
from selvbetjening.schemas.questionnaires import AssignIn
from selvbetjening.services.questionnaires import questionnaire_version_publish
from tests.selvbetjening import factories
from tests.selvbetjening.helpers import goal_body


def _field(response):
    assert response.status_code == 422, response.content
    return response.json()["errors"][0]["field"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("0001-01-01", "0001-01-02", "start_date"),
        ("9999-12-25", "9999-12-31", "start_date"),
        (None, "9999-12-31", "planned_end_date"),
    ],
)
def test_episode_dates_far_from_today_are_refused(world, start, end, field):
    body = {
        "citizen_id": str(world.citizen.pk),
        "team_id": str(world.team.pk),
        "kind": "training",
        "start_date": start or str(municipal_today()),
        "planned_end_date": end,
        "contact_person_id": str(world.staff_in_team.pk),
    }
    assert _field(world.client("staff_in_team").post("/api/v1/episodes", body)) == field
    assert not Episode.objects.exists()


@pytest.mark.django_db
def test_other_incoming_dates_are_bounded(world, episode):
    staff = world.client("staff_in_team")
    goal = factories.GoalFactory(episode=episode)
    far = "9999-12-31"
    before = (Goal.objects.count(), GoalRating.objects.count(), Episode.objects.get(pk=episode.pk).version)
    assert _field(staff.post(f"/api/v1/episodes/{episode.pk}/goals", goal_body(due_date=far))) == "due_date"
    assert _field(staff.patch(f"/api/v1/goals/{goal.pk}", {"version": 1, "due_date": far})) == "due_date"
    assert _field(staff.post(f"/api/v1/goals/{goal.pk}/ratings", {"gas_score": 0, "rated_on": "0001-01-01"})) == (
        "rated_on"
    )
    assert _field(staff.patch(f"/api/v1/episodes/{episode.pk}", {"version": 1, "planned_end_date": far})) == (
        "planned_end_date"
    )
    stand_in = {"staff_id": str(world.staff_in_team.pk), "until": far}
    assert _field(staff.put(f"/api/v1/episodes/{episode.pk}/stand-in", stand_in)) == "until"
    assign = {"questionnaire_key": "pain", "due_on": far}
    assert _field(staff.post(f"/api/v1/episodes/{episode.pk}/questionnaires", assign)) == "due_on"
    assert (Goal.objects.count(), GoalRating.objects.count(), Episode.objects.get(pk=episode.pk).version) == before


@pytest.mark.django_db
def test_times_without_an_offset_are_refused(world):
    client = world.client("citizen")
    grant = NetworkGrant.objects.get(citizen=world.citizen)
    invitations = NetworkInvitation.objects.count()
    naive = {"label": "Nabo", "scopes": ["view_progress"], "grant_valid_until": "2030-01-01T00:00:00"}
    assert _field(client.post("/api/v1/me/network/invitations", naive)) == "grant_valid_until"
    assert _field(client.patch(f"/api/v1/me/network/grants/{grant.pk}", {"valid_until": "2030-01-01T00:00:00"})) == (
        "valid_until"
    )
    far = {"label": "Nabo", "scopes": ["view_progress"], "grant_valid_until": "9999-12-31T23:59:59+14:00"}
    assert _field(client.post("/api/v1/me/network/invitations", far)) == "grant_valid_until"
    assert NetworkInvitation.objects.count() == invitations
    assert NetworkGrant.objects.get(pk=grant.pk).valid_until == grant.valid_until
    aware = {"label": "Nabo", "scopes": ["view_progress"], "grant_valid_until": "2030-01-01T00:00:00+01:00"}
    assert client.post("/api/v1/me/network/invitations", aware).status_code == 201


@pytest.mark.django_db
def test_a_number_too_large_to_store_is_refused_and_reads_keep_working(world, episode):
    version = questionnaire_version_publish(
        questionnaire=factories.QuestionnaireFactory(),
        items=[{"link_id": "a", "type": "decimal", "text": {"da": "a", "en": "a"}}],
        scoring={"method": "sum", "link_ids": ["a"]},
    )
    assignment = factories.QuestionnaireAssignmentFactory(
        citizen=world.citizen, episode=episode, version=version, due_on=municipal_today()
    )
    client = world.client("citizen")
    logged = AccessLogEntry.objects.filter(action=AccessLogEntry.Action.CREATE).count()
    for value in (12345678, 1e300, -1_000_000):
        response = client.post(
            f"/api/v1/me/questionnaires/{assignment.pk}/response", {"answers": [{"link_id": "a", "value": value}]}
        )
        assert _field(response) == "answers.a"
    assert not QuestionnaireResponse.objects.exists()
    assert AccessLogEntry.objects.filter(action=AccessLogEntry.Action.CREATE).count() == logged
    largest = client.post(
        f"/api/v1/me/questionnaires/{assignment.pk}/response", {"answers": [{"link_id": "a", "value": 999_999}]}
    )
    assert largest.status_code == 201 and largest.json()["score"] == "999999.000"
    assert client.get("/api/v1/me/questionnaires", {"state": "answered"}).status_code == 200
    assert world.client("staff_in_team").get(f"/api/v1/episodes/{episode.pk}/questionnaires").status_code == 200
    assert client.get("/api/v1/me/export").status_code == 200


def _two_decimals(method="sum"):
    return definition_parse(
        [
            {"link_id": "a", "type": "decimal", "text": {"da": "a", "en": "a"}},
            {"link_id": "b", "type": "decimal", "text": {"da": "b", "en": "b"}},
        ],
        {"method": method, "link_ids": ["a", "b"]},
    )


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_not_a_number_and_infinity_are_refused(value):
    with pytest.raises(InvalidInput) as raised:
        answers_validate(_two_decimals(), [{"link_id": "a", "value": value}])
    assert raised.value.field == "answers.a"


def test_a_sum_too_large_to_store_names_the_item():
    definition = _two_decimals()
    accepted = answers_validate(definition, [{"link_id": "a", "value": 1}, {"link_id": "b", "value": 999_999}])
    with pytest.raises(InvalidInput) as raised:
        score_compute(definition, accepted)
    assert raised.value.field == "answers.b"
    mean = _two_decimals("mean")
    assert score_compute(mean, answers_validate(mean, [{"link_id": "a", "value": 999_999}])) == 999_999


@pytest.mark.parametrize(
    "item",
    [
        {"link_id": "a", "type": "scale", "text": {"da": "a", "en": "a"}, "min": 0, "max": 1e12},
        {"link_id": "a", "type": "scale", "text": {"da": "a", "en": "a"}, "min": float("nan"), "max": 1},
    ],
)
def test_definitions_with_unstorable_bounds_are_refused(item):
    with pytest.raises(InvalidInput):
        definition_parse([item], None)


def test_the_window_is_fifty_years():
    far_date = municipal_today() + timedelta(days=366 * 51)
    with pytest.raises(ValueError, match="50 years"):
        AssignIn(questionnaire_key="pain", due_on=far_date)
    assert AssignIn(questionnaire_key="pain", due_on=municipal_today() + timedelta(days=365 * 49)).due_on
