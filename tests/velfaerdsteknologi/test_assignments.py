from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.models import AccessLogEntry, Citizen
from tests import factories
from tests.velfaerdsteknologi.conftest import count_queries, cpr_of
from tests.velfaerdsteknologi.factories import AssignmentFactory
from velfaerdsteknologi.models import Assignment, Device, ReturnTask
from velfaerdsteknologi.services.assignments import return_tasks_detect

pytestmark = pytest.mark.django_db
IT_VISIBLE_CITIZEN_FIELDS = {"id", "given_name", "family_name", "address_line", "postcode", "city", "phone"}


def assign(client, device, citizen, **extra):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/device-assignments", {"device_id": str(device.pk), "citizen_id": str(citizen.pk), **extra}
    )


def test_assigning_reserves_the_device_and_logs_the_address_read(world, it_client):
    response = assign(it_client, world.device, world.citizen, planned_install_on=str(timezone.localdate()))
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body["citizen"]) == IT_VISIBLE_CITIZEN_FIELDS
    assert body["installation_address"].startswith(world.citizen.address_line)
    world.device.refresh_from_db()
    assert world.device.status == "reserved"
    entry = AccessLogEntry.objects.get(citizen=world.citizen, resource_type="device_assignment")
    assert (entry.actor_role, entry.purpose, entry.action) == ("it", "device_installation", "create")


def test_one_active_assignment_per_device_is_a_database_rule(world):
    AssignmentFactory(device=world.device, citizen=world.citizen)
    with pytest.raises(IntegrityError), transaction.atomic():
        AssignmentFactory(device=world.device, citizen=world.other_citizen)
    Assignment.objects.filter(device=world.device).update(returned_at=timezone.now())
    AssignmentFactory(device=world.device, citizen=world.other_citizen)


def test_a_second_assignment_is_refused_and_changes_nothing(world, it_client):
    assert assign(it_client, world.device, world.citizen).status_code == 201
    before = (Assignment.objects.count(), AccessLogEntry.objects.count())
    second = assign(it_client, world.device, world.other_citizen)
    assert second.status_code == 409 and second.json()["code"] == "device_not_in_stock"
    assert (Assignment.objects.count(), AccessLogEntry.objects.count()) == before


def test_surveillance_device_is_refused_until_consent_and_review_date(world, it_client, fall_detector_model):
    device = factories.DeviceFactory(municipality=world.municipality, model=fall_detector_model)
    refused = assign(it_client, device, world.citizen)
    assert refused.status_code == 422
    assert refused.json()["code"] == "consent_required" and refused.json()["errors"][0]["field"] == "consent_basis"
    no_review = assign(it_client, device, world.citizen, consent_basis="consent")
    assert no_review.json()["errors"][0]["field"] == "consent_review_on"
    assert not Assignment.objects.exists()
    device.refresh_from_db()
    assert device.status == "in_stock"
    review_on = timezone.localdate() + timedelta(days=180)
    accepted = assign(
        it_client,
        device,
        world.citizen,
        consent_basis="consent",
        consent_reference="J.nr. 17",
        consent_review_on=str(review_on),
    )
    assert accepted.status_code == 201
    assert accepted.json()["consent_recorded_at"] is not None


def test_install_then_return_moves_the_device_along(world, it_client):
    assignment_id = assign(it_client, world.device, world.citizen).json()["id"]
    installed = it_client.post(f"/api/v1/device-assignments/{assignment_id}/install", {})
    assert installed.status_code == 200 and installed.json()["installed_at"]
    world.device.refresh_from_db()
    assert world.device.status == "in_use" and world.device.location == installed.json()["installation_address"]
    returned = it_client.post(f"/api/v1/device-assignments/{assignment_id}/return", {})
    assert returned.status_code == 200 and returned.json()["is_active"] is False
    world.device.refresh_from_db()
    assert world.device.status == "returned"
    assert it_client.post(f"/api/v1/device-assignments/{assignment_id}/return", {}).status_code == 409
    steps = list(world.device.transitions.order_by("at", "id").values_list("to_status", flat=True))
    assert steps == ["reserved", "in_use", "returned"]


def test_a_deceased_citizen_gets_no_device(world, it_client):
    Citizen.objects.filter(pk=world.citizen.pk).update(deceased_on=timezone.localdate())
    response = assign(it_client, world.device, world.citizen)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "citizen_id"


def test_it_finds_a_citizen_by_cpr_and_sees_only_contact_details(world, it_client):
    response = it_client.post("/api/v1/it/citizens/lookup", {"cpr": cpr_of(world.citizen)})
    assert response.status_code == 200
    assert set(response.json()) == IT_VISIBLE_CITIZEN_FIELDS
    assert AccessLogEntry.objects.filter(citizen=world.citizen, purpose="device_installation").count() == 1


