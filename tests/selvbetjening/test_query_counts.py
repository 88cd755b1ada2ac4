"""Every list endpoint costs the same number of queries whatever the number of rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from selvbetjening.models import EpisodeContact, QuestionnaireVersion
from tests.selvbetjening import factories


def queries(client, path, params=None):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, params or {})
    assert response.status_code == 200, response.content
    return len(captured)


def grow(world, episode, times):
    pain = QuestionnaireVersion.objects.get(questionnaire__key="pain", is_current=True)
    for _ in range(times):
        extra = factories.EpisodeFactory(citizen=world.citizen, team=world.team)
        factories.EpisodeContactFactory(
            episode=extra, staff=world.staff_in_team, role=EpisodeContact.Role.CONTACT_PERSON
        )
        factories.EvaluationTaskFactory(episode=extra, assignee=world.staff_in_team)
        goal = factories.GoalFactory(episode=episode)
        factories.GoalRatingFactory(goal=goal)
        factories.GoalRatingFactory(goal=factories.GoalFactory(episode=extra))
        factories.QuestionnaireAssignmentFactory(citizen=world.citizen, episode=episode, version=pain)
        request = factories.CitizenRequestFactory(citizen=world.citizen, team=world.team)
        factories.RequestMessageFactory(request=request)
        factories.EncouragementFactory(citizen=world.citizen, relative=world.relative_with_consent)


@pytest.mark.django_db
def test_list_endpoints_are_constant_in_rows(world, episode):
    goal = factories.GoalFactory(episode=episode)
    lists = [
        ("citizen", "/api/v1/me/episodes", None),
        ("citizen", "/api/v1/me/goals", None),
        ("citizen", f"/api/v1/me/goals/{goal.pk}/ratings", None),
        ("citizen", "/api/v1/me/questionnaires", None),
        ("citizen", "/api/v1/me/requests", None),
        ("citizen", "/api/v1/me/network", None),
        ("citizen", "/api/v1/me/network/encouragements", None),
        ("staff_in_team", "/api/v1/episodes", None),
        ("staff_in_team", f"/api/v1/episodes/{episode.pk}/goals", None),
        ("staff_in_team", f"/api/v1/episodes/{episode.pk}/questionnaires", None),
        ("staff_in_team", f"/api/v1/goals/{goal.pk}/ratings", None),
        ("staff_in_team", "/api/v1/staff/requests", None),
        ("staff_in_team", "/api/v1/staff/evaluation-tasks", None),
        ("staff_in_team", "/api/v1/questionnaires", None),
        ("relative_with_consent", "/api/v1/relative/citizens", None),
        ("relative_with_consent", f"/api/v1/relative/citizens/{world.citizen.pk}/progress", None),
        ("relative_with_consent", f"/api/v1/relative/citizens/{world.citizen.pk}/encouragements", None),
    ]
    grow(world, episode, 1)
    factories.GoalRatingFactory(goal=goal)
    small = {path: queries(world.client(role), path, params) for role, path, params in lists}
    grow(world, episode, 12)
    factories.GoalRatingFactory.create_batch(5, goal=goal)
    large = {path: queries(world.client(role), path, params) for role, path, params in lists}
    assert large == small
