"""Device alerts reach the people they concern: a health alert the care staff on duty in the citizen's
teams (the whole care team when nobody is on duty) and their live views; a device alert the municipality's
IT staff; an acknowledgement everyone else who was told."""

import io
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from backend.models import Duty, StaffRole
from notifications.models import Notification, StreamEvent
from tests import factories
from tests.velfaerdsteknologi.factories import AssignmentFactory
from velfaerdsteknologi.models import Alert, Device

pytestmark = pytest.mark.django_db

TELEMETRY = "/api/v1/telemetry"


def reading(sequence: int, kind: str, value: Any = None) -> dict[str, Any]:
    item: dict[str, Any] = {"sequence": sequence, "kind": kind, "measured_at": timezone.now().isoformat()}
    if value is not None:
        item["value"] = value
    return item


def recipients(kind: str) -> set[uuid.UUID]:
    return set(Notification.objects.filter(kind=kind).values_list("recipient_id", flat=True))


def users(*people: Any) -> set[uuid.UUID]:
    return {person.user.pk for person in people}


def staff_member(municipality: Any, team: Any, role: str = StaffRole.CARE_WORKER) -> Any:
    member = factories.StaffFactory(municipality=municipality)
    factories.MembershipFactory(staff=member, team=team, role=role)
    return member


def on_duty(staff: Any, team: Any) -> Duty:
    return Duty.objects.create(staff=staff, team=team, until=timezone.now() + timedelta(hours=8))


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def installed(world, fall_detector_model):
    """The world's device is a GPS fall detector installed at the world's citizen's home."""
    Device.objects.filter(pk=world.device.pk).update(model=fall_detector_model, status="in_use")
    world.device.refresh_from_db()
    AssignmentFactory(device=world.device, citizen=world.citizen, installed_at=timezone.now() - timedelta(hours=2))
    return world.device


@pytest.fixture
def other_municipality_it(db):
    municipality = factories.MunicipalityFactory(code="101", name="København")
    team = factories.TeamFactory(unit=factories.OrganisationUnitFactory(municipality=municipality))
    return staff_member(municipality, team, StaffRole.IT)


def post_readings(world: Any, *readings: dict[str, Any]) -> None:
    response = world.client("device").post(TELEMETRY, {"readings": list(readings)})
    assert response.status_code in (200, 201, 202), response.content


# --- Health alerts --------------------------------------------------------------------------------


def test_a_fall_with_nobody_on_duty_reaches_the_care_team_and_its_live_view_not_it(
    world, installed, deliver, other_municipality_it
):
    colleague = staff_member(world.municipality, world.team)
    with deliver():
        post_readings(world, reading(1, "fall", True))

    alert = Alert.objects.get()
    assert recipients("device_alert.raised") == users(world.staff_in_team, colleague)
    assert Notification.objects.count() == 2, "not IT, not the analyst, not another team"
    notification = Notification.objects.get(recipient=colleague.user)
    assert notification.refs == {
        "alert_id": str(alert.pk),
        "device_id": str(installed.pk),
        "citizen_id": str(world.citizen.pk),
    }
    [event] = StreamEvent.objects.filter(team__isnull=False)
    assert (event.team_id, event.type, event.payload) == (world.team.pk, "device_alert.raised", notification.refs)


def test_a_fall_reaches_only_the_staff_on_duty_in_the_citizens_care_teams(world, installed, deliver):
    home_care = factories.TeamFactory(unit=world.team.unit, name="Hjemmepleje Syd")
    factories.CareRelationFactory(citizen=world.citizen, team=home_care)
    on_call, night_nurse = staff_member(world.municipality, world.team), staff_member(world.municipality, home_care)
    staff_member(world.municipality, home_care)  # off duty
    on_duty(on_call, world.team)
    on_duty(night_nurse, home_care)
    on_duty(world.staff_out_of_team, world.other_team)

    with deliver():
        post_readings(world, reading(1, "fall", True))

    assert recipients("device_alert.raised") == users(on_call, night_nurse)
    assert set(StreamEvent.objects.filter(team__isnull=False).values_list("team_id", flat=True)) == {
        world.team.pk,
        home_care.pk,
    }


def test_a_repeated_fall_on_an_open_alert_tells_nobody_again(world, installed, deliver):
    with deliver():
        post_readings(world, reading(1, "fall", True))
    with deliver():
        post_readings(world, reading(2, "fall", True), reading(3, "fall", True))
    assert Alert.objects.get().trigger_count == 3
    assert Notification.objects.count() == 1
    assert StreamEvent.objects.filter(team__isnull=False).count() == 1