def test_moves_and_deaths_open_one_return_task_each(world, it_client):
    first = AssignmentFactory(device=world.device, citizen=world.citizen)
    other_device = factories.DeviceFactory(municipality=world.municipality)
    second = AssignmentFactory(device=other_device, citizen=world.other_citizen)
    assert return_tasks_detect() == 0
    Citizen.objects.filter(pk=world.citizen.pk).update(address_line="Ny Vej 1")
    Citizen.objects.filter(pk=world.other_citizen.pk).update(deceased_on=timezone.localdate())
    assert return_tasks_detect() == 2
    assert return_tasks_detect() == 0
    reasons = dict(ReturnTask.objects.values_list("assignment_id", "reason"))
    assert reasons == {first.pk: "citizen_moved", second.pk: "citizen_died"}
    listed = it_client.get("/api/v1/it/return-tasks").json()["items"]
    assert {item["reason"] for item in listed} == {"citizen_moved", "citizen_died"}
    assert all(set(item["citizen"]) == IT_VISIBLE_CITIZEN_FIELDS for item in listed)
    Device.objects.filter(pk=world.device.pk).update(status="in_use")
    it_client.post(f"/api/v1/device-assignments/{first.pk}/return", {})
    assert ReturnTask.objects.get(assignment=first).completed_at is not None


def test_assignment_and_return_lists_cost_the_same_for_more_rows(world, it_client):
    def listing():  # type: ignore[no-untyped-def]
        return it_client.get("/api/v1/device-assignments")

    def returns():  # type: ignore[no-untyped-def]
        return it_client.get("/api/v1/it/return-tasks")

    first = AssignmentFactory(device=world.device, citizen=world.citizen)
    ReturnTask.objects.create(assignment=first, reason="citizen_died")
    small, small_returns = count_queries(listing)[0], count_queries(returns)[0]
    for _ in range(15):
        assignment = AssignmentFactory(device=factories.DeviceFactory(municipality=world.municipality))
        ReturnTask.objects.create(assignment=assignment, reason="citizen_moved")
    large, response = count_queries(listing)
    assert small == large and len(response.json()["items"]) == 16
    assert count_queries(returns)[0] == small_returns


def test_the_episode_and_goal_a_device_serves_must_be_the_citizens_own(world, it_client):
    from tests.selvbetjening.factories import EpisodeFactory, GoalFactory

    own = EpisodeFactory(citizen=world.citizen, team=world.team, status="active")
    own_goal = GoalFactory(episode=own)
    foreign = EpisodeFactory(citizen=world.other_citizen, team=world.other_team, status="active")
    foreign_goal = GoalFactory(episode=foreign)
    refused = [
        ({"episode_id": str(foreign.pk)}, "episode_id"),
        ({"episode_id": str(own.pk), "goal_id": str(foreign_goal.pk)}, "goal_id"),
        ({"goal_id": str(foreign_goal.pk)}, "goal_id"),
    ]
    for extra, field in refused:
        response = assign(it_client, world.device, world.citizen, **extra)
        assert response.status_code == 422, response.content
        assert response.json()["code"] == "not_citizens_own" and response.json()["errors"][0]["field"] == field
        assert not Assignment.objects.filter(device=world.device).exists()
    response = assign(it_client, world.device, world.citizen, episode_id=str(own.pk), goal_id=str(own_goal.pk))
    assert response.status_code == 201, response.content
    assignment = Assignment.objects.get(device=world.device)
    assert (assignment.episode_id, assignment.goal_id) == (own.pk, own_goal.pk)


def test_an_ending_episode_opens_return_tasks_only_for_its_own_citizens_devices(world):
    from backend import care_events
    from tests.selvbetjening.factories import EpisodeFactory

    episode = EpisodeFactory(citizen=world.citizen, team=world.team)
    own = AssignmentFactory(device=world.device, citizen=world.citizen, episode_id=episode.pk)
    other_device = factories.DeviceFactory(municipality=world.municipality)
    stray = AssignmentFactory(device=other_device, citizen=world.other_citizen, episode_id=episode.pk)
    care_events.episode_ended(episode_id=episode.pk, citizen_id=world.citizen.pk)
    assert ReturnTask.objects.filter(assignment=own).exists()
    assert not ReturnTask.objects.filter(assignment=stray).exists()


def test_the_migration_clears_another_citizens_episode_and_goal_from_assignments(world):
    import importlib

    from django.apps import apps as installed

    from tests.selvbetjening.factories import EpisodeFactory, GoalFactory

    migration = importlib.import_module("velfaerdsteknologi.migrations.0006_assignment_care_references")
    others = EpisodeFactory(citizen=world.other_citizen, team=world.team)
    own = EpisodeFactory(citizen=world.citizen, team=world.team)
    own_goal = GoalFactory(episode=own)
    wrong = AssignmentFactory(device=world.device, citizen=world.citizen, episode_id=others.pk, goal_id=own_goal.pk)
    right_device = factories.DeviceFactory(municipality=world.municipality)
    right = AssignmentFactory(device=right_device, citizen=world.citizen, episode_id=own.pk, goal_id=own_goal.pk)
    migration.clear_foreign_references(installed, None)
    wrong.refresh_from_db()
    right.refresh_from_db()
    assert (wrong.episode_id, wrong.goal_id) == (None, own_goal.pk)
    assert (right.episode_id, right.goal_id) == (own.pk, own_goal.pk)
