"""Creates keyed by the phone's id (backend/client_ids.py) and the offline batch's bulk path.

The races themselves run against a live server in test_races.py; here the loser's path is taken
deterministically, by letting its first look for the id miss the twin that then commits first.
"""

import uuid
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.client_ids import ClientIdReused, create_once
from backend.errors import Conflict
from selvbetjening.models import (
    CitizenRequest,
    GoalRating,
    PlanExercise,
    ProgressionDecision,
    QuestionnaireResponse,
    QuestionnaireVersion,
    SessionLog,
    TrainingAlert,
    TrainingPlanStatusChange,
    TrainingSlot,
)
from selvbetjening.services import session_batches
from selvbetjening.services import sessions as session_services
from tests.selvbetjening import factories
from tests.selvbetjening.test_sessions import local_day, session_body
from tests.selvbetjening.training_factories import make_plan, slot_at

URL = "/api/v1/me/session-logs"


@pytest.fixture
def plan(episode):
    return make_plan(episode=episode, exercises=2)


# --- The helper ----------------------------------------------------------------------------------


def _looks(*answers):
    remaining = list(answers)
    return lambda: remaining.pop(0)


@pytest.mark.django_db
def test_a_create_that_loses_to_its_twin_answers_as_the_twins_retry():
    twin = object()

    def lost() -> object:
        raise Conflict("Another session already filled this slot.", code="slot_already_filled")

    assert create_once(find=_looks(None, twin), is_same=lambda found: found is twin, create=lost) == (twin, False)

    def duplicate_key() -> object:
        raise IntegrityError("UNIQUE constraint failed")

    assert create_once(find=_looks(None, twin), is_same=lambda _: True, create=duplicate_key) == (twin, False)


@pytest.mark.django_db
def test_a_conflict_with_another_object_stays_and_another_content_is_id_reused():
    def lost() -> object:
        raise Conflict("Another session already filled this slot.", code="slot_already_filled")

    with pytest.raises(Conflict) as raised:
        create_once(find=_looks(None, None), is_same=lambda _: True, create=lost)
    assert raised.value.code == "slot_already_filled"
    with pytest.raises(ClientIdReused) as reused:
        create_once(find=_looks(object()), is_same=lambda _: False, create=lost, what="rating")
    assert (reused.value.status, reused.value.code, reused.value.field) == (422, "id_reused", "id")


# --- Sessions ------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("fills_slot", [True, False])
def test_a_session_whose_twin_committed_first_is_answered_200_with_the_stored_log(world, plan, monkeypatch, fills_slot):
    client = world.client("citizen")
    slot = slot_at(plan, local_day(1) + timedelta(hours=10)) if fills_slot else None
    body = session_body(plan, slot=slot)
    first = client.post(URL, body)
    assert first.status_code == 201

    real = session_services._stored
    calls: list[uuid.UUID] = []

    def misses_once(session_log_id):  # the twin was not committed yet when this copy first looked
        calls.append(session_log_id)
        return None if len(calls) == 1 else real(session_log_id)

    monkeypatch.setattr(session_services, "_stored", misses_once)
    second = client.post(URL, body)
    assert second.status_code == 200, second.content
    assert second.json() == first.json()
    assert len(calls) == 2, "the create ran, lost, and the stored log was read again"
    assert SessionLog.objects.count() == 1


@pytest.mark.django_db
def test_a_session_done_while_the_plan_was_paused_is_refused_also_after_it_was_resumed(world, plan):
    citizen, staff = world.client("citizen"), world.client("staff_in_team")
    now = timezone.now()
    during_pause = session_body(plan, performed_at=(now - timedelta(hours=2)).isoformat())
    before_pause = session_body(plan, performed_at=(now - timedelta(hours=4)).isoformat())
    paused = staff.patch(f"/api/v1/training-plans/{plan.pk}", {"version": plan.version, "status": "paused"})
    resumed = staff.patch(
        f"/api/v1/training-plans/{plan.pk}", {"version": paused.json()["version"], "status": "active"}
    )
    assert resumed.status_code == 200, resumed.content
    TrainingPlanStatusChange.objects.filter(plan=plan, to_status="paused").update(changed_at=now - timedelta(hours=3))
    TrainingPlanStatusChange.objects.filter(plan=plan, to_status="active").update(changed_at=now - timedelta(hours=1))

    refused = citizen.post(URL, during_pause)
    assert (refused.status_code, refused.json()["code"]) == (422, "plan_not_active")
    in_batch = citizen.post(f"{URL}/batch", {"items": [during_pause, before_pause]}).json()["results"]
    assert [(item["http_status"], (item["problem"] or {}).get("code")) for item in in_batch] == [
        (422, "plan_not_active"),
        (201, None),
    ]
    assert list(SessionLog.objects.values_list("id", flat=True)) == [uuid.UUID(before_pause["id"])]


