import pytest

from tests.velfaerdsteknologi.factories import DeviceModelFactory
from velfaerdsteknologi.models import Device, DeviceTransition, MaintenanceTask

pytestmark = pytest.mark.django_db
HEADER = "serial_number,manufacturer,model_number,imei,firmware_version,purchase_date,location\n"


def csv_rows(model, serials, **overrides) -> str:  # type: ignore[no-untyped-def]
    lines = [
        f"{serial},{overrides.get('manufacturer', model.manufacturer)},"
        f"{overrides.get('model_number', model.model_number)},,1.4,2026-03-01,Hjælpemiddeldepot"
        for serial in serials
    ]
    return HEADER + "\n".join(lines) + "\n"


def run(client, text: str, dry_run: bool):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/devices/import", {"csv": text, "dry_run": dry_run})


def test_two_hundred_devices_import_after_a_clean_dry_run(world, it_client, fall_detector_model):
    text = csv_rows(fall_detector_model, [f"IMP-{n:04d}" for n in range(200)])
    before = Device.objects.count()
    dry = run(it_client, text, True)
    assert dry.status_code == 200 and dry.json() == {"dry_run": True, "rows": 200, "created": 200, "errors": []}
    assert Device.objects.count() == before
    real = run(it_client, text, False)
    assert real.status_code == 201 and real.json()["created"] == 200
    imported = Device.objects.filter(serial_number__startswith="IMP-")
    assert imported.count() == 200
    assert set(imported.values_list("municipality_id", "status", "location").distinct()) == {
        (world.municipality.pk, "in_stock", "Hjælpemiddeldepot")
    }
    assert DeviceTransition.objects.filter(device__in=imported, to_status="in_stock").count() == 200
    assert MaintenanceTask.objects.filter(device__in=imported, kind="service").count() == 200


def test_dry_run_lists_each_bad_row_and_the_real_run_writes_nothing(world, it_client, fall_detector_model):
    text = (
        csv_rows(fall_detector_model, ["A-1", "A-2", "A-1"])
        + csv_rows(fall_detector_model, ["A-3"], model_number="NOPE").removeprefix(HEADER)
        + csv_rows(
            fall_detector_model,
            [world.device.serial_number],
            model_number=world.device.model.model_number,
            manufacturer=world.device.model.manufacturer,
        ).removeprefix(HEADER)
    )
    counts = (Device.objects.count(), DeviceTransition.objects.count(), MaintenanceTask.objects.count())
    dry = run(it_client, text, True)
    assert dry.status_code == 200
    errors = dry.json()["errors"]
    rows = {(error["row"], error["field"]) for error in errors}
    assert (3, "row") in rows or (3, "serial_number") in rows, errors
    assert (4, "model_number") in rows, errors
    assert any(error["row"] == 5 for error in errors), errors
    assert "Unknown device model" in " ".join(error["message"] for error in errors)
    real = run(it_client, text, False)
    assert real.status_code == 422 and real.json()["code"] == "import_failed"
    assert (Device.objects.count(), DeviceTransition.objects.count(), MaintenanceTask.objects.count()) == counts


def test_a_csv_without_the_required_columns_is_refused(it_client):
    response = run(it_client, "serial,model\nX,Y\n", False)
    assert response.status_code == 422 and "serial_number" in response.json()["detail"]
    assert run(it_client, "serial_number,manufacturer,model_number\n", True).json()["rows"] == 0


def test_other_models_with_the_same_serial_are_fine(it_client, fall_detector_model):
    other = DeviceModelFactory()
    text = csv_rows(fall_detector_model, ["S-1"]) + csv_rows(other, ["S-1"]).removeprefix(HEADER)
    assert run(it_client, text, False).json()["created"] == 2
