"""Logging training sessions from the phone: idempotent uploads, validation, slots, batches, edits, relatives."""

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from backend.models import AccessLogEntry
from selvbetjening.models import (
    NetworkGrant,
    SessionLog,
    SessionLogExercise,
    TrainingAlert,
    TrainingPlan,
    TrainingPlanStatusChange,
    TrainingSlot,
)
from selvbetjening.services import sessions as session_services
from selvbetjening.services.plans import training_plans_end_for_episode
from tests.selvbetjening import factories
from tests.selvbetjening.training_factories import (
    PlanExerciseFactory,
    TrainingPlanVersionFactory,
    make_plan,
    slot_at,
)

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
URL = "/api/v1/me/session-logs"


def local_day(days_ago: int) -> datetime:
    """Midnight, naive local wall-clock time, ``days_ago`` days before today in Copenhagen."""
    today = timezone.now().astimezone(COPENHAGEN).date()
    return datetime.combine(today - timedelta(days=days_ago), time.min)


def at_local(naive: datetime) -> str:
    return naive.replace(tzinfo=COPENHAGEN).isoformat()


def session_body(plan: TrainingPlan, *, slot: TrainingSlot | None = None, **overrides: Any) -> dict[str, Any]:
    """A session of ``plan`` doing every exercise of its current version at its dosage."""
    version = plan.current_version
    assert version is not None
    exercises = [
        {"exercise_id": str(item.exercise_id), "sets": item.sets, "repetitions": item.repetitions}
        for item in version.exercises.order_by("position")
    ]
    performed = slot.scheduled_at + timedelta(minutes=20) if slot is not None else timezone.now() - timedelta(hours=1)
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "training_plan_id": str(plan.pk),
        "performed_at": performed.isoformat(),
        "pain_before": 2,
        "pain_after": 3,
        "effort": 5,
        "note": "Gik fint",
        "exercises": exercises,
    }
    if slot is not None:
        body["slot_id"] = str(slot.pk)
    body.update(overrides)
    return body


@pytest.fixture
def plan(episode):
    return make_plan(episode=episode, exercises=2)


@pytest.fixture
def progression_calls(monkeypatch):
    """Records every progression evaluation (the real one still runs)."""
    calls: list[uuid.UUID] = []
    real = session_services.progression_evaluate

    def recording(*, session_log):  # type: ignore[no-untyped-def]
        calls.append(session_log.pk)
        return real(session_log=session_log)

    monkeypatch.setattr(session_services, "progression_evaluate", recording)
    return calls


def stored_state() -> tuple[int, int, list[str]]:
    return (
        SessionLog.objects.count(),
        SessionLogExercise.objects.count(),
        sorted(TrainingSlot.objects.values_list("status", flat=True)),
    )


# --- Idempotency ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_first_upload_creates_and_a_retry_returns_the_same_log(world, plan, progression_calls):
    client = world.client("citizen")
    body = session_body(plan)

    first = client.post(URL, body)
    again = client.post(URL, body)

    assert first.status_code == 201, first.content
    assert again.status_code == 200, again.content
    assert again.json() == first.json()
    assert SessionLog.objects.count() == 1
    assert SessionLogExercise.objects.count() == 2
    log = first.json()
    assert log["id"] == body["id"]
    assert log["is_ad_hoc"] is True
    assert log["logged_by_role"] == "citizen"
    assert log["logged_by_name"] == world.citizen.user.display_name
    assert [item["sets"] for item in log["exercises"]] == [2, 2]
    assert progression_calls == [uuid.UUID(body["id"])], "a retry must not evaluate progression again"
    actions = list(
        AccessLogEntry.objects.filter(resource_type="session_log", resource_id=body["id"]).values_list(
            "action", flat=True
        )
    )
    assert sorted(actions) == ["create", "read"]


@pytest.mark.django_db
def test_the_same_session_written_differently_is_still_a_retry(world, plan):
    client = world.client("citizen")
    body = session_body(plan, performed_at="2000-01-01T00:00:00+00:00")
    performed = timezone.now().replace(microsecond=0) - timedelta(hours=2)
    body["performed_at"] = performed.astimezone(UTC).isoformat()
    body["exercises"][0]["load_kg"] = 2.5
    assert client.post(URL, body).status_code == 201

    rewritten = dict(body, performed_at=performed.astimezone(COPENHAGEN).isoformat(), exercises=body["exercises"][::-1])
    rewritten["exercises"][-1] = dict(rewritten["exercises"][-1], load_kg="2.50")

    assert client.post(URL, rewritten).status_code == 200
    assert SessionLog.objects.count() == 1