# --- The batch -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_batch_answers_each_item_as_it_would_be_answered_alone(world, plan):
    client = world.client("citizen")
    slot = slot_at(plan, local_day(1) + timedelta(hours=10))
    cancelled = slot_at(plan, local_day(2) + timedelta(hours=10), status=TrainingSlot.Status.CANCELLED)
    filled = session_body(plan, slot=slot)
    ad_hoc = session_body(plan)
    items = [
        filled,
        session_body(plan, slot=slot),  # another id for the slot the first item filled
        filled,  # the first item again: a retry inside the batch
        {**filled, "note": "Andet indhold"},  # its id with other content
        session_body(plan, slot=cancelled),
        session_body(plan, exercises=[{"exercise_id": str(uuid.uuid4()), "sets": 1}]),
        session_body(plan, performed_at=(timezone.now() + timedelta(days=1)).isoformat()),
        session_body(plan, training_plan_id=str(uuid.uuid4())),
        {"id": "not-a-uuid"},
        ad_hoc,
    ]
    results = client.post(f"{URL}/batch", {"items": items}).json()["results"]
    assert [(item["http_status"], (item["problem"] or {}).get("code")) for item in results] == [
        (201, None),
        (409, "slot_already_filled"),
        (200, None),
        (422, "id_reused"),
        (422, "slot_cancelled"),
        (422, "invalid"),
        (422, "invalid"),
        (404, "not_found"),
        (422, "validation_failed"),
        (201, None),
    ]
    assert results[2]["session_log"] == results[0]["session_log"]
    assert sorted(str(pk) for pk in SessionLog.objects.values_list("id", flat=True)) == sorted(
        [filled["id"], ad_hoc["id"]]
    )
    alone = client.post(URL, session_body(plan, slot=slot))
    assert (alone.status_code, alone.json()["code"]) == (409, "slot_already_filled")

    again = client.post(f"{URL}/batch", {"items": [ad_hoc, filled]}).json()["results"]
    assert [item["status"] for item in again] == ["unchanged", "unchanged"]
    assert [item["session_log"] for item in again] == [results[9]["session_log"], results[0]["session_log"]]


