"""Training alerts as staff triage them: listing, acknowledging, resolving with a note."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.models import AccessLogEntry, AppSession, StaffRole
from selvbetjening.models import EpisodeContact, TrainingAlert
from tests import factories as core
from tests.conftest import ApiClient, access_token_for
from tests.selvbetjening import factories
from tests.selvbetjening.training_factories import SessionLogFactory, make_plan

ALERTS = "/api/v1/staff/training-alerts"


def raise_alert(plan, *, pain: int = 8, status: str = TrainingAlert.Status.OPEN, contact=None) -> TrainingAlert:
    log = SessionLogFactory(plan=plan, performed_at=timezone.now() - timedelta(hours=1), pain_after=pain)
    exercise = plan.current_version.exercises.first().exercise
    return TrainingAlert.objects.create(
        citizen=plan.citizen,
        episode=plan.episode,
        plan=plan,
        session_log=log,
        exercise=exercise,
        kind=TrainingAlert.Kind.PAIN_STOP,
        pain=pain,
        status=status,
        contact_person=contact,
    )


@pytest.fixture
def plan(episode):
    return make_plan(episode=episode)


@pytest.fixture
def alert(world, plan):
    return raise_alert(plan, contact=world.staff_in_team)


def snapshot(alert: TrainingAlert) -> tuple:
    alert.refresh_from_db()
    return (alert.status, alert.acknowledged_at, alert.resolved_at, alert.resolution_note)


# --- Listing ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_staff_see_their_citizens_unresolved_alerts_with_what_happened(world, alert):
    resolved = raise_alert(alert.plan, status=TrainingAlert.Status.RESOLVED)

    response = world.client("staff_in_team").get(ALERTS)

    assert response.status_code == 200
    [item] = response.json()["items"]
    assert item["id"] == str(alert.pk)
    assert item["id"] != str(resolved.pk)
    assert (item["pain"], item["kind"], item["status"]) == (8, "pain_stop", "open")
    assert item["kind_name"] == "Smerte på stopniveau"
    assert item["citizen_name"] == world.citizen.full_name
    assert item["contact_person_name"] == world.staff_in_team.user.display_name
    assert item["exercise_title"] == alert.exercise.title_da
    assert AccessLogEntry.objects.filter(citizen=world.citizen, resource_type="training_alert", action="read").exists()


@pytest.mark.django_db
def test_alert_names_follow_the_language_asked_for(world, alert):
    response = world.client("staff_in_team").get(ALERTS, headers={"Accept-Language": "en"})

    item = response.json()["items"][0]
    assert (item["kind_name"], item["status_name"]) == ("Pain at the stop level", "Open")
    assert item["exercise_title"] == alert.exercise.title_en


@pytest.mark.django_db
def test_filters_by_status_and_citizen(world, alert):
    other_citizen = core.CitizenFactory(municipality=world.municipality)
    core.CareRelationFactory(citizen=other_citizen, team=world.team)
    other_plan = make_plan(episode=factories.EpisodeFactory(citizen=other_citizen, team=world.team))
    raise_alert(other_plan, status=TrainingAlert.Status.RESOLVED)
    client = world.client("staff_in_team")

    resolved = client.get(ALERTS, {"status": "resolved"}).json()["items"]
    mine = client.get(ALERTS, {"citizen_id": str(world.citizen.pk), "status": ["open", "resolved"]}).json()["items"]

    assert [item["citizen_id"] for item in resolved] == [str(other_citizen.pk)]
    assert [item["id"] for item in mine] == [str(alert.pk)]
    assert client.get(ALERTS, {"status": "gone"}).status_code == 422


@pytest.mark.django_db
def test_staff_of_another_team_do_not_see_the_alerts(world, alert):
    response = world.client("staff_out_of_team").get(ALERTS)

    assert response.json()["items"] == []


@pytest.mark.django_db
def test_listing_costs_the_same_queries_for_3_and_30_alerts(world, plan):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert world.client("staff_in_team").get(ALERTS, {"limit": 100}).status_code == 200
        return len(captured)

    for _ in range(3):
        raise_alert(plan, contact=world.staff_in_team)
    small = queries()
    for _ in range(27):
        raise_alert(plan, contact=world.staff_in_team)
    assert queries() == small


@pytest.mark.django_db
def test_pages_follow_the_cursor(world, plan):
    made = {str(raise_alert(plan).pk) for _ in range(5)}
    client = world.client("staff_in_team")

    first = client.get(ALERTS, {"limit": 3}).json()
    second = client.get(ALERTS, {"limit": 3, "cursor": first["next_cursor"]}).json()

    assert {item["id"] for item in first["items"] + second["items"]} == made
    assert second["next_cursor"] is None


# --- Acknowledging ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_acknowledging_marks_it_seen_once_and_again_changes_nothing(world, alert):
    client = world.client("staff_in_team")

    first = client.post(f"{ALERTS}/{alert.pk}/acknowledge")
    seen = snapshot(alert)
    again = client.post(f"{ALERTS}/{alert.pk}/acknowledge")

    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json()["status"] == "acknowledged"
    assert first.json()["acknowledged_by_name"] == world.staff_in_team.user.display_name
    assert again.json()["acknowledged_at"] == first.json()["acknowledged_at"]
    assert snapshot(alert) == seen
    assert AccessLogEntry.objects.filter(resource_type="training_alert", action="update").count() == 1


@pytest.mark.django_db
def test_an_acknowledged_alert_still_turns_the_caseload_red_until_resolved(world, alert):
    caseload = f"/api/v1/teams/{world.team.pk}/caseload"
    client = world.client("staff_in_team")

    client.post(f"{ALERTS}/{alert.pk}/acknowledge")
    acknowledged = client.get(caseload).json()["items"][0]
    client.post(f"{ALERTS}/{alert.pk}/resolve", {"note": "Talt med borgeren, øvelsen er taget ud."})
    resolved = client.get(caseload).json()["items"][0]

    assert (acknowledged["status"], acknowledged["open_alerts"]) == ("red", 1)
    assert "pain_alert" not in resolved["status_reasons"]
    assert resolved["open_alerts"] == 0


# --- Resolving ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_resolving_keeps_the_note_and_counts_as_seen(world, alert):
    response = world.client("staff_in_team").post(
        f"{ALERTS}/{alert.pk}/resolve", {"note": "Ringet til borgeren; smerten er aftaget."}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "resolved"
    assert body["resolution_note"] == "Ringet til borgeren; smerten er aftaget."
    assert body["resolved_by_name"] == world.staff_in_team.user.display_name
    assert body["acknowledged_at"] == body["resolved_at"]
    assert world.client("staff_in_team").get(ALERTS).json()["items"] == []


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["resolve", "acknowledge"])
def test_a_resolved_alert_cannot_be_reopened(world, alert, action):
    client = world.client("staff_in_team")
    client.post(f"{ALERTS}/{alert.pk}/resolve", {"note": "Afsluttet"})
    resolved = snapshot(alert)

    response = client.post(f"{ALERTS}/{alert.pk}/{action}", {"note": "Igen"} if action == "resolve" else None)

    assert response.status_code == 409
    assert response.json()["code"] == "training_alert_resolved"
    assert snapshot(alert) == resolved


@pytest.mark.django_db
@pytest.mark.parametrize("body", [{}, {"note": ""}, {"note": "x" * 1001}, {"note": "ok", "status": "open"}])
def test_resolving_needs_a_note_of_sensible_length(world, alert, body):
    response = world.client("staff_in_team").post(f"{ALERTS}/{alert.pk}/resolve", body)

    assert response.status_code == 422
    assert snapshot(alert)[0] == TrainingAlert.Status.OPEN


# --- Who may act --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_staff_of_another_team_caring_for_the_citizen_see_it_but_may_not_act(world, alert):
    core.CareRelationFactory(citizen=world.citizen, team=world.other_team)
    client = world.client("staff_out_of_team")
    before = snapshot(alert)

    listed = client.get(ALERTS).json()["items"]
    acknowledged = client.post(f"{ALERTS}/{alert.pk}/acknowledge")
    resolved = client.post(f"{ALERTS}/{alert.pk}/resolve", {"note": "Ikke mit team"})

    assert [item["id"] for item in listed] == [str(alert.pk)]
    assert (acknowledged.status_code, resolved.status_code) == (403, 403)
    assert acknowledged.json()["code"] == "not_episode_team"
    assert snapshot(alert) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "status"),
    [("staff_out_of_team", 404), ("it", 403), ("analyst", 403), ("citizen", 403), ("relative_with_consent", 403)],
)
def test_others_cannot_act_on_the_alert(world, alert, role, status):
    before = snapshot(alert)
    logged = AccessLogEntry.objects.count()

    acknowledged = world.client(role).post(f"{ALERTS}/{alert.pk}/acknowledge")
    resolved = world.client(role).post(f"{ALERTS}/{alert.pk}/resolve", {"note": "Set"})

    assert (acknowledged.status_code, resolved.status_code) == (status, status)
    assert snapshot(alert) == before
    assert AccessLogEntry.objects.count() == logged


@pytest.mark.django_db
def test_a_colleague_in_the_episodes_team_who_is_not_the_contact_person_may_act(world, alert):
    colleague = core.StaffFactory(municipality=world.municipality)
    core.MembershipFactory(staff=colleague, team=world.team, role=StaffRole.CARE_WORKER)
    assert not alert.episode.contacts.filter(staff=colleague, role=EpisodeContact.Role.CONTACT_PERSON).exists()
    client = ApiClient(access_token_for(colleague.user, AppSession.Audience.STAFF))

    assert client.post(f"{ALERTS}/{alert.pk}/acknowledge").status_code == 200
