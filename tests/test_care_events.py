"""Facts that cross apps: an episode that ends sends the devices installed for it back to IT."""

import pytest

from selvbetjening.models import Episode
from tests.selvbetjening.factories import EpisodeFactory, FollowUpResultFactory
from tests.velfaerdsteknologi.factories import AssignmentFactory
from velfaerdsteknologi.models import ReturnTask


@pytest.mark.django_db
@pytest.mark.parametrize(("status", "extra"), [("completed", {"follow_up_result": "E1"}), ("cancelled", {})])
def test_ending_an_episode_opens_a_return_task_for_its_devices(world, status, extra):
    FollowUpResultFactory(code="E1")
    episode = EpisodeFactory(citizen=world.citizen, team=world.team, status=Episode.Status.ACTIVE)
    for_episode = AssignmentFactory(citizen=world.citizen, episode_id=episode.pk)
    other = AssignmentFactory(citizen=world.citizen)

    response = world.client("staff_in_team").post(
        f"/api/v1/episodes/{episode.pk}/transitions", {"version": episode.version, "status": status, **extra}
    )

    assert response.status_code == 200, response.content
    task = ReturnTask.objects.get(assignment=for_episode)
    assert task.reason == ReturnTask.Reason.EPISODE_ENDED
    assert not ReturnTask.objects.filter(assignment=other).exists()


@pytest.mark.django_db
def test_a_refused_transition_opens_no_return_task(world):
    episode = EpisodeFactory(citizen=world.citizen, team=world.team, status=Episode.Status.ACTIVE)
    AssignmentFactory(citizen=world.citizen, episode_id=episode.pk)
    response = world.client("staff_in_team").post(
        f"/api/v1/episodes/{episode.pk}/transitions", {"version": episode.version, "status": "completed"}
    )
    assert response.status_code == 422
    assert not ReturnTask.objects.exists()