@pytest.mark.django_db
def test_a_batch_costs_the_same_number_of_queries_whatever_its_size(world, plan):
    client = world.client("citizen")

    def queries(count: int, minute: int) -> int:
        items = []
        for index in range(count):
            slot = slot_at(plan, local_day(index % 5 + 1) + timedelta(hours=6 + index // 5, minutes=minute))
            items.append(session_body(plan, slot=slot) if index % 2 else session_body(plan))
        with CaptureQueriesContext(connection) as captured:
            response = client.post(f"{URL}/batch", {"items": items})
        assert [item["http_status"] for item in response.json()["results"]] == [201] * count
        return len(captured)

    assert queries(4, minute=0) == queries(40, minute=30)


@pytest.mark.django_db
def test_pain_at_the_stop_level_in_a_batch_raises_the_alert_as_alone(world, plan):
    body = session_body(plan, pain_after=9)
    results = world.client("citizen").post(f"{URL}/batch", {"items": [session_body(plan), body]}).json()["results"]
    assert [item["http_status"] for item in results] == [201, 201]
    assert list(TrainingAlert.objects.values_list("session_log_id", flat=True)) == [uuid.UUID(body["id"])]


# --- Ratings, requests, questionnaire responses --------------------------------------------------


@pytest.mark.django_db
def test_a_rating_resent_is_200_and_its_id_with_another_rating_or_rater_is_id_reused(world, episode):
    goal = factories.GoalFactory(episode=episode)
    path = f"/api/v1/me/goals/{goal.pk}/ratings"
    body = {"id": str(uuid.uuid4()), "gas_score": 1, "note": "Bedre"}
    first = world.client("citizen").post(path, body)
    again = world.client("citizen").post(path, body)
    assert (first.status_code, again.status_code) == (201, 200) and again.json() == first.json()
    other = world.client("citizen").post(path, {**body, "gas_score": 2})
    staff = world.client("staff_in_team").post(f"/api/v1/goals/{goal.pk}/ratings", body)
    assert (other.status_code, other.json()["code"]) == (422, "id_reused")
    assert (staff.status_code, staff.json()["code"]) == (422, "id_reused")
    assert GoalRating.objects.count() == 1


@pytest.mark.django_db
def test_a_request_resent_is_200_and_its_id_with_another_text_is_id_reused(world, episode):
    client = world.client("citizen")
    body = {"id": str(uuid.uuid4()), "category": "help", "text": "Kan I ringe?"}
    first, again = client.post("/api/v1/me/requests", body), client.post("/api/v1/me/requests", body)
    assert (first.status_code, again.status_code) == (201, 200) and again.json() == first.json()
    other = client.post("/api/v1/me/requests", {**body, "text": "Noget andet"})
    assert (other.status_code, other.json()["code"]) == (422, "id_reused")
    assert CitizenRequest.objects.count() == 1


@pytest.mark.django_db
def test_a_questionnaire_response_resent_is_200_and_its_id_with_other_answers_is_id_reused(world, episode):
    version = QuestionnaireVersion.objects.get(questionnaire__key="pain", is_current=True)
    assignment = factories.QuestionnaireAssignmentFactory(citizen=world.citizen, episode=episode, version=version)
    client = world.client("citizen")
    path = f"/api/v1/me/questionnaires/{assignment.pk}/response"
    body = {"id": str(uuid.uuid4()), "answers": [{"link_id": "has_pain", "value": False}]}
    first, again = client.post(path, body), client.post(path, body)
    assert (first.status_code, again.status_code) == (201, 200) and again.json() == first.json()
    other = client.post(path, {**body, "answers": [{"link_id": "has_pain", "value": True}]})
    assert (other.status_code, other.json()["code"]) == (422, "id_reused")
    another_id = client.post(path, {**body, "id": str(uuid.uuid4())})
    assert (another_id.status_code, another_id.json()["code"]) == (409, "already_answered")
    assert QuestionnaireResponse.objects.count() == 1


@pytest.mark.django_db
def test_progression_of_a_batch_decides_as_the_same_sessions_sent_one_by_one_in_the_order_done(world, episode):
    def plan_with_rules():
        made = make_plan(episode=episode, exercises=3)
        PlanExercise.objects.filter(version__plan=made).update(
            progression_after_sessions=2, progression_repetitions_step=2
        )
        made.refresh_from_db()
        return made

    def queue(plan):
        now = timezone.now()
        exercises = [
            {"exercise_id": str(item.exercise_id), "sets": item.sets, "repetitions": item.repetitions}
            for item in plan.current_version.exercises.order_by("position")
        ]
        pains = [1, 2, 1, 5, 1, 1, 1]
        return [
            session_body(plan, performed_at=(now - timedelta(minutes=70 - 10 * index)).isoformat(), exercises=exercises,
                         pain_before=pain, pain_after=pain, effort=4)
            for index, pain in enumerate(pains)
        ]  # fmt: skip

    def decisions(plan):
        return [
            (decision.session_log.performed_at, decision.plan_exercise.position, decision.outcome, decision.reason)
            for decision in ProgressionDecision.objects.filter(plan=plan).select_related("session_log", "plan_exercise")
            .order_by("session_log__performed_at", "plan_exercise__position")
        ]  # fmt: skip

    client = world.client("citizen")
    one_by_one, batched = plan_with_rules(), plan_with_rules()
    for body in queue(one_by_one):
        assert client.post(URL, body).status_code == 201
    results = client.post(f"{URL}/batch", {"items": list(reversed(queue(batched)))}).json()["results"]
    assert {item["http_status"] for item in results} == {201}

    def shape(plan):
        start = SessionLog.objects.filter(plan=plan).order_by("performed_at").first().performed_at
        return [(moment - start, *rest) for moment, *rest in decisions(plan)]

    assert shape(batched) == shape(one_by_one)
    assert any(outcome == "advanced" for _, _, outcome, _ in decisions(batched)), "the dosage advanced"
    assert batched.versions.count() == one_by_one.versions.count() > 1


@pytest.mark.django_db
def test_a_batch_that_meets_a_twin_committed_after_its_read_is_stored_item_by_item(world, plan, monkeypatch):
    client = world.client("citizen")
    twin, fresh = session_body(plan), session_body(plan)
    first = client.post(URL, twin)
    assert first.status_code == 201
    real_load = session_batches._load

    def before_the_twin_committed(citizen, uploads):  # the read saw nothing stored yet
        batch = real_load(citizen, uploads)
        batch.stored.clear()
        return batch

    monkeypatch.setattr(session_batches, "_load", before_the_twin_committed)
    results = client.post(f"{URL}/batch", {"items": [fresh, twin]}).json()["results"]
    assert [item["status"] for item in results] == ["created", "unchanged"]
    assert results[1]["session_log"] == first.json()
    assert SessionLog.objects.count() == 2
