"""A person acts in the role the route serves; every read is logged as that role; only the episode's
own team changes it."""

import pytest

from backend.models import AccessLogEntry
from selvbetjening.models import Episode, EpisodeContact, Goal, GoalRating, NetworkGrant, QuestionnaireAssignment
from tests import factories as core
from tests.conftest import ApiClient, access_token_for
from tests.selvbetjening import factories
from tests.selvbetjening.helpers import goal_body

Purpose = AccessLogEntry.Purpose


@pytest.fixture
def spouse(world):
    """A citizen of their own who is also a relative of world.citizen, allowed to view progress."""
    person = core.CitizenFactory(municipality=world.municipality)
    relative = core.RelativeFactory(user=person.user)
    NetworkGrant.objects.create(citizen=world.citizen, relative=relative, label="Ægtefælle", can_view_progress=True)
    return person


@pytest.mark.django_db
def test_me_routes_never_reach_a_citizen_who_let_the_caller_in_as_relative(world, episode, spouse):
    goal = factories.GoalFactory(episode=episode)
    client = ApiClient(access_token_for(spouse.user))
    assert client.get(f"/api/v1/me/episodes/{episode.pk}").status_code == 404
    assert client.get(f"/api/v1/me/goals/{goal.pk}").status_code == 404
    assert client.get(f"/api/v1/me/goals/{goal.pk}/ratings").status_code == 404
    assert client.get("/api/v1/me/episodes").json()["items"] == []
    assert client.get("/api/v1/me/goals").json()["items"] == []
    rated = client.post(f"/api/v1/me/goals/{goal.pk}/ratings", {"gas_score": 2})
    assert rated.status_code == 404
    assert not GoalRating.objects.exists()
    assert not AccessLogEntry.objects.filter(citizen=world.citizen, actor_id=spouse.user.pk).exists()


@pytest.mark.django_db
def test_a_citizen_who_is_also_a_relative_is_logged_as_relative_on_relative_routes(world, episode, spouse):
    own_episode = factories.EpisodeFactory(citizen=spouse, team=world.team)
    client = ApiClient(access_token_for(spouse.user))
    assert client.get(f"/api/v1/relative/citizens/{world.citizen.pk}/progress").status_code == 200
    assert client.get(f"/api/v1/me/episodes/{own_episode.pk}").status_code == 200
    as_relative = AccessLogEntry.objects.get(citizen=world.citizen, actor_id=spouse.user.pk)
    assert (as_relative.actor_role, as_relative.purpose) == ("relative", Purpose.RELATIVE_SUPPORT)
    as_citizen = AccessLogEntry.objects.get(citizen=spouse, actor_id=spouse.user.pk)
    assert (as_citizen.actor_role, as_citizen.purpose) == ("citizen", Purpose.OWN_USE)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "path", "resource_type"),
    [
        ("relative_with_consent", "/api/v1/relative/citizens/{citizen}/encouragements", "encouragement"),
        ("citizen", "/api/v1/me/network", "network_grant"),
        ("citizen", "/api/v1/me/network/encouragements", "encouragement"),
    ],
)
def test_network_reads_are_logged_before_they_are_answered(world, role, path, resource_type):
    factories.EncouragementFactory(citizen=world.citizen, relative=world.relative_with_consent)
    response = world.client(role).get(path.format(citizen=world.citizen.pk))
    assert response.status_code == 200
    entry = AccessLogEntry.objects.get(citizen=world.citizen, action=AccessLogEntry.Action.READ)
    assert entry.resource_type == resource_type
    assert entry.actor_role == ("relative" if role.startswith("relative") else "citizen")


def _snapshot(episode):
    return (
        Episode.objects.values_list("status", "title", "version").get(pk=episode.pk),
        list(EpisodeContact.objects.filter(episode=episode).values_list("staff_id", "role", "ended_at")),
        list(Goal.objects.filter(episode=episode).values_list("description", "version")),
        GoalRating.objects.count(),
        QuestionnaireAssignment.objects.filter(episode=episode).count(),
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("patch", "/api/v1/episodes/{episode}", {"version": 1, "title": "Overtaget"}),
        ("post", "/api/v1/episodes/{episode}/transitions", {"version": 1, "status": "cancelled"}),
        ("post", "/api/v1/episodes/{episode}/contact-person", {"staff_id": "{other_staff}"}),
        ("put", "/api/v1/episodes/{episode}/stand-in", {"staff_id": "{other_staff}", "until": "{until}"}),
        ("delete", "/api/v1/episodes/{episode}/stand-in", None),
        ("post", "/api/v1/episodes/{episode}/goals", "goal"),
        ("post", "/api/v1/episodes/{episode}/questionnaires", {"questionnaire_key": "pain", "due_on": "{until}"}),
        ("patch", "/api/v1/goals/{goal}", {"version": 1, "description": "Andre ord"}),
        ("post", "/api/v1/goals/{goal}/ratings", {"gas_score": 2}),
    ],
)
def test_staff_of_another_caring_team_read_the_episode_but_cannot_change_it(world, episode, method, path, body):
    core.CareRelationFactory(citizen=world.citizen, team=world.other_team)
    goal = factories.GoalFactory(episode=episode)
    factories.EpisodeContactFactory(
        episode=episode, staff=world.staff_in_team, role=EpisodeContact.Role.STAND_IN, until=episode.planned_end_date
    )
    client = world.client("staff_out_of_team")
    assert client.get(f"/api/v1/episodes/{episode.pk}").status_code == 200
    assert client.get(f"/api/v1/goals/{goal.pk}").status_code == 200
    values = {
        "episode": episode.pk,
        "goal": goal.pk,
        "other_staff": world.staff_out_of_team.pk,
        "until": episode.planned_end_date,
    }
    if body == "goal":
        body = goal_body()
    elif body is not None:
        body = {key: value.format(**values) if isinstance(value, str) else value for key, value in body.items()}
    before = _snapshot(episode)
    call = getattr(client, method)
    response = call(path.format(**values), body) if body is not None else call(path.format(**values))
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "not_episode_team"
    assert _snapshot(episode) == before