@pytest.mark.django_db
def test_the_same_id_with_other_content_is_refused_and_changes_nothing(world, plan):
    client = world.client("citizen")
    body = session_body(plan)
    created = client.post(URL, body).json()
    before = stored_state()

    response = client.post(URL, dict(body, pain_after=7))

    assert response.status_code == 422
    assert response.json()["code"] == "id_reused"
    assert response.json()["errors"][0]["field"] == "id"
    assert stored_state() == before
    assert client.get(f"{URL}/{body['id']}").json()["pain_after"] == created["pain_after"] == 3


@pytest.mark.django_db
def test_an_id_used_by_another_citizen_is_refused_without_telling_whose(world, plan):
    body = session_body(plan)
    assert world.client("citizen").post(URL, body).status_code == 201
    other_episode = factories.EpisodeFactory(citizen=world.other_citizen, team=world.other_team)
    other_plan = make_plan(episode=other_episode)
    other_body = session_body(other_plan, id=body["id"])
    mismatch = world.client("citizen").post(URL, dict(body, note="noget andet")).json()

    response = world.client("other_citizen").post(URL, other_body)

    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "id_reused"
    assert (problem["title"], problem["detail"], problem["errors"]) == (
        mismatch["title"],
        mismatch["detail"],
        mismatch["errors"],
    )
    assert str(world.citizen.pk) not in response.content.decode()
    assert SessionLog.objects.count() == 1
    assert not SessionLog.objects.filter(citizen=world.other_citizen).exists()


@pytest.mark.django_db
def test_a_concurrent_duplicate_that_wins_the_race_is_answered_as_a_retry(world, plan, monkeypatch, progression_calls):
    client = world.client("citizen")
    body = session_body(plan)
    assert client.post(URL, body).status_code == 201
    real_stored = session_services._stored
    lookups: list[uuid.UUID] = []

    def not_yet_visible(session_log_id):  # type: ignore[no-untyped-def]
        lookups.append(session_log_id)
        return None if len(lookups) == 1 else real_stored(session_log_id)

    monkeypatch.setattr(session_services, "_stored", not_yet_visible)

    response = client.post(URL, body)

    assert response.status_code == 200, response.content
    assert len(lookups) == 2, "the insert must have failed on the key and the log been read again"
    assert SessionLog.objects.count() == 1
    assert len(progression_calls) == 1


# --- Validation ----------------------------------------------------------------------------------


def _refused(client, body, status, field=None, code=None):  # type: ignore[no-untyped-def]
    before = stored_state(), AccessLogEntry.objects.count()
    response = client.post(URL, body)
    assert response.status_code == status, response.content
    problem = response.json()
    if field is not None:
        assert field in {error["field"] for error in problem.get("errors", [])}, problem
    if code is not None:
        assert problem["code"] == code, problem
    assert (stored_state(), AccessLogEntry.objects.count()) == before, "a refused upload changed data"
    return problem


@pytest.mark.django_db
def test_pain_effort_and_dosage_out_of_range_are_refused_naming_the_field(world, plan):
    client = world.client("citizen")
    _refused(client, session_body(plan, pain_after=11), 422, "pain_after")
    _refused(client, session_body(plan, pain_before=-1), 422, "pain_before")
    _refused(client, session_body(plan, effort=11), 422, "effort")
    body = session_body(plan)
    body["exercises"][0]["sets"] = -1
    _refused(client, body, 422, "exercises.0.sets")
    _refused(client, session_body(plan, exercises=[]), 422, "exercises")


@pytest.mark.django_db
def test_an_exercise_not_in_the_plan_version_is_refused(world, plan):
    body = session_body(plan)
    stranger = PlanExerciseFactory()  # an exercise of someone else's plan
    body["exercises"][1]["exercise_id"] = str(stranger.exercise_id)
    _refused(world.client("citizen"), body, 422, "exercises.1.exercise_id")
    twice = session_body(plan)
    twice["exercises"][1] = dict(twice["exercises"][0])
    _refused(world.client("citizen"), twice, 422, "exercises.1.exercise_id")


