"""Bad input gets a 422 naming the field and changes nothing; stale edits get 409."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import MULTIPART_CONTENT

from backend.models import AccessLogEntry
from selvbetjening.models import (
    Goal,
    GoalRating,
    QuestionnaireAssignment,
    QuestionnaireResponse,
    QuestionnaireVersion,
)
from tests.selvbetjening import factories
from tests.selvbetjening.helpers import goal_body


def counts():
    return (
        Goal.objects.count(),
        GoalRating.objects.count(),
        QuestionnaireResponse.objects.count(),
        AccessLogEntry.objects.filter(action__in=["create", "update"]).count(),
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"due_date": "2000-01-01"}, "due_date"),
        ({"baseline_level": 1, "target_level": 3}, "target_level"),
        ({"baseline_gas": -3}, "baseline_gas"),
        ({"baseline_level": 5}, "baseline_level"),
        ({"condition_code": "not-a-uuid"}, "condition_code"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_goal_is_refused_naming_the_field(world, episode, overrides, field):
    before = counts()
    response = world.client("staff_in_team").post(f"/api/v1/episodes/{episode.pk}/goals", goal_body(**overrides))
    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["field"] == field
    assert counts() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"gas_score": 3}, "gas_score"),
        ({"gas_score": -3}, "gas_score"),
        ({"copm_performance": 11}, "copm_performance"),
        ({"gas_score": 0, "rated_on": "2001-01-01"}, "rated_on"),
        ({"note": "nothing to rate"}, "gas_score"),
    ],
)
def test_bad_rating_is_refused(world, episode, body, field):
    goal = factories.GoalFactory(episode=episode)
    before = counts()
    for client, path in [
        (world.client("citizen"), f"/api/v1/me/goals/{goal.pk}/ratings"),
        (world.client("staff_in_team"), f"/api/v1/goals/{goal.pk}/ratings"),
    ]:
        response = client.post(path, body)
        assert response.status_code == 422, response.content
        assert response.json()["errors"][0]["field"] == field
    future = str(episode.start_date + timedelta(days=10_000))
    assert (
        world.client("citizen")
        .post(f"/api/v1/me/goals/{goal.pk}/ratings", {"gas_score": 0, "rated_on": future})
        .status_code
        == 422
    )
    assert counts() == before


@pytest.mark.django_db
def test_two_staff_editing_the_same_goal_second_gets_409_and_nothing_changes(world, episode):
    goal = factories.GoalFactory(episode=episode)
    first, second = world.client("staff_in_team"), world.client("staff_in_team")
    read = first.get(f"/api/v1/goals/{goal.pk}").json()
    assert first.patch(f"/api/v1/goals/{goal.pk}", {"version": read["version"], "rank": 3}).status_code == 200
    stale = second.patch(f"/api/v1/goals/{goal.pk}", {"version": read["version"], "description": "Andet mål"})
    assert stale.status_code == 409
    assert stale.json()["code"] == "stale_version" and stale.json()["current_version"] == read["version"] + 1
    goal.refresh_from_db()
    assert (goal.rank, goal.description, goal.version) == (3, "Jeg vil selv kunne gå ned og hente avisen", 2)


@pytest.mark.django_db
def test_stale_episode_edit_is_409(world, episode):
    client = world.client("staff_in_team")
    assert client.patch(f"/api/v1/episodes/{episode.pk}", {"version": 1, "title": "A"}).status_code == 200
    assert client.patch(f"/api/v1/episodes/{episode.pk}", {"version": 1, "title": "B"}).status_code == 409
    episode.refresh_from_db()
    assert episode.title == "A"


@pytest.mark.django_db
def test_episode_planned_end_before_start_is_422(world, episode):
    response = world.client("staff_in_team").patch(
        f"/api/v1/episodes/{episode.pk}",
        {"version": 1, "planned_end_date": str(episode.start_date - timedelta(days=1))},
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "planned_end_date"
    episode.refresh_from_db()
    assert episode.version == 1


@pytest.mark.django_db
def test_wrong_questionnaire_answers_save_nothing(world, episode):
    pain = QuestionnaireVersion.objects.get(questionnaire__key="pain", is_current=True)
    assignment = factories.QuestionnaireAssignmentFactory(citizen=world.citizen, episode=episode, version=pain)
    client = world.client("citizen")
    path = f"/api/v1/me/questionnaires/{assignment.pk}/response"
    for answers, field in [
        ([{"link_id": "has_pain", "value": 1}], "answers.has_pain"),
        ([{"link_id": "has_pain", "value": False}, {"link_id": "pain_now", "value": 2}], "answers.pain_now"),
        ([{"link_id": "has_pain", "value": True}, {"link_id": "pain_now", "value": 2}], "answers.pain_worst"),
    ]:
        response = client.post(path, {"answers": answers})
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == field
    assignment.refresh_from_db()
    assert assignment.status == QuestionnaireAssignment.Status.PENDING
    assert not QuestionnaireResponse.objects.exists()
    # A retry of the accepted answer with the same id returns the first; a second answer is 409.
    body = {
        "id": "0b6f7f7e-8f0e-4a55-9b49-1c0e8e7c1d11",
        "answers": [{"link_id": "has_pain", "value": False}],
    }
    assert client.post(path, body).status_code == 201
    assert client.post(path, body).status_code == 200
    assert client.post(path, {"answers": [{"link_id": "has_pain", "value": False}]}).status_code == 409
    assert QuestionnaireResponse.objects.count() == 1


@pytest.mark.django_db
def test_a_new_version_does_not_change_what_an_earlier_assignment_asks(world, episode):
    from selvbetjening.services.questionnaires import questionnaire_version_publish

    old = QuestionnaireVersion.objects.get(questionnaire__key="pain", is_current=True)
    assignment = factories.QuestionnaireAssignmentFactory(citizen=world.citizen, episode=episode, version=old)
    questionnaire_version_publish(
        questionnaire=old.questionnaire,
        items=[{"link_id": "mood", "type": "boolean", "text": {"da": "Glad?", "en": "Happy?"}, "required": True}],
        scoring=None,
    )
    response = world.client("citizen").post(
        f"/api/v1/me/questionnaires/{assignment.pk}/response",
        {"answers": [{"link_id": "has_pain", "value": False}]},
    )
    assert response.status_code == 201 and response.json()["version"] == old.number


@pytest.mark.django_db
def test_a_file_that_is_not_an_image_is_422_and_nothing_is_stored(world, episode):
    request = factories.CitizenRequestFactory(citizen=world.citizen, team=world.team, episode=episode)
    fake = SimpleUploadedFile("photo.jpg", b"GIF89a not really", content_type="image/jpeg")
    response = world.client("citizen").post(
        f"/api/v1/me/requests/{request.pk}/photo", {"photo": fake}, content_type=MULTIPART_CONTENT
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "photo"
    request.refresh_from_db()
    assert not request.photo


@pytest.mark.django_db
def test_illegal_episode_transition_is_409(world, episode):
    response = world.client("staff_in_team").post(
        f"/api/v1/episodes/{episode.pk}/transitions", {"version": 1, "status": "planned"}
    )
    assert response.status_code == 409
    episode.refresh_from_db()
    assert episode.status == "active"
