import pytest

from selvbetjening.models import EpisodeContact
from tests.selvbetjening import factories


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def episode(world):
    """A running episode for world.citizen in world.team, led by world.staff_in_team."""
    made = factories.EpisodeFactory(citizen=world.citizen, team=world.team, created_by=world.staff_in_team.user)
    factories.EpisodeContactFactory(episode=made, staff=world.staff_in_team, role=EpisodeContact.Role.CONTACT_PERSON)
    factories.EvaluationTaskFactory(episode=made, assignee=world.staff_in_team)
    return made