@pytest.mark.django_db
def test_performed_at_must_be_within_the_skew_limits(world, plan):
    client = world.client("citizen")
    now = timezone.now()
    _refused(client, session_body(plan, performed_at=(now + timedelta(minutes=11)).isoformat()), 422, "performed_at")
    _refused(client, session_body(plan, performed_at=(now - timedelta(days=61)).isoformat()), 422, "performed_at")
    _refused(client, session_body(plan, performed_at=(now + timedelta(days=365)).isoformat()), 422, "performed_at")
    _refused(client, session_body(plan, performed_at="2025-01-01T10:00:00"), 422, "performed_at")
    _refused(client, session_body(plan, performed_at="0001-01-01T00:00:00+01:00"), 422, "performed_at")
    ahead = client.post(URL, session_body(plan, performed_at=(now + timedelta(minutes=9)).isoformat()))
    assert ahead.status_code == 201, "a phone clock a few minutes ahead is accepted"


@pytest.mark.django_db
def test_plans_that_are_not_the_citizens_or_not_active_are_refused(world, plan):
    client = world.client("citizen")
    other_plan = make_plan(episode=factories.EpisodeFactory(citizen=world.other_citizen, team=world.other_team))
    _refused(client, session_body(other_plan), 404)
    _refused(client, session_body(plan, training_plan_id=str(uuid.uuid4())), 404)
    TrainingPlan.objects.filter(pk=plan.pk).update(status=TrainingPlan.Status.PAUSED)
    TrainingPlanStatusChange.objects.create(
        plan=plan, from_status="active", to_status="paused", changed_at=timezone.now() - timedelta(hours=2)
    )
    _refused(client, session_body(plan), 422, "training_plan_id", "plan_not_active")


@pytest.mark.django_db
def test_sessions_done_offline_before_a_pause_or_the_end_are_accepted_and_later_ones_refused(world, plan, episode):
    citizen, staff = world.client("citizen"), world.client("staff_in_team")
    now = timezone.now()
    before_pause = session_body(plan, performed_at=(now - timedelta(hours=5)).isoformat())
    during_pause = session_body(plan, performed_at=(now - timedelta(hours=1)).isoformat())
    paused = staff.patch(f"/api/v1/training-plans/{plan.pk}", {"version": plan.version, "status": "paused"})
    assert paused.status_code == 200, paused.content
    TrainingPlanStatusChange.objects.filter(plan=plan).update(changed_at=now - timedelta(hours=3))

    assert citizen.post(URL, before_pause).status_code == 201
    _refused(citizen, during_pause, 422, "training_plan_id", "plan_not_active")
    assert citizen.post(URL, before_pause).status_code == 200, "the phone's second sync is a retry"

    resume = {"version": paused.json()["version"], "status": "active"}
    resumed = staff.patch(f"/api/v1/training-plans/{plan.pk}", resume)
    assert resumed.status_code == 200, resumed.content
    TrainingPlanStatusChange.objects.filter(plan=plan, to_status="active").update(changed_at=now - timedelta(hours=2))
    training_plans_end_for_episode(episode_id=episode.pk, citizen_id=world.citizen.pk)
    after_resume = session_body(plan, performed_at=(now - timedelta(minutes=90)).isoformat())
    versions = plan.versions.count()
    assert citizen.post(URL, after_resume).status_code == 201
    assert plan.versions.count() == versions, "an ended plan does not advance"
    _refused(citizen, session_body(plan, performed_at=timezone.now().isoformat()), 422, "training_plan_id")
    assert list(plan.status_changes.values_list("from_status", "to_status")) == [
        ("active", "paused"),
        ("paused", "active"),
        ("active", "ended"),
    ]


@pytest.mark.django_db
def test_slots_that_cannot_be_filled_are_refused(world, plan):
    client = world.client("citizen")
    other_plan = make_plan(episode=factories.EpisodeFactory(citizen=world.other_citizen, team=world.other_team))
    foreign_slot = slot_at(other_plan, local_day(1) + timedelta(hours=10))
    _refused(client, session_body(plan, slot_id=str(foreign_slot.pk)), 422, "slot_id")

    second_plan = make_plan(episode=plan.episode)
    sibling_slot = slot_at(second_plan, local_day(1) + timedelta(hours=10))
    _refused(client, session_body(plan, slot_id=str(sibling_slot.pk)), 422, "slot_id")

    cancelled = slot_at(plan, local_day(2) + timedelta(hours=10), status=TrainingSlot.Status.CANCELLED)
    _refused(client, session_body(plan, slot=cancelled), 422, "slot_id", "slot_cancelled")

    slot = slot_at(plan, local_day(1) + timedelta(hours=10))
    assert client.post(URL, session_body(plan, slot=slot)).status_code == 201
    _refused(client, session_body(plan, slot=slot), 409, code="slot_already_filled")

    tomorrow = slot_at(plan, local_day(-1) + timedelta(hours=10))
    early = session_body(plan, slot=tomorrow, performed_at=timezone.now().isoformat())
    _refused(client, early, 422, "slot_id", "slot_not_yet")


