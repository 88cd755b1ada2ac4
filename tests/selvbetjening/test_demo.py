import pytest
from django.core.management import call_command

from selvbetjening.models import CitizenRequest, Episode, GoalRating, NetworkGrant, QuestionnaireAssignment


@pytest.mark.django_db
def test_demo_data_is_idempotent_and_complete():
    call_command("seed_demo")
    call_command("seed_selvbetjening_demo")
    call_command("seed_selvbetjening_demo")
    episode = Episode.objects.get(citizen__user__username="borger1")
    assert episode.status == "active"
    assert episode.contacts.get().staff.user.username == "terapeut"
    assert GoalRating.objects.filter(goal__episode=episode).count() == 4
    assert QuestionnaireAssignment.objects.filter(citizen=episode.citizen, status="pending").exists()
    assert CitizenRequest.objects.get(citizen=episode.citizen).messages.count() == 1
    assert NetworkGrant.objects.get(citizen=episode.citizen).relative.user.username == "paaroerende"