def test_texts_name_nobody_and_no_health_term(world, installed, deliver):
    with deliver():
        post_readings(world, reading(1, "fall", True))
    [notification] = Notification.objects.all()
    texts = (notification.text_da, notification.text_en, notification.push_text_da, notification.push_text_en)
    forbidden = (world.citizen.given_name, world.citizen.family_name, "fald", "fall")
    assert not any(word.lower() in text.lower() for word in forbidden for text in texts)


def test_a_health_alert_for_a_citizen_no_team_cares_for_reaches_it_without_the_citizen(world, installed, deliver):
    world.citizen.care_relations.all().delete()
    with deliver():
        post_readings(world, reading(1, "fall", True))
    assert recipients("device_alert.raised") == users(world.it_staff)
    assert set(Notification.objects.get().refs) == {"alert_id", "device_id"}


# --- Device alerts --------------------------------------------------------------------------------


def test_low_battery_reaches_the_municipalitys_it_staff_and_again_when_it_escalates(
    world, installed, deliver, other_municipality_it
):
    second_it = staff_member(world.municipality, world.it_team, StaffRole.IT)
    with deliver():
        post_readings(world, reading(1, "battery", 18))
    assert recipients("device_alert.raised") == users(world.it_staff, second_it)
    assert set(Notification.objects.get(recipient=second_it.user).refs) == {"alert_id", "device_id"}
    assert not StreamEvent.objects.filter(team__isnull=False).exists()

    with deliver():
        post_readings(world, reading(2, "battery", 15))  # still a warning
    assert Notification.objects.count() == 2
    with deliver():
        post_readings(world, reading(3, "battery", 9))  # now an alert
    assert Notification.objects.filter(recipient=world.it_staff.user).count() == 2


def test_missing_heartbeats_tell_it_a_device_is_offline_once(world, installed, deliver):
    Device.objects.filter(pk=installed.pk).update(last_seen_at=timezone.now() - timedelta(hours=1))
    with deliver():
        call_command("detect_missing_heartbeats", stdout=io.StringIO())
    with deliver():
        call_command("detect_missing_heartbeats", stdout=io.StringIO())
    assert recipients("device.offline") == users(world.it_staff)
    notification = Notification.objects.get()
    assert notification.push_text_en == "Something in Mestring needs your attention."
    assert notification.text_en == "A device has not sent data for a while."


# --- Acknowledged ---------------------------------------------------------------------------------


def test_an_acknowledged_health_alert_tells_the_others_who_were_told_and_the_live_view(world, installed, deliver):
    colleague = staff_member(world.municipality, world.team)
    with deliver():
        post_readings(world, reading(1, "fall", True))
    alert = Alert.objects.get()
    later_colleague = staff_member(world.municipality, world.team)  # joined after the alert: was not told

    with deliver():
        response = world.client("staff_in_team").post(f"/api/v1/device-alerts/{alert.pk}/acknowledge")

    assert response.status_code == 200
    assert recipients("device_alert.acknowledged") == users(colleague)
    assert later_colleague.user.pk not in recipients("device_alert.acknowledged")
    assert list(StreamEvent.objects.filter(team=world.team).order_by("id").values_list("type", flat=True)) == [
        "device_alert.raised",
        "device_alert.acknowledged",
    ]


def test_an_it_alert_resolved_without_acknowledgement_tells_the_other_it_staff(world, installed, deliver):
    second_it = staff_member(world.municipality, world.it_team, StaffRole.IT)
    with deliver():
        post_readings(world, reading(1, "battery", 5))
    alert = Alert.objects.get()
    with deliver():
        assert world.client("it").post(f"/api/v1/device-alerts/{alert.pk}/resolve").status_code == 200
    assert recipients("device_alert.acknowledged") == users(second_it)


def test_an_alert_the_system_resolves_sends_no_acknowledgement(world, installed, deliver):
    Device.objects.filter(pk=installed.pk).update(last_seen_at=timezone.now() - timedelta(hours=1))
    with deliver():
        call_command("detect_missing_heartbeats", stdout=io.StringIO())
    with deliver():
        post_readings(world, reading(1, "heartbeat"))
    assert Alert.objects.get().status == "resolved"
    assert recipients("device_alert.acknowledged") == set()