# --- Slots and versions --------------------------------------------------------------------------


@pytest.mark.django_db
def test_filling_a_slot_marks_it_done_and_a_late_log_still_fills_a_missed_slot(world, plan):
    client = world.client("citizen")
    on_time = slot_at(plan, local_day(1) + timedelta(hours=10))
    missed = slot_at(plan, local_day(3) + timedelta(hours=10), status=TrainingSlot.Status.MISSED)

    first = client.post(URL, session_body(plan, slot=on_time)).json()
    late_body = session_body(plan, slot=missed, performed_at=(missed.due_until + timedelta(hours=5)).isoformat())
    late = client.post(URL, late_body)

    assert late.status_code == 201, late.content
    on_time.refresh_from_db()
    missed.refresh_from_db()
    assert (on_time.status, missed.status) == ("done", "done")
    assert (first["slot_id"], first["is_ad_hoc"], first["is_late"]) == (str(on_time.pk), False, False)
    assert (late.json()["slot_id"], late.json()["is_late"]) == (str(missed.pk), True)


@pytest.mark.django_db
def test_the_version_is_the_slots_or_the_one_in_force_when_performed(world, plan):
    client = world.client("citizen")
    first_version = plan.current_version
    slot = slot_at(plan, local_day(1) + timedelta(hours=10))
    second_version = TrainingPlanVersionFactory(plan=plan, number=2)
    for item in first_version.exercises.all():
        PlanExerciseFactory(version=second_version, exercise=item.exercise, sets=3)
    TrainingPlan.objects.filter(pk=plan.pk).update(current_version=second_version)
    revised_at = timezone.now() - timedelta(days=2)
    type(second_version).objects.filter(pk=second_version.pk).update(created_at=revised_at)
    plan.refresh_from_db()

    slot_log = client.post(URL, session_body(plan, slot=slot)).json()
    before_revision = client.post(
        URL, session_body(plan, performed_at=(revised_at - timedelta(hours=3)).isoformat())
    ).json()
    after_revision = client.post(URL, session_body(plan)).json()

    assert slot_log["plan_version_id"] == str(first_version.pk), "the slot was scheduled by the first version"
    assert before_revision["plan_version_number"] == 1
    assert after_revision["plan_version_number"] == 2
    assert (
        SessionLogExercise.objects.get(
            session_log_id=after_revision["id"], exercise=first_version.exercises.first().exercise
        ).plan_exercise.version_id
        == second_version.pk
    )


@pytest.mark.django_db
def test_the_event_goes_out_on_commit_with_the_episodes_team(
    world, plan, monkeypatch, django_capture_on_commit_callbacks
):
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr(session_services.events, "session_logged", lambda **ids: sent.append(ids))
    body = session_body(plan)
    with django_capture_on_commit_callbacks(execute=True):
        world.client("citizen").post(URL, body)
    with django_capture_on_commit_callbacks(execute=True):
        world.client("citizen").post(URL, body)

    assert sent == [
        {
            "session_log_id": uuid.UUID(body["id"]),
            "citizen_id": world.citizen.pk,
            "plan_id": plan.pk,
            "team_id": world.team.pk,
        }
    ]


# --- Batch ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_batch_stores_each_item_on_its_own_and_answers_in_order(world, plan):
    client = world.client("citizen")
    slot = slot_at(plan, local_day(1) + timedelta(hours=10))
    good = session_body(plan, slot=slot)
    ad_hoc = session_body(plan)
    bad_pain = session_body(plan, pain_after=11)
    stranger = session_body(plan)
    stranger["exercises"][1]["exercise_id"] = str(PlanExerciseFactory().exercise_id)
    same_slot = session_body(plan, slot=slot)
    items = [good, bad_pain, ad_hoc, good, dict(good, note="anden tekst"), stranger, same_slot, {"note": "x"}, "?"]

    response = client.post(f"{URL}/batch", {"items": items})

    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [(result["status"], result["http_status"]) for result in results] == [
        ("created", 201),
        ("error", 422),
        ("created", 201),
        ("unchanged", 200),
        ("error", 422),
        ("error", 422),
        ("error", 409),
        ("error", 422),
        ("error", 422),
    ]
    assert [result["id"] for result in results[:7]] == [item["id"] for item in items[:7]]
    assert results[7]["id"] is None and results[8]["id"] is None
    assert results[1]["problem"]["errors"][0]["field"] == "pain_after"
    assert results[4]["problem"]["code"] == "id_reused"
    assert results[5]["problem"]["errors"][0]["field"] == "exercises.1.exercise_id"
    assert results[6]["problem"]["code"] == "slot_already_filled"
    assert results[3]["session_log"] == results[0]["session_log"]
    assert set(SessionLog.objects.values_list("id", flat=True)) == {uuid.UUID(good["id"]), uuid.UUID(ad_hoc["id"])}
    slot.refresh_from_db()
    assert slot.status == "done"


