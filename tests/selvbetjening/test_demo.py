import pytest
from django.core.management import call_command

from selvbetjening.models import (
    CitizenRequest,
    Condition,
    Episode,
    Exercise,
    GoalRating,
    NetworkGrant,
    ProgressionDecision,
    QuestionnaireAssignment,
    SessionLog,
    TrainingPlan,
    TrainingSlot,
)


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
    # The demo's FSIII code list holds each demo goal's condition, under the name the goal carries.
    assert Condition.objects.filter(active=True).count() == 9
    listed = dict(Condition.objects.values_list("code", "display"))
    assert (
        {listed[goal.condition_code] for goal in episode.goals.all()}
        == {goal.condition_display for goal in episode.goals.all()}
        == {"Gå", "Lave mad"}
    )


@pytest.mark.django_db
def test_the_demo_citizen_has_a_training_plan_with_a_history_and_slots_ahead():
    call_command("seed_demo")
    call_command("seed_selvbetjening_demo")
    plan = TrainingPlan.objects.get(citizen__user__username="borger1")
    assert plan.status == "active"
    assert Exercise.objects.filter(municipality=None).count() >= 30
    assert SessionLog.objects.filter(plan=plan).count() == 5
    statuses = set(TrainingSlot.objects.filter(plan=plan).values_list("status", flat=True))
    assert {"done", "missed", "pending"} <= statuses
    assert ProgressionDecision.objects.filter(plan=plan).exists()
    call_command("seed_selvbetjening_demo")
    assert SessionLog.objects.filter(plan=plan).count() == 5


@pytest.mark.django_db
def test_the_demo_thread_reads_in_the_order_it_happened_and_each_citizen_has_their_own_phone():
    from backend.models import Citizen

    call_command("seed_demo")
    request = CitizenRequest.objects.get(citizen__user__username="borger1")
    reply = request.messages.get()
    assert request.answered_at is not None
    assert request.created_at < request.answered_at
    assert request.created_at < reply.created_at
    demo = Citizen.objects.filter(user__username__in=["borger1", "borger2", "borger3"])
    phones = list(demo.values_list("phone", flat=True))
    assert len(phones) == len(set(phones)) == 3
