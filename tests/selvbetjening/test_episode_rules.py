"""The episode's life cycle and its GAS T-score as the issue describes them."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from backend.models import AccessLogEntry
from selvbetjening.models import (
    Episode,
    EpisodeContact,
    NetworkGrant,
    NetworkInvitation,
    TrainingPlan,
    TrainingSlot,
)
from selvbetjening.selectors.episodes import episode_gas
from selvbetjening.services import episodes as episode_services
from selvbetjening.services import network as network_services
from tests import factories as core
from tests.selvbetjening import factories
from tests.selvbetjening.training_factories import make_plan, slot_at


@pytest.mark.django_db
def test_an_episode_on_hold_can_be_completed(world, episode):
    Episode.objects.filter(pk=episode.pk).update(status=Episode.Status.ON_HOLD)
    response = world.client("staff_in_team").post(
        f"/api/v1/episodes/{episode.pk}/transitions",
        {"version": episode.version, "status": "completed", "follow_up_result": "E1"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "completed"
    assert response.json()["status_history"][-1]["from_status"] == "on_hold"


@pytest.mark.django_db
def test_an_unrated_goal_counts_at_its_baseline_in_the_current_t_score(world, episode):
    rated = factories.GoalFactory(episode=episode, baseline_gas=-1)
    factories.GoalFactory(episode=episode, baseline_gas=-2)
    factories.GoalRatingFactory(goal=rated, gas_score=1)
    # Scores +1 (rated) and −2 (unrated, at baseline): 50 + 10·(−1)/sqrt(0.7·2 + 0.3·4) = 43.80.
    current, baseline = episode_gas(episode)
    assert current == pytest.approx(43.80, abs=0.01)
    # Baseline −1 and −2: 50 + 10·(−3)/sqrt(2.6) = 31.39.
    assert baseline == pytest.approx(31.39, abs=0.01)
    shown = world.client("citizen").get(f"/api/v1/me/episodes/{episode.pk}").json()
    assert shown["gas_t_score"] == pytest.approx(43.80, abs=0.01)


@pytest.mark.django_db
def test_before_any_rating_the_current_t_score_is_the_baseline(world, episode):
    factories.GoalFactory(episode=episode, baseline_gas=-2)
    current, baseline = episode_gas(episode)
    # One goal at −2: 50 + 10·(−2)/sqrt(0.7 + 0.3) = 30.
    assert current == baseline == pytest.approx(30.0)


@pytest.mark.django_db
def test_a_hand_over_that_loses_a_race_is_a_conflict_and_changes_nothing(world, episode, monkeypatch):
    colleague = core.StaffFactory(municipality=world.municipality)
    core.MembershipFactory(staff=colleague, team=world.team, role="therapist")
    # The other request's new contact person is not yet visible to this one when it looks.
    monkeypatch.setattr(episode_services, "_open_contact", lambda episode, role: None)
    before = list(EpisodeContact.objects.values_list("pk", "staff_id", "ended_at"))
    logged = AccessLogEntry.objects.count()
    response = world.client("staff_in_team").post(
        f"/api/v1/episodes/{episode.pk}/contact-person", {"staff_id": str(colleague.pk)}
    )
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "contact_person_changed"
    assert list(EpisodeContact.objects.values_list("pk", "staff_id", "ended_at")) == before
    assert AccessLogEntry.objects.count() == logged


@pytest.mark.django_db
def test_two_invitations_accepted_at_once_end_in_a_conflict(world, monkeypatch):
    code = (
        world.client("citizen")
        .post("/api/v1/me/network/invitations", {"label": "Datter", "scopes": ["view_progress"]})
        .json()["code"]
    )
    # The grant from the other invitation was made after this request looked for grants to replace.
    monkeypatch.setattr(network_services, "_open_grants_revoke", lambda citizen, relative, now: None)
    grants = list(NetworkGrant.objects.values_list("pk", "revoked_at"))
    response = world.client("relative_with_consent").post("/api/v1/relative/invitations/accept", {"code": code})
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "grant_accepted_concurrently"
    assert list(NetworkGrant.objects.values_list("pk", "revoked_at")) == grants
    assert NetworkInvitation.objects.get(label="Datter").accepted_at is None


@pytest.mark.django_db
def test_completing_an_episode_ends_its_training_plans_and_cancels_their_future_slots(world, episode):
    plan = make_plan(episode=episode)
    now_local = timezone.localtime(timezone.now()).replace(tzinfo=None, microsecond=0)
    past = slot_at(plan, now_local - timedelta(days=2), status=TrainingSlot.Status.DONE)
    future = slot_at(plan, datetime.combine(now_local.date() + timedelta(days=2), now_local.time()))
    response = world.client("staff_in_team").post(
        f"/api/v1/episodes/{episode.pk}/transitions",
        {"version": episode.version, "status": "completed", "follow_up_result": "E1"},
    )
    assert response.status_code == 200, response.content
    plan.refresh_from_db()
    assert plan.status == TrainingPlan.Status.ENDED
    assert TrainingSlot.objects.get(pk=future.pk).status == TrainingSlot.Status.CANCELLED
    assert TrainingSlot.objects.get(pk=past.pk).status == TrainingSlot.Status.DONE