@pytest.mark.django_db
def test_a_batch_is_bounded(world, plan):
    items = [session_body(plan) for _ in range(101)]
    response = world.client("citizen").post(f"{URL}/batch", {"items": items})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "items"
    assert SessionLog.objects.count() == 0


@pytest.mark.django_db
def test_another_citizens_batch_cannot_log_to_my_plan(world, plan):
    response = world.client("other_citizen").post(f"{URL}/batch", {"items": [session_body(plan)]})
    assert response.json()["results"][0]["http_status"] == 404
    assert SessionLog.objects.count() == 0


# --- Reading and correcting ----------------------------------------------------------------------


@pytest.mark.django_db
def test_my_sessions_are_listed_newest_first_in_constant_queries(world, plan, django_assert_num_queries):
    client = world.client("citizen")
    now = timezone.now()
    made = [
        client.post(URL, session_body(plan, performed_at=(now - timedelta(hours=hours)).isoformat())).json()
        for hours in (5, 1, 3)
    ]
    other_plan = make_plan(episode=factories.EpisodeFactory(citizen=world.other_citizen, team=world.other_team))
    world.client("other_citizen").post(URL, session_body(other_plan))

    first = client.get(URL, {"limit": 2}).json()
    second = client.get(URL, {"limit": 2, "cursor": first["next_cursor"]}).json()

    listed = [item["id"] for item in first["items"] + second["items"]]
    assert listed == [made[1]["id"], made[2]["id"], made[0]["id"]]
    assert second["next_cursor"] is None
    assert client.get(URL, {"training_plan_id": str(other_plan.pk)}).json()["items"] == []
    assert len(client.get(URL, {"training_plan_id": str(plan.pk)}).json()["items"]) == 3

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL).status_code == 200
        return len(captured)

    few = count()
    for hours in range(6, 30):
        client.post(URL, session_body(plan, performed_at=(now - timedelta(hours=hours)).isoformat()))
    assert count() == few


@pytest.mark.django_db
def test_one_session_is_seen_only_by_its_citizen(world, plan):
    body = session_body(plan)
    world.client("citizen").post(URL, body)
    assert world.client("citizen").get(f"{URL}/{body['id']}").json()["note"] == "Gik fint"
    assert world.client("other_citizen").get(f"{URL}/{body['id']}").status_code == 404
    assert world.client("staff_in_team").get(f"{URL}/{body['id']}").status_code == 403


@pytest.mark.django_db
def test_a_correction_needs_the_current_version(world, plan):
    client = world.client("citizen")
    body = session_body(plan)
    created = client.post(URL, body).json()
    version = plan.current_version
    first_exercise = str(version.exercises.order_by("position").first().exercise_id)

    corrected = client.patch(
        f"{URL}/{body['id']}",
        {"version": created["version"], "pain_after": 6, "exercises": [{"exercise_id": first_exercise, "sets": 1}]},
    )
    stale = client.patch(f"{URL}/{body['id']}", {"version": created["version"], "note": "for sent"})

    assert corrected.status_code == 200, corrected.content
    assert corrected.json()["version"] == created["version"] + 1
    assert corrected.json()["pain_after"] == 6
    assert [(item["exercise_id"], item["sets"]) for item in corrected.json()["exercises"]] == [(first_exercise, 1)]
    assert stale.status_code == 409
    assert stale.json()["code"] == "stale_version"
    stored = client.get(f"{URL}/{body['id']}").json()
    assert (stored["note"], stored["pain_after"]) == ("Gik fint", 6)
    assert client.post(URL, body).status_code == 200, "a late retry of the first upload is still a retry"


