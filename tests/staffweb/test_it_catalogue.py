"""IT's catalogue page and the CSV import and export of devices, models and assignments, with the test client:
what the pages show, their Danish errors, that a refused form or file changes nothing, and constant queries."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.models import AccessLogEntry
from backend.timeutil import municipal_today
from notifications.models import ReminderOccurrence
from tests.staffweb.helpers import access_rows, web_client
from tests.velfaerdsteknologi.conftest import cpr_of
from tests.velfaerdsteknologi.factories import DeviceModelFactory, category
from velfaerdsteknologi.models import (
    AlertRule,
    Assignment,
    Device,
    DeviceModel,
    DeviceStatus,
    DeviceTransition,
    MaintenanceTask,
)
from velfaerdsteknologi.services.alerts import device_model_create
from velfaerdsteknologi.services.devices import device_register

pytestmark = pytest.mark.django_db


def _it(world):
    return web_client(world.it_staff.user)


def _gps_model(model_number="Vi+ GPS"):
    return device_model_create(
        manufacturer="Tunstall",
        model_number=model_number,
        name="Faldalarm med GPS",
        category=category("fall_detector"),
        telemetry_kinds=["heartbeat", "battery", "fall", "location"],
        heartbeat_interval_seconds=300,
        is_battery_powered=True,
        service_interval_days=365,
        test_call_interval_days=30,
    )


def _upload(text: str, name: str = "fil.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def _preview(client, path: str, text: str, name: str = "fil.csv"):
    return client.post(path, {"file": _upload(text, name), "action": "preview"})


def _body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


# --- The catalogue ---------------------------------------------------------------------------------------------


def test_catalogue_shows_categories_models_their_rules_and_which_need_consent(world):
    gps = _gps_model()
    vacuum = DeviceModelFactory(
        manufacturer="iRobot",
        model_number="Roomba 5",
        category=category("robotic_vacuum"),
        telemetry_kinds=[],
        heartbeat_interval_seconds=None,
        is_battery_powered=False,
    )
    body = _it(world).get("/staff/it/katalog/").content.decode()
    assert "Faldalarm" in body and "Roomba 5" in body
    assert "Ja – sender position" in body  # the GPS model, though its category is not surveillance-type
    assert "Batteri: alarm ≤ 10 %, advarsel ≤ 20 % → IT" in body
    assert "Livstegn: alarm efter 3 udeblevne livstegn (15 min.) → IT" in body
    assert "Fald: alarm ved hver hændelse → Plejeteamet" in body
    assert f'href="/staff/it/katalog/{gps.pk}/"' in body and f'href="/staff/it/katalog/{vacuum.pk}/"' in body
    door = category("door_sensor")
    assert door.is_surveillance and door.name in body
    only_vacuums = _it(world).get("/staff/it/katalog/", {"category": "robotic_vacuum"}).content.decode()
    assert "Roomba 5" in only_vacuums and "Vi+ GPS" not in only_vacuums


def test_catalogue_costs_the_same_queries_for_2_and_20_models(world):
    client = _it(world)
    counts = []
    for total in (2, 20):
        while DeviceModel.objects.count() < total:
            _gps_model(f"GPS-{DeviceModel.objects.count()}")
        with CaptureQueriesContext(connection) as queries:  # a background fetch: the login's use is not written
            assert client.get("/staff/it/katalog/", headers={"X-Mestring-Background": "1"}).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_adding_a_model_gives_it_the_default_rules(world):
    response = _it(world).post(
        "/staff/it/katalog/ny/",
        {
            "manufacturer": "Doro",
            "model_number": "Secure 580",
            "name": "Mobil tryghedsalarm",
            "category": "fall_detector",
            "telemetry_kinds": ["heartbeat", "battery", "fall"],
            "heartbeat_interval_seconds": "600",
            "is_battery_powered": "on",
            "test_call_interval_days": "30",
        },
    )
    model = DeviceModel.objects.get(manufacturer="Doro", model_number="Secure 580")
    assert response.status_code == 302 and response["Location"] == f"/staff/it/katalog/{model.pk}/"
    assert set(model.alert_rules.values_list("kind", flat=True)) == {"heartbeat", "battery", "fall"}
    page = _it(world).get(response["Location"]).content.decode()
    assert "Mobil tryghedsalarm" in page and "Gem reglen" in page


@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        ({"heartbeat_interval_seconds": "5"}, "heartbeat_interval_seconds", "Skal være mindst 10."),
        ({"heartbeat_interval_seconds": "ofte"}, "heartbeat_interval_seconds", "Skriv et helt tal."),
        ({"manufacturer": ""}, "manufacturer", "Dette felt er påkrævet."),
        ({"category": "toaster"}, "category", "Vælg en kategori fra listen."),
        ({"model_number": "Vi+ GPS"}, "model_number", "Modellen findes allerede i kataloget"),
        ({"telemetry_kinds": ["smoke"]}, "telemetry_kinds", "Vælg blandt målingstyperne."),
    ],
)
def test_a_bad_model_is_refused_beside_the_field_and_nothing_is_added(world, changes, field, text):
    _gps_model()
    before = (DeviceModel.objects.count(), AlertRule.objects.count())
    data = {"manufacturer": "Tunstall", "model_number": "Lifeline", "category": "fall_detector", **changes}
    response = _it(world).post("/staff/it/katalog/ny/", data)
    body = response.content.decode()
    assert response.status_code == 422
    assert text in body and f'id="id_{field}' in body and "error-summary" in body
    assert (DeviceModel.objects.count(), AlertRule.objects.count()) == before


def test_changing_a_models_battery_thresholds(world):
    model = _gps_model()
    response = _it(world).post(
        f"/staff/it/katalog/{model.pk}/regler/battery/",
        {"rule-battery-alert_low": "15", "rule-battery-warning_low": "25,5", "rule-battery-is_active": "on"},
    )
    assert response.status_code == 302 and response["Location"].endswith("#rule-battery")
    rule = AlertRule.objects.get(device_model=model, kind="battery")
    assert (rule.alert_low, rule.warning_low, rule.is_active) == (15.0, 25.5, True)
    page = _it(world).get(f"/staff/it/katalog/{model.pk}/").content.decode()
    assert "alarm ≤ 15 %, advarsel ≤ 25,5 %" in page
    # The fields show the thresholds as the words do, ready to be changed: 15, not 15.0; 25,5 with a comma.
    assert 'name="rule-battery-alert_low" value="15"' in page
    assert 'name="rule-battery-warning_low" value="25,5"' in page
    off = _it(world).post(f"/staff/it/katalog/{model.pk}/regler/fall/", {})
    assert off.status_code == 302 and not AlertRule.objects.get(device_model=model, kind="fall").is_active


@pytest.mark.parametrize(
    ("kind", "data", "text"),
    [
        ("battery", {"alert_low": "30", "warning_low": "20"}, "Tærsklerne skal stige"),
        ("battery", {}, "Angiv mindst én tærskelværdi."),
        ("battery", {"alert_low": "lav"}, "Skriv et tal, fx 15 eller 12,5."),
        ("heartbeat", {"missing_after_intervals": "0"}, "Skal være mindst 1."),
    ],
)
def test_a_bad_rule_is_refused_beside_the_field_and_changes_nothing(world, kind, data, text):
    model = _gps_model()
    before = list(AlertRule.objects.filter(device_model=model).values())
    posted = {f"rule-{kind}-{name}": value for name, value in {**data, "is_active": "on"}.items()}
    response = _it(world).post(f"/staff/it/katalog/{model.pk}/regler/{kind}/", posted)
    assert response.status_code == 422 and text in response.content.decode()
    assert list(AlertRule.objects.filter(device_model=model).values()) == before


def test_a_rule_for_a_reading_the_model_does_not_send_is_404(world):
    vacuum = DeviceModelFactory(
        category=category("robotic_vacuum"), telemetry_kinds=[], heartbeat_interval_seconds=None
    )
    response = _it(world).post(f"/staff/it/katalog/{vacuum.pk}/regler/heartbeat/", {"rule-heartbeat-is_active": "on"})
    assert response.status_code == 404 and not AlertRule.objects.filter(device_model=vacuum).exists()


# --- Importing devices -----------------------------------------------------------------------------------------

DEVICE_HEADER = "serial_number,manufacturer,model_number,imei,location\n"


def test_a_formula_in_a_cell_is_refused_in_danish_and_nothing_is_imported(world):
    model = _gps_model()
    text = DEVICE_HEADER + f'VIG-1,{model.manufacturer},{model.model_number},,"=HYPERLINK(""http://x"")"\n'
    response = _preview(_it(world), "/staff/it/import/", text)
    body = response.content.decode()
    assert response.status_code == 422 and "ville blive kørt som en formel" in body and "HYPERLINK" not in body
    real = _it(world).post("/staff/it/import/", {"csv": text, "action": "import"})
    assert real.status_code == 422 and not Device.objects.filter(serial_number="VIG-1").exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("enheder.xlsx", b"PK\x03\x04\x14\x00\x06\x00"),
        ("enheder.csv", b"PK\x03\x04\x14\x00\x06\x00\x00\x00serial_number"),
        ("enheder.csv", "serial_number;model\n".encode("utf-16")),
    ],
)
def test_a_file_that_is_not_csv_is_refused_in_danish(world, name, content):
    before = Device.objects.count()
    upload = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    response = _it(world).post("/staff/it/import/", {"file": upload, "action": "preview"})
    body = response.content.decode()
    assert response.status_code == 422
    assert "Filen er ikke en CSV-fil" in body or "tegnsættet UTF-8" in body
    assert Device.objects.count() == before


def test_a_50_mb_upload_is_refused_and_a_file_over_the_import_limit_is_told_in_danish(world):
    model = _gps_model()
    row = f"VIG-X,{model.manufacturer},{model.model_number},,Depot\n"
    huge = SimpleUploadedFile("enheder.csv", (DEVICE_HEADER + row * (50 * 1024 * 1024 // len(row))).encode())
    response = _it(world).post("/staff/it/import/", {"file": huge, "action": "preview"})
    assert response.status_code == 413
    assert response.json()["title"] == "Det sendte er for stort."
    large = SimpleUploadedFile("enheder.csv", (DEVICE_HEADER + row * (3 * 1024 * 1024 // len(row))).encode())
    told = _it(world).post("/staff/it/import/", {"file": large, "action": "preview"})
    assert told.status_code == 422 and "Filen er for stor: højst 2 MB" in told.content.decode()
    assert not Device.objects.filter(serial_number="VIG-X").exists()


def test_the_upload_field_tells_the_browser_its_limit(world):
    body = _it(world).get("/staff/it/import/").content.decode()
    assert 'data-max-bytes="2097152"' in body and 'accept=".csv,text/csv"' in body


def test_twenty_devices_import_after_fixing_the_errors_the_dry_run_showed(world):
    model = _gps_model()
    device_register(municipality=world.municipality, device_model=model, serial_number="VIG-0001", by=None)
    rows = [f"VIG-{n:04d},{model.manufacturer},{model.model_number},,Depot" for n in range(1, 21)]
    bad = [
        *rows[:-2],
        f"VIG-0019,{model.manufacturer},Vi+ GSP,,Depot",
        f"VIG-0020,{model.manufacturer},{model.model_number},12,Depot",
    ]
    client = _it(world)
    preview = _preview(client, "/staff/it/import/", DEVICE_HEADER + "\n".join(bad) + "\n")
    body = preview.content.decode()
    assert preview.status_code == 422 and "Filen har 3 fejl. Intet er gemt." in body
    assert "Der findes allerede en enhed af denne model med dette serienummer." in body
    assert "Fabrikant og modelnummer skal svare til en model i kataloget." in body
    assert "Skriv IMEI-nummeret som 15 cifre." in body
    fixed = [f"VIG-{n:04d},{model.manufacturer},{model.model_number},,Depot" for n in range(2, 22)]
    text = DEVICE_HEADER + "\n".join(fixed) + "\n"
    assert "Filen er i orden: 20 rækker kan importeres." in _preview(client, "/staff/it/import/", text).content.decode()
    assert Device.objects.count() == 2  # the world's and VIG-0001
    done = client.post("/staff/it/import/", {"csv": text, "action": "import"})
    assert done.status_code == 201 and "20 enheder er importeret og står på lager." in done.content.decode()
    imported = Device.objects.filter(serial_number__in=[row.split(",")[0] for row in fixed])
    assert imported.count() == 20 and {device.status for device in imported} == {DeviceStatus.IN_STOCK}
    # What registering one device keeps: its first step in the lifecycle, its maintenance and its reminders.
    steps = DeviceTransition.objects.filter(device__in=imported)
    assert steps.count() == 20 and {(step.to_status, step.by_id) for step in steps} == {
        ("in_stock", world.it_staff.user.pk)
    }
    tasks = MaintenanceTask.objects.filter(device__in=imported)
    assert sorted(set(tasks.values_list("kind", flat=True))) == ["service", "test_call"]  # the model's intervals
    assert tasks.count() == 40 and {device.next_service_due for device in imported} == {
        municipal_today() + timedelta(days=365)
    }
    keys = {f"maintenance:{task.pk}" for task in tasks}
    assert ReminderOccurrence.objects.filter(source_key__in=keys).count() == 40


def test_the_import_costs_the_same_queries_for_5_and_50_rows(world):
    from velfaerdsteknologi.transfer import DEVICES, csv_import

    model = _gps_model()
    counts = []
    for start, total in ((0, 5), (100, 50)):
        rows = [f"Q-{n},{model.manufacturer},{model.model_number},,Depot" for n in range(start, start + total)]
        with CaptureQueriesContext(connection) as queries:
            report = csv_import(
                DEVICES,
                municipality=world.municipality,
                by=world.it_staff.user,
                csv_text=DEVICE_HEADER + "\n".join(rows),
                dry_run=False,
            )
        assert report.created == total and report.errors == []
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- Importing models ------------------------------------------------------------------------------------------

MODEL_HEADER = "manufacturer,model_number,category,name,telemetry_kinds,heartbeat_interval_seconds,is_battery_powered\n"


def test_models_import_after_a_dry_run_with_their_default_rules(world):
    _gps_model()
    client = _it(world)
    bad = (
        MODEL_HEADER
        + "Tunstall,Vi+ GPS,fall_detector,Findes,heartbeat,300,ja\n"
        + "Doro,D1,toaster,,battery,,ja\n"
        + "Doro,D2,fall_detector,@SUM(1),battery,,maaske\n"
        + "Doro,D3,fall_detector,,heartbeat;smoke,5,nej\n"
    )
    preview = _preview(client, "/staff/it/import/modeller/", bad)
    body = preview.content.decode()
    assert preview.status_code == 422
    for text in (
        "Modellen findes allerede i kataloget.",
        "Kategorien findes ikke.",
        "ville blive kørt som en formel",
        "Skriv ja eller nej.",
        "Ukendt målingstype.",
    ):
        assert text in body, text
    good = (
        MODEL_HEADER
        + "Doro,D1,fall_detector,Tryghedsalarm,heartbeat;battery;fall,600,ja\nSafe,Door 2,door_sensor,,door_open,,nej\n"
    )
    assert _preview(client, "/staff/it/import/modeller/", good).status_code == 200
    assert not DeviceModel.objects.filter(manufacturer="Doro").exists()
    done = client.post("/staff/it/import/modeller/", {"csv": good, "action": "import"})
    assert done.status_code == 201 and "2 modeller er tilføjet kataloget" in done.content.decode()
    doro = DeviceModel.objects.get(manufacturer="Doro", model_number="D1")
    assert set(doro.alert_rules.values_list("kind", flat=True)) == {"heartbeat", "battery", "fall"}
    assert doro.alert_rules.get(kind="battery").alert_low == 10.0
    door = DeviceModel.objects.get(model_number="Door 2")
    assert door.is_surveillance and not door.alert_rules.exists()


def test_model_export_takes_the_catalogues_category_and_keeps_formulae_inert(world):
    _gps_model()
    DeviceModelFactory(model_number="R-1", name="=cmd|'/c calc'", category=category("robotic_vacuum"))
    response = _it(world).get("/staff/it/eksport/modeller/", {"category": "robotic_vacuum"})
    rows = list(csv.DictReader(io.StringIO(_body(response))))
    assert [row["model_number"] for row in rows] == ["R-1"] and rows[0]["name"] == "'=cmd|'/c calc'"
    everything = list(csv.DictReader(io.StringIO(_body(_it(world).get("/staff/it/eksport/modeller/")))))
    gps = next(row for row in everything if row["model_number"] == "Vi+ GPS")
    assert gps["needs_consent"] == "ja" and gps["telemetry_kinds"] == "heartbeat;battery;fall;location"


def test_an_exported_catalogue_imports_again_as_new_models(world):
    _gps_model()
    lines = _body(_it(world).get("/staff/it/eksport/modeller/")).splitlines()
    assert _preview(_it(world), "/staff/it/import/modeller/", "\n".join(lines)).status_code == 422  # all there
    renamed = [lines[0]] + [line.replace("Vi+ GPS", "Vi+ GPS 2") for line in lines if "Vi+ GPS" in line]
    assert _preview(_it(world), "/staff/it/import/modeller/", "\n".join(renamed)).status_code == 200


# --- Importing and exporting assignments -----------------------------------------------------------------------

ASSIGNMENT_HEADER = "serial_number,manufacturer,model_number,cpr,consent_basis,consent_reference,consent_review_on\n"


def test_assignments_import_with_consent_after_the_dry_run(world):
    model = _gps_model()
    for serial in ("VIG-A", "VIG-B"):
        device_register(municipality=world.municipality, device_model=model, serial_number=serial, by=None)
    cpr = cpr_of(world.citizen)
    future = municipal_today() + timedelta(days=180)
    past = municipal_today() - timedelta(days=1)
    head = f"{model.manufacturer},{model.model_number}"
    bad = (
        ASSIGNMENT_HEADER
        + f"VIG-A,{head},{cpr},,,\n"
        + f"VIG-B,{head},{cpr},consent,Journal 7,{past}\n"
        + f"VIG-C,{head},{cpr},consent,Journal 7,{future}\n"
        + f"VIG-B,{head},0101011234,consent,Journal 7,{future}\n"
        + f"VIG-B,{head},12345,consent,Journal 7,{future}\n"
    )
    client = _it(world)
    before = AccessLogEntry.objects.count()
    preview = _preview(client, "/staff/it/import/tildelinger/", bad)
    body = preview.content.decode()
    assert preview.status_code == 422
    for text in (
        "En overvågende enhed kræver samtykke eller lovhjemmel og en revurderingsdato.",
        "Revurderingsdatoen skal ligge efter i dag.",
        "Der er ingen enhed af denne model med dette serienummer i kommunen.",
        "Borgeren findes ikke i kommunen eller er registreret som død.",
        "Skriv et gyldigt CPR-nummer",
    ):
        assert text in body, text
    assert cpr not in body.replace(f'value="{cpr}', "")  # the number is not echoed in the errors
    assert preview["Cache-Control"] == "no-store"
    assert not Assignment.objects.exists() and AccessLogEntry.objects.count() == before
    good = (
        ASSIGNMENT_HEADER
        + f"VIG-A,{head},{cpr},consent,Journal 7,{future}\nVIG-B,{head},{cpr},legal_basis,§ 125,{future}\n"
    )
    assert _preview(client, "/staff/it/import/tildelinger/", good).status_code == 200
    assert not Assignment.objects.exists()
    done = client.post("/staff/it/import/tildelinger/", {"csv": good, "action": "import"})
    assert done.status_code == 201 and "2 enheder er reserveret til borgerne" in done.content.decode()
    assignments = Assignment.objects.filter(citizen=world.citizen)
    assert assignments.count() == 2
    assert {(a.device.serial_number, a.consent_basis, a.consent_review_on) for a in assignments} == {
        ("VIG-A", "consent", future),
        ("VIG-B", "legal_basis", future),
    }
    assert all(a.installation_address and a.consent_recorded_by_id == world.it_staff.user.pk for a in assignments)
    assert set(Device.objects.filter(serial_number__in=["VIG-A", "VIG-B"]).values_list("status", flat=True)) == {
        DeviceStatus.RESERVED
    }
    assert (
        DeviceTransition.objects.filter(to_status="reserved", device__serial_number__in=["VIG-A", "VIG-B"]).count() == 2
    )
    assert [(row.resource_type, row.action) for row in access_rows(world.citizen)] == [("device_assignment", "create")]
    again = client.post("/staff/it/import/tildelinger/", {"csv": good, "action": "import"})
    assert again.status_code == 422 and "Kun en enhed på lager kan tildeles." in again.content.decode()
    assert Assignment.objects.count() == 2


def test_assignment_export_takes_its_filter_and_logs_each_citizen(world):
    from tests.velfaerdsteknologi.factories import AssignmentFactory

    model = _gps_model()
    active = device_register(municipality=world.municipality, device_model=model, serial_number="VIG-ON", by=None)
    ended = device_register(municipality=world.municipality, device_model=model, serial_number="VIG-OFF", by=None)
    AssignmentFactory(device=active, citizen=world.citizen)
    AssignmentFactory(device=ended, citizen=world.other_citizen, returned_at=timezone.now())
    response = _it(world).get("/staff/it/eksport/tildelinger/", {"state": "aktive"})
    rows = list(csv.DictReader(io.StringIO(_body(response))))
    assert [(row["serial_number"], row["citizen_name"]) for row in rows] == [("VIG-ON", world.citizen.full_name)]
    assert "cpr" not in rows[0]
    assert [(row.resource_type, row.purpose) for row in access_rows(world.citizen)] == [
        ("device_assignment", "device_installation")
    ]
    assert access_rows(world.other_citizen) == []


def test_a_missing_or_unknown_column_is_named(world):
    response = _preview(_it(world), "/staff/it/import/", "serial_number,manufacturer,modelnummer\nA,B,C\n")
    body = response.content.decode()
    assert response.status_code == 422
    assert "<td>model_number</td><td>Kolonnen mangler i filens første række.</td>" in body
    assert "<td>modelnummer</td><td>Kolonnen kendes ikke. Ret overskriften eller fjern kolonnen.</td>" in body
