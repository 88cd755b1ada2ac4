"""Changing a catalogue model's name and maintenance intervals: the service's rules, the API operation and the
catalogue page's form."""

from datetime import timedelta

import pytest

from backend.timeutil import municipal_today
from notifications.models import ReminderOccurrence
from tests.staffweb.helpers import web_client
from tests.velfaerdsteknologi.factories import DeviceModelFactory
from velfaerdsteknologi.models import Device, DeviceModel, DeviceStatus, MaintenanceKind, MaintenanceTask
from velfaerdsteknologi.services.catalogue import device_model_change
from velfaerdsteknologi.services.devices import device_register
from velfaerdsteknologi.services.maintenance import maintenance_reminder_key

pytestmark = pytest.mark.django_db


def _model(**fields):
    values = {
        "service_interval_days": 365,
        "test_call_interval_days": 30,
        "battery_check_interval_days": None,
        "is_battery_powered": False,
        **fields,
    }
    return DeviceModelFactory(**values)


def _device(world, model, serial="CH-0001"):
    return device_register(municipality=world.municipality, device_model=model, serial_number=serial, by=None)


def _open(device, kind):
    return MaintenanceTask.objects.filter(device=device, kind=kind, completed_at__isnull=True)


def test_a_changed_interval_keeps_the_open_tasks_dates_and_applies_to_the_next_one(world):
    model = _model()
    device = _device(world, model)
    due = _open(device, MaintenanceKind.TEST_CALL).get().due_on
    device_model_change(device_model=model, changes={"test_call_interval_days": 7}, today=municipal_today())
    model.refresh_from_db()
    assert model.test_call_interval_days == 7
    assert _open(device, MaintenanceKind.TEST_CALL).get().due_on == due


def test_a_new_interval_gives_every_device_in_service_its_first_task_but_not_a_retired_one(world):
    model = _model(service_interval_days=None)
    device, retired = _device(world, model), _device(world, model, "CH-0002")
    Device.objects.filter(pk=retired.pk).update(status=DeviceStatus.RETIRED)
    today = municipal_today()
    device_model_change(device_model=model, changes={"service_interval_days": 90}, today=today)
    task = _open(device, MaintenanceKind.SERVICE).get()
    assert task.due_on == today + timedelta(days=90)
    assert ReminderOccurrence.objects.filter(source_key=maintenance_reminder_key(task.pk)).exists()
    assert not _open(retired, MaintenanceKind.SERVICE).exists()
    device.refresh_from_db()
    assert device.next_service_due == task.due_on


def test_a_removed_interval_cancels_the_open_tasks_and_their_reminders(world):
    model = _model()
    device = _device(world, model)
    task = _open(device, MaintenanceKind.TEST_CALL).get()
    key = maintenance_reminder_key(task.pk)
    device_model_change(device_model=model, changes={"test_call_interval_days": None}, today=municipal_today())
    task.refresh_from_db()
    assert task.completed_at is not None and task.result == MaintenanceTask.Result.CANCELLED
    assert not ReminderOccurrence.objects.filter(source_key=key, status=ReminderOccurrence.Status.SCHEDULED).exists()
    assert _open(device, MaintenanceKind.SERVICE).exists()


def test_battery_checks_need_a_battery_powered_model_and_a_refusal_changes_nothing(world):
    model = _model(name="Før")
    with pytest.raises(Exception) as refused:
        device_model_change(
            device_model=model, changes={"name": "Efter", "battery_check_interval_days": 30}, today=municipal_today()
        )
    assert getattr(refused.value, "field", "") == "battery_check_interval_days"
    model.refresh_from_db()
    assert model.name == "Før" and model.battery_check_interval_days is None


def test_what_the_model_is_cannot_be_changed(world):
    model = _model()
    with pytest.raises(Exception) as refused:
        device_model_change(device_model=model, changes={"model_number": "X-1"}, today=municipal_today())
    assert getattr(refused.value, "field", "") == "model_number"


# --- The API ----------------------------------------------------------------------------------------------


def test_the_api_changes_name_and_intervals_and_answers_danish_problems(world):
    model = _model()
    client = world.client("it")
    response = client.patch(f"/api/v1/device-models/{model.pk}", {"name": "Faldalarm 2", "service_interval_days": 180})
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Faldalarm 2" and response.json()["service_interval_days"] == 180
    assert response.json()["test_call_interval_days"] == 30
    refused = client.patch(f"/api/v1/device-models/{model.pk}", {"battery_check_interval_days": 30})
    assert refused.status_code == 422
    assert "batteridrevet" in refused.json()["detail"]
    too_long = client.patch(f"/api/v1/device-models/{model.pk}", {"service_interval_days": 0})
    assert too_long.status_code == 422
    model.refresh_from_db()
    assert model.service_interval_days == 180 and model.battery_check_interval_days is None


def test_only_it_changes_a_model(world):
    model = _model(name="Før")
    response = world.client("staff_in_team").patch(f"/api/v1/device-models/{model.pk}", {"name": "Efter"})
    assert response.status_code == 403
    model.refresh_from_db()
    assert model.name == "Før"


# --- The catalogue page ------------------------------------------------------------------------------------


def test_the_catalogue_page_changes_name_and_intervals(world):
    model = _model()
    client = web_client(world.it_staff.user)
    page = client.get(f"/staff/it/katalog/{model.pk}/").content.decode()
    assert "Navn og vedligehold" in page and 'name="model-service_interval_days"' in page
    response = client.post(
        f"/staff/it/katalog/{model.pk}/ret/",
        {"model-name": "Faldalarm 2", "model-service_interval_days": "180", "model-test_call_interval_days": "30"},
    )
    assert response.status_code == 302 and response["Location"] == f"/staff/it/katalog/{model.pk}/"
    model.refresh_from_db()
    assert model.name == "Faldalarm 2" and model.service_interval_days == 180 and model.test_call_interval_days == 30


def test_the_catalogue_page_says_a_refusal_in_danish_beside_the_field_and_changes_nothing(world):
    model = _model(name="Før")
    client = web_client(world.it_staff.user)
    response = client.post(
        f"/staff/it/katalog/{model.pk}/ret/",
        {"model-name": "Efter", "model-service_interval_days": "365", "model-battery_check_interval_days": "30"},
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="id_model-battery_check_interval_days-error"' in body and "batteridrevet" in body
    bad = client.post(f"/staff/it/katalog/{model.pk}/ret/", {"model-service_interval_days": "to"})
    assert bad.status_code == 422 and "Skriv et helt tal." in bad.content.decode()
    model.refresh_from_db()
    assert model.name == "Før" and model.battery_check_interval_days is None
    assert DeviceModel.objects.filter(name="Efter").count() == 0