@pytest.mark.django_db
def test_a_correction_is_validated_and_only_by_the_citizen(world, plan):
    client = world.client("citizen")
    body = session_body(plan)
    client.post(URL, body)
    stranger = str(PlanExerciseFactory().exercise_id)

    wrong_exercise = client.patch(f"{URL}/{body['id']}", {"version": 1, "exercises": [{"exercise_id": stranger}]})
    too_much_pain = client.patch(f"{URL}/{body['id']}", {"version": 1, "pain_before": 11})
    not_editable = client.patch(f"{URL}/{body['id']}", {"version": 1, "slot_id": None})
    foreign = world.client("other_citizen").patch(f"{URL}/{body['id']}", {"version": 1, "note": "hej"})

    assert wrong_exercise.status_code == 422
    assert wrong_exercise.json()["errors"][0]["field"] == "exercises.0.exercise_id"
    assert too_much_pain.status_code == 422
    assert not_editable.status_code == 422
    assert foreign.status_code == 404
    stored = SessionLog.objects.get(pk=body["id"])
    assert (stored.version, stored.note, stored.exercises.count()) == (1, "Gik fint", 2)


# --- Relatives -----------------------------------------------------------------------------------


def relative_url(citizen_id: Any) -> str:
    return f"/api/v1/relative/citizens/{citizen_id}/session-logs"


@pytest.mark.django_db
def test_a_relative_with_the_logging_grant_logs_marked_as_theirs(world, plan):
    body = session_body(plan)
    response = world.client("relative_with_consent").post(relative_url(world.citizen.pk), body)

    assert response.status_code == 201, response.content
    log = response.json()
    assert log["logged_by_role"] == "relative"
    assert log["logged_by_name"] == world.relative_with_consent.user.display_name
    assert world.client("relative_with_consent").post(relative_url(world.citizen.pk), body).status_code == 200
    entry = AccessLogEntry.objects.get(resource_type="session_log", action="create")
    assert (entry.actor_role, entry.purpose, entry.citizen_id) == ("relative", "relative_support", world.citizen.pk)
    assert world.client("citizen").get(f"{URL}/{body['id']}").json()["logged_by_role"] == "relative"


@pytest.mark.django_db
def test_a_relative_without_the_grant_in_force_gets_404(world, plan):
    grant = NetworkGrant.objects.get(citizen=world.citizen, relative=world.relative_with_consent)
    without = world.client("relative_without_consent").post(relative_url(world.citizen.pk), session_body(plan))
    NetworkGrant.objects.filter(pk=grant.pk).update(can_log_sessions=False)
    no_scope = world.client("relative_with_consent").post(relative_url(world.citizen.pk), session_body(plan))
    NetworkGrant.objects.filter(pk=grant.pk).update(can_log_sessions=True, revoked_at=timezone.now())
    revoked = world.client("relative_with_consent").post(relative_url(world.citizen.pk), session_body(plan))
    as_citizen_route = world.client("relative_with_consent").post(URL, session_body(plan))

    assert (without.status_code, no_scope.status_code, revoked.status_code) == (404, 404, 404)
    assert as_citizen_route.status_code == 403
    assert SessionLog.objects.count() == 0


@pytest.mark.django_db
def test_a_relative_cannot_log_to_a_plan_of_another_citizen(world, plan):
    other_plan = make_plan(episode=factories.EpisodeFactory(citizen=world.other_citizen, team=world.other_team))
    response = world.client("relative_with_consent").post(relative_url(world.citizen.pk), session_body(other_plan))
    assert response.status_code == 404
    assert SessionLog.objects.count() == 0


@pytest.mark.django_db
def test_pain_corrected_up_to_the_stop_level_raises_the_alert_once(world, plan, django_capture_on_commit_callbacks):
    client = world.client("citizen")
    body = session_body(plan)
    created = client.post(URL, body).json()
    alerts = TrainingAlert.objects.filter(session_log_id=body["id"])
    assert not alerts.exists()

    note_only = client.patch(f"{URL}/{body['id']}", {"version": created["version"], "note": "Lidt ondt"})
    assert note_only.status_code == 200 and not alerts.exists()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        corrected = client.patch(f"{URL}/{body['id']}", {"version": note_only.json()["version"], "pain_after": 8})
    assert corrected.status_code == 200, corrected.content
    assert list(alerts.values_list("pain", "contact_person_id")) == [(8, world.staff_in_team.pk)]
    assert callbacks, "the alert's event goes out on commit"
    again = client.patch(f"{URL}/{body['id']}", {"version": corrected.json()["version"], "pain_before": 9})
    assert again.status_code == 200 and alerts.count() == 1
