"""IT's pages under /staff/it/ with the test client: what each role gets, what each page reads and logs, forms and
their Danish errors, and that a refused form changes nothing."""

from datetime import timedelta

import pyotp
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.models import AccessLogEntry
from backend.timeutil import municipal_today
from backend.tokens import DEVICE_PREFIX
from tests import factories as core
from tests.backend.test_oidc_login import idps  # noqa: F401 — the fixture
from tests.staffweb.helpers import access_rows, web_client
from tests.velfaerdsteknologi.conftest import cpr_of
from tests.velfaerdsteknologi.factories import AlertFactory, AssignmentFactory, DeviceModelFactory, category
from velfaerdsteknologi.models import (
    AlertAudience,
    AlertRule,
    Assignment,
    Device,
    DeviceCredential,
    DeviceModel,
    DeviceStatus,
    DeviceTransition,
    MaintenanceTask,
    Reading,
    ReturnTask,
)
from velfaerdsteknologi.services.devices import device_register

# A citizen's and a relative's browser login is the citizen app's; even with a login to the staff web app (made
# here directly) they hold no staff role, and the IT pages are 404 to them as to care staff and analysts.
PERSON_ROLES = {
    "staff_in_team": "staff_in_team",
    "staff_out_of_team": "staff_out_of_team",
    "it": "it_staff",
    "analyst": "analyst",
    "citizen_with_staff_login": "citizen",
    "relative_with_staff_login": "relative_with_consent",
}
NOT_IT = {
    "staff_in_team": 404,
    "staff_out_of_team": 404,
    "analyst": 404,
    "citizen_with_staff_login": 404,
    "relative_with_staff_login": 404,
}


def _it(world):
    return web_client(world.it_staff.user)


def _gps_model():
    return DeviceModelFactory(
        manufacturer="Tunstall",
        name="Faldalarm med GPS",
        telemetry_kinds=["heartbeat", "battery", "fall", "location"],
    )


def _register(world, serial="VIG-0001", model=None, **fields):
    return device_register(
        municipality=world.municipality,
        device_model=model or _gps_model(),
        serial_number=serial,
        by=world.it_staff.user,
        location="Hjælpemiddeldepotet",
        **fields,
    )


def _installed(world):
    """A GPS fall detector installed at the world's citizen's, with a consent."""
    device = _register(world)
    assignment = AssignmentFactory(
        device=device,
        citizen=world.citizen,
        installed_at=timezone.now(),
        consent_basis="consent",
        consent_reference="Journalnotat 12",
        consent_review_on=municipal_today() + timedelta(days=200),
    )
    Device.objects.filter(pk=device.pk).update(status=DeviceStatus.IN_USE, location=assignment.installation_address)
    device.refresh_from_db()
    return device, assignment


# --- The role × page matrix ---------------------------------------------------------------------

PAGES = {
    "board": ("/staff/it/", lambda w: {}),
    "devices": ("/staff/it/enheder/", lambda w: {}),
    "device-new": ("/staff/it/enheder/ny/", lambda w: {}),
    "device": ("/staff/it/enheder/{device_id}/", lambda w: {"device_id": w._device.pk}),
    "device-assign": ("/staff/it/enheder/{device_id}/tildel/", lambda w: {"device_id": w._device.pk}),
    "device-change": ("/staff/it/enheder/{device_id}/ret/", lambda w: {"device_id": w._device.pk}),
    "maintenance": ("/staff/it/vedligehold/", lambda w: {}),
    "returns": ("/staff/it/returneringer/", lambda w: {}),
    "catalogue": ("/staff/it/katalog/", lambda w: {}),
    "model-new": ("/staff/it/katalog/ny/", lambda w: {}),
    "model": ("/staff/it/katalog/{model_id}/", lambda w: {"model_id": w._device.model_id}),
    "import": ("/staff/it/import/", lambda w: {}),
    "import-models": ("/staff/it/import/modeller/", lambda w: {}),
    "import-assignments": ("/staff/it/import/tildelinger/", lambda w: {}),
    "export": ("/staff/it/eksport/", lambda w: {}),
    "export-models": ("/staff/it/eksport/modeller/", lambda w: {}),
    "export-assignments": ("/staff/it/eksport/tildelinger/", lambda w: {}),
}
# Actions (POST only): each refused to every role but IT, changing nothing.
ACTIONS = {
    "device-transition": ("/staff/it/enheder/{device_id}/status/", {"to_status": "in_repair", "reason": "Defekt"}),
    "device-credential": ("/staff/it/enheder/{device_id}/noegle/", {}),
    "assignment-consent": (
        "/staff/it/tildelinger/{assignment_id}/samtykke/",
        {
            "consent-{assignment_id}-consent_basis": "legal_basis",
            "consent-{assignment_id}-consent_review_on": "2030-01-01",
        },
    ),
    "assignment-install": ("/staff/it/tildelinger/{assignment_id}/installer/", {}),
    "assignment-return": ("/staff/it/tildelinger/{assignment_id}/returner/", {}),
    "maintenance-complete": ("/staff/it/vedligehold/{task_id}/udfoer/", {"result": "passed"}),
    "alert-acknowledge": ("/staff/it/alarmer/{alert_id}/kvitter/", {}),
    "alert-resolve": ("/staff/it/alarmer/{alert_id}/loes/", {}),
    "model-change": ("/staff/it/katalog/{model_id}/ret/", {"model-name": "Omdøbt", "model-service_interval_days": "7"}),
    "model-rule": (
        "/staff/it/katalog/{model_id}/regler/battery/",
        {"rule-battery-alert_low": "50", "rule-battery-warning_low": "60", "rule-battery-is_active": "on"},
    ),
}


def test_every_it_page_has_a_matrix_row():
    from staffweb.urls_it import urlpatterns

    assert {pattern.name for pattern in urlpatterns} == set(PAGES) | set(ACTIONS)


@pytest.mark.django_db
@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("role", ["anonymous", "citizen", *PERSON_ROLES])
def test_it_page_by_role(world, page, role):
    world._device, assignment = _installed(world)
    path, params = PAGES[page]
    url = path.format(**params(world))
    if role == "anonymous":
        client, status = Client(), 302
    elif role == "citizen":
        client, status = web_client(world.citizen.user, audience="citizen"), 302
    else:
        client = web_client(getattr(world, PERSON_ROLES[role]).user)
        status = 200 if role == "it" else NOT_IT[role]
    before = AccessLogEntry.objects.count()
    response = client.get(url)
    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith("/staff/log-ind/")
    if status != 200:
        body = response.content.decode()
        assert world.citizen.full_name not in body and world._device.serial_number not in body
        assert AccessLogEntry.objects.count() == before
    if status == 404:
        assert "Siden findes ikke" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("role", ["anonymous", *NOT_IT])
def test_it_actions_are_refused_to_others_and_change_nothing(world, action, role):
    device, assignment = _installed(world)
    task = MaintenanceTask.objects.filter(device=device).first()
    alert = AlertFactory(device=device, kind="battery", audience=AlertAudience.IT, citizen=None)
    path, data = ACTIONS[action]
    ids = {
        "device_id": device.pk,
        "assignment_id": assignment.pk,
        "task_id": task.pk,
        "alert_id": alert.pk,
        "model_id": device.model_id,
    }
    rules_before = list(AlertRule.objects.filter(device_model_id=device.model_id).values())
    model_before = list(DeviceModel.objects.filter(pk=device.model_id).values())
    url = path.format(**ids)
    data = {key.format(**ids): value for key, value in data.items()}
    client = Client() if role == "anonymous" else web_client(getattr(world, PERSON_ROLES[role]).user)
    response = client.post(url, data)
    assert response.status_code == (302 if role == "anonymous" else 404)
    device.refresh_from_db()
    assignment.refresh_from_db()
    task.refresh_from_db()
    assert device.status == DeviceStatus.IN_USE and assignment.returned_at is None and task.completed_at is None
    assert assignment.consent_basis == "consent"
    alert.refresh_from_db()
    assert alert.status == "open"
    assert not DeviceCredential.objects.filter(device=device).exists()
    assert list(AlertRule.objects.filter(device_model_id=device.model_id).values()) == rules_before
    assert list(DeviceModel.objects.filter(pk=device.model_id).values()) == model_before


@pytest.mark.django_db
def test_navigation_follows_the_role(world):
    it_body = _it(world).get("/staff/it/").content.decode()
    assert 'href="/staff/it/enheder/"' in it_body and 'href="/staff/henvendelser/"' not in it_body
    care_body = web_client(world.staff_in_team.user).get("/staff/").content.decode()
    assert 'href="/staff/it/' not in care_body


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "landing"), [("it_staff", "/staff/it/"), ("staff_in_team", "/staff/")])
def test_a_login_lands_on_the_first_page_of_the_role(world, settings, role, landing):
    settings.PASSWORD_LOGIN_ENABLED = True
    user = getattr(world, role).user
    user.set_password("a-long-demo-password")
    user.totp_secret = pyotp.random_base32()
    user.save()
    client = Client()
    assert 'name="next" value=""' in client.get("/staff/log-ind/").content.decode()
    form = {"username": user.username, "password": "a-long-demo-password", "next": ""}
    response = client.post("/staff/log-ind/", {**form, "totp_code": pyotp.TOTP(user.totp_secret).now()})
    assert response.status_code == 302 and response["Location"] == landing
    again = client.get("/staff/log-ind/")
    assert again.status_code == 302 and again["Location"] == landing


# --- The register -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_register_searches_by_serial_status_category_location_and_citizen_name(world):
    device, _ = _installed(world)
    stock = _register(world, serial="BED-0001", model=DeviceModelFactory(category=category("bed_sensor")))
    client = _it(world)

    def serials(**query):
        body = client.get("/staff/it/enheder/", query).content.decode()
        return {serial for serial in ("VIG-0001", "BED-0001") if f">{serial}</a>" in body}

    assert serials() == {"VIG-0001", "BED-0001"}
    assert serials(search="bed-") == {"BED-0001"}
    assert serials(status="in_use") == {"VIG-0001"}
    assert serials(category="bed_sensor") == {"BED-0001"}
    assert serials(model_id=str(stock.model_id)) == {"BED-0001"}
    assert serials(location="depot") == {"BED-0001"}
    assert serials(citizen_name=world.citizen.family_name) == {"VIG-0001"}
    # The citizen search reveals who holds the device: one row for that citizen, purpose device installation.
    assert [(row.resource_type, row.purpose) for row in access_rows(world.citizen)] == [
        ("device_register", "device_installation")
    ]
    assert serials(sort="newest") == {"VIG-0001", "BED-0001"}


@pytest.mark.django_db
def test_register_finds_a_citizens_devices_by_cpr_in_the_body_never_the_url(world):
    _installed(world)
    number = cpr_of(world.citizen)
    client = _it(world)
    response = client.post("/staff/it/enheder/", {"cpr": number})
    body = response.content.decode()
    assert response.status_code == 200
    assert ">VIG-0001</a>" in body
    # The number goes back nowhere but the field it was typed in: not in a link, not in a redirect.
    assert body.count(number) == 1 and f'value="{number}"' in body
    assert [row.resource_type for row in access_rows(world.citizen)] == ["device_register"]


@pytest.mark.django_db
def test_register_refuses_a_bad_cpr_in_danish_and_logs_nothing(world):
    _installed(world)
    response = _it(world).post("/staff/it/enheder/", {"cpr": "123"})
    body = response.content.decode()
    assert response.status_code == 422
    assert 'id="id_cpr-error">Skriv et gyldigt CPR-nummer' in body
    assert ">VIG-0001</a>" not in body
    assert access_rows(world.citizen) == []


def _devices(world, count, model):
    for _ in range(count):
        device = core.DeviceFactory(municipality=world.municipality, model=model)
        # Each holder is found by the search "a", whatever names the factory makes up.
        holder = core.CitizenFactory(municipality=world.municipality, given_name="Anna")
        AssignmentFactory(device=device, citizen=holder)


@pytest.mark.django_db
def test_register_costs_the_same_queries_for_3_and_30_devices(world, django_assert_num_queries):
    model = DeviceModelFactory()
    client = _it(world)
    _devices(world, 3, model)
    # As a background fetch: the login's last use is not written, whatever time the seeding took.
    background = {"headers": {"X-Mestring-Background": "1"}}
    with CaptureQueriesContext(connection) as few:
        assert client.get("/staff/it/enheder/", {"citizen_name": "a"}, **background).status_code == 200
    _devices(world, 27, model)
    with django_assert_num_queries(len(few)):
        response = client.get("/staff/it/enheder/", {"citizen_name": "a"}, **background)
    assert response.status_code == 200


@pytest.mark.django_db
def test_a_filtered_register_page_costs_the_same_queries_for_5_and_60_devices(world, django_assert_num_queries):
    """The benchmark's filter (status and category, sorted by serial number) at two sizes; a full page at the
    larger one. ``bench/itpages`` times the same page at 50,000 devices."""
    models = [DeviceModelFactory(), DeviceModelFactory(category=category("bed_sensor"))]
    client = _it(world)
    query = {"status": "in_use", "category": "fall_detector", "sort": "serial"}
    background = {"headers": {"X-Mestring-Background": "1"}}

    def add(count: int) -> None:
        for index in range(count):
            core.DeviceFactory(municipality=world.municipality, model=models[index % 2], status=DeviceStatus.IN_USE)

    add(5)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/staff/it/enheder/", query, **background).status_code == 200
    # The browser's session, the login with its user, staff record and memberships (one statement), the
    # catalogue for the filter and the rows' models, and the page of devices.
    assert len(few) == 4, [query["sql"][:80] for query in few.captured_queries]
    add(55)
    with django_assert_num_queries(len(few)):
        response = client.get("/staff/it/enheder/", query, **background)
    assert response.content.decode().count("/staff/it/enheder/") >= 25 and "Næste side" in response.content.decode()


@pytest.mark.django_db
def test_the_register_reads_only_the_columns_its_rows_show(world):
    """The page of devices reads what a row shows and what the sorts page by; not the devices' models (the rows
    name them from the catalogue the filter reads) nor their other details."""
    core.DeviceFactory(municipality=world.municipality, model=DeviceModelFactory(), status=DeviceStatus.IN_USE)
    client = _it(world)
    for sort in ("serial", "status", "newest"):
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/staff/it/enheder/", {"status": "in_use", "category": "fall_detector", "sort": sort})
        assert response.status_code == 200
        (devices,) = [
            query["sql"]
            for query in queries.captured_queries
            if "velfaerdsteknologi_device" in query["sql"] and '"serial_number"' in query["sql"]
        ]
        for column in ("telemetry_kinds", "firmware_version", "purchase_date", "imei", "heartbeat_interval_seconds"):
            assert column not in devices, (sort, column)


@pytest.mark.django_db
def test_the_register_escapes_what_it_writes_out(world):
    """The rows and the filter are written out in Python: every value typed in or stored is escaped."""
    model = DeviceModelFactory(manufacturer='A&B <i>"', model_number="X<1>")
    core.DeviceFactory(
        municipality=world.municipality, model=model, serial_number="S<b>1</b>", location='Depot "<script>x</script>'
    )
    client = _it(world)
    rows = client.get("/staff/it/enheder/").content.decode()
    assert ">S&lt;b&gt;1&lt;/b&gt;</a>" in rows and "<td>Depot &quot;&lt;script&gt;x&lt;/script&gt;</td>" in rows
    assert "<td>A&amp;B &lt;i&gt;&quot; X&lt;1&gt;</td>" in rows
    body = client.get("/staff/it/enheder/", {"search": "S<b>", "location": '"><script>y</script>'}).content.decode()
    for page in (rows, body):
        assert "<script>" not in page.replace('<script src="', "") and "<b>" not in page and "<i>" not in page
    assert 'value="&quot;&gt;&lt;script&gt;y&lt;/script&gt;"' in body  # the location typed in, back in its field
    assert 'value="S&lt;b&gt;"' in body
    assert "A&amp;B &lt;i&gt;&quot; X&lt;1&gt;</option>" in body  # the model among the filter's choices


@pytest.mark.django_db
def test_register_pages_through_the_devices(world):
    model = DeviceModelFactory()
    for number in range(30):
        core.DeviceFactory(municipality=world.municipality, model=model, serial_number=f"P-{number:03d}")
    client = _it(world)
    first = client.get("/staff/it/enheder/").content.decode()
    assert ">P-000</a>" in first and ">P-024</a>" in first and ">P-025</a>" not in first
    link = first.split('class="staff-pager"><a class="button button-secondary" href="?')[1].split('"')[0]
    second = client.get("/staff/it/enheder/?" + link.replace("&amp;", "&")).content.decode()
    assert ">P-025</a>" in second and ">P-000</a>" not in second


# --- A device's page ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_device_page_shows_lifecycle_assignment_maintenance_alerts_and_telemetry(world):
    device, assignment = _installed(world)
    DeviceTransition.objects.create(
        device=device, from_status="in_stock", to_status="in_use", by=world.it_staff.user, reason="Installeret hjemme"
    )
    AlertFactory(device=device, kind="battery", audience=AlertAudience.IT, citizen=None)
    AlertFactory(device=device, kind="fall", audience=AlertAudience.CARE, citizen=world.citizen)
    now = timezone.now()
    Reading.objects.bulk_create(
        [
            Reading(
                device=device,
                sequence=index,
                kind=kind,
                numeric_value=value,
                measured_at=now - timedelta(days=day),
                received_at=now,
            )
            for index, (kind, value, day) in enumerate(
                [("battery", 80, 3), ("battery", 64, 1), ("heartbeat", None, 1), ("heartbeat", None, 1)]
            )
        ]
    )
    body = _it(world).get(f"/staff/it/enheder/{device.pk}/").content.decode()
    assert "Installeret hjemme" in body and world.it_staff.user.display_name in body
    assert world.citizen.full_name in body and world.citizen.phone in body and assignment.installation_address in body
    assert "Journalnotat 12" in body
    assert "Testopkald" in body and "Service" in body
    assert "Batteri" in body and "Fald" not in body.split('id="alerts-heading"')[1]  # IT sees no health alert
    assert '<title id="battery-chart-title">' in body and "<polyline" in body
    assert "<td>64 %</td>" in body  # the day's lowest battery level in the table
    rows = access_rows(world.citizen)
    assert [(row.resource_type, row.action, row.purpose) for row in rows] == [
        ("device_assignment", "read", "device_installation")
    ]


@pytest.mark.django_db
def test_device_page_costs_the_same_queries_whatever_the_history(world):
    device, _ = _installed(world)
    client = _it(world)
    with CaptureQueriesContext(connection) as few:
        client.get(f"/staff/it/enheder/{device.pk}/")
    for index in range(10):
        DeviceTransition.objects.create(device=device, from_status="in_use", to_status="in_repair", reason=str(index))
        AlertFactory(device=device, kind="battery", audience=AlertAudience.IT, citizen=None, status="resolved")
        AssignmentFactory(device=device, returned_at=timezone.now())
    with CaptureQueriesContext(connection) as many:
        client.get(f"/staff/it/enheder/{device.pk}/")
    assert len(many) == len(few)


@pytest.mark.django_db
def test_acknowledging_and_resolving_a_device_alert(world):
    device, _ = _installed(world)
    alert = AlertFactory(device=device, kind="battery", audience=AlertAudience.IT, citizen=None)
    health = AlertFactory(device=device, kind="fall", audience=AlertAudience.CARE, citizen=world.citizen)
    client = _it(world)
    assert client.post(f"/staff/it/alarmer/{alert.pk}/kvitter/").status_code == 302
    alert.refresh_from_db()
    assert alert.status == "acknowledged" and alert.acknowledged_by == world.it_staff.user
    again = client.post(f"/staff/it/alarmer/{alert.pk}/kvitter/")
    assert again.status_code == 409 and "Alarmen er allerede taget hånd om." in again.content.decode()
    assert client.post(f"/staff/it/alarmer/{alert.pk}/loes/").status_code == 302
    alert.refresh_from_db()
    assert alert.status == "resolved"
    # A health alert is the care team's: 404 here, unchanged.
    assert client.post(f"/staff/it/alarmer/{health.pk}/loes/").status_code == 404
    health.refresh_from_db()
    assert health.status == "open"


@pytest.mark.django_db
def test_another_municipalitys_device_is_404(world):
    foreign = core.DeviceFactory()
    assert _it(world).get(f"/staff/it/enheder/{foreign.pk}/").status_code == 404


@pytest.mark.django_db
def test_changing_a_devices_details(world):
    device = _register(world, firmware_version="1.0")
    client = _it(world)
    url = f"/staff/it/enheder/{device.pk}/ret/"
    form = {"firmware_version": "1.0", "location": "Hjælpemiddeldepotet", "purchase_date": ""}
    bad = client.post(url, {**form, "mac_address": "zz"})
    assert bad.status_code == 422 and 'id="id_mac_address-error">Skriv MAC-adressen' in bad.content.decode()
    device.refresh_from_db()
    assert device.mac_address is None
    response = client.post(url, {**form, "firmware_version": "2.1", "mac_address": "00:1A:2B:3C:4D:5E"})
    assert response.status_code == 302
    device.refresh_from_db()
    assert (device.firmware_version, device.mac_address, device.location) == (
        "2.1",
        "00:1A:2B:3C:4D:5E",
        "Hjælpemiddeldepotet",
    )
    taken = _register(world, serial="VIG-0002", model=device.model)
    duplicate = client.post(f"/staff/it/enheder/{taken.pk}/ret/", {**form, "mac_address": "00:1A:2B:3C:4D:5E"})
    assert duplicate.status_code == 422
    assert "Der findes allerede en enhed med denne værdi." in duplicate.content.decode()
    taken.refresh_from_db()
    assert taken.mac_address is None


# --- Registering and the lifecycle --------------------------------------------------------------


@pytest.mark.django_db
def test_registering_a_device(world):
    model = _gps_model()
    response = _it(world).post(
        "/staff/it/enheder/ny/",
        {
            "model_id": str(model.pk),
            "serial_number": "VIG-0100",
            "imei": "356938035643809",
            "purchase_date": "2026-01-02",
        },
    )
    device = Device.objects.get(serial_number="VIG-0100")
    assert response.status_code == 302 and response["Location"] == f"/staff/it/enheder/{device.pk}/"
    assert device.status == DeviceStatus.IN_STOCK and device.municipality == world.municipality
    assert str(device.purchase_date) == "2026-01-02"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field", "text"),
    [
        ({"imei": "12345"}, "imei", "Skriv IMEI-nummeret som 15 cifre."),
        ({"mac_address": "nope"}, "mac_address", "Skriv MAC-adressen som seks par"),
        ({"serial_number": ""}, "serial_number", "Dette felt er påkrævet."),
        ({"serial_number": "VIG 02!"}, "serial_number", "Skriv serienummeret som på enheden: bogstaver og tal"),
        ({"purchase_date": "i går"}, "purchase_date", "Skriv en dato"),
        ({"serial_number": "VIG-0001"}, "serial_number", "Der findes allerede en enhed med denne værdi."),
    ],
)
def test_a_bad_device_is_refused_beside_the_field_and_nothing_is_registered(world, changes, field, text):
    existing = _register(world)
    data = {"model_id": str(existing.model_id), "serial_number": "VIG-0200", **changes}
    response = _it(world).post("/staff/it/enheder/ny/", data)
    body = response.content.decode()
    assert response.status_code == 422
    assert f'id="id_{field}-error">{text}' in body
    assert Device.objects.count() == 2  # the world's own device and the existing one


@pytest.mark.django_db
def test_a_lifecycle_step_is_recorded_with_who_and_why(world):
    device = _register(world)
    response = _it(world).post(
        f"/staff/it/enheder/{device.pk}/status/", {"to_status": "in_repair", "reason": "Knap i stykker"}
    )
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.status == DeviceStatus.IN_REPAIR
    step = DeviceTransition.objects.filter(device=device).first()
    assert (step.to_status, step.reason, step.by) == ("in_repair", "Knap i stykker", world.it_staff.user)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("to_status", "status", "text"),
    [
        ("cleaning", 409, "Enheden kan ikke gå til den status fra den status, den har nu."),
        ("in_use", 409, "Reservation, installation og returnering sker gennem tildelingen."),
        ("", 422, "Dette felt er påkrævet."),
    ],
)
def test_an_illegal_step_is_refused_in_danish_and_changes_nothing(world, to_status, status, text):
    device = _register(world)
    response = _it(world).post(f"/staff/it/enheder/{device.pk}/status/", {"to_status": to_status, "reason": "Prøve"})
    assert response.status_code == status
    assert text in response.content.decode()
    device.refresh_from_db()
    assert device.status == DeviceStatus.IN_STOCK
    assert DeviceTransition.objects.filter(device=device).count() == 1


# --- Assigning, installing, returning -----------------------------------------------------------


def _assign_data(world, **changes):
    data = {"cpr": cpr_of(world.citizen), "planned_install_on": str(municipal_today() + timedelta(days=2))}
    data.update(changes)
    return data


@pytest.mark.django_db
def test_a_surveillance_device_is_not_assigned_without_a_consent_basis(world):
    device = _register(world)
    response = _it(world).post(f"/staff/it/enheder/{device.pk}/tildel/", _assign_data(world))
    body = response.content.decode()
    assert response.status_code == 422
    assert 'id="id_consent_basis-error">En overvågende enhed kræver samtykke' in body
    assert not Assignment.objects.filter(device=device).exists()
    device.refresh_from_db()
    assert device.status == DeviceStatus.IN_STOCK


@pytest.mark.django_db
def test_a_review_date_in_the_past_is_refused_beside_the_field(world):
    device = _register(world)
    data = _assign_data(world, consent_basis="consent", consent_review_on=str(municipal_today()))
    response = _it(world).post(f"/staff/it/enheder/{device.pk}/tildel/", data)
    assert response.status_code == 422
    assert 'id="id_consent_review_on-error">Revurderingsdatoen skal ligge efter i dag.' in response.content.decode()
    assert not Assignment.objects.filter(device=device).exists()


@pytest.mark.django_db
def test_an_unknown_cpr_is_refused_beside_the_field(world):
    device = _register(world, model=DeviceModelFactory(category=category("robotic_vacuum"), telemetry_kinds=[]))
    response = _it(world).post(f"/staff/it/enheder/{device.pk}/tildel/", _assign_data(world, cpr="010190-1239"))
    assert response.status_code == 422
    assert 'id="id_cpr-error">' in response.content.decode()
    assert not Assignment.objects.filter(device=device).exists()


@pytest.mark.django_db
def test_assign_install_and_return_with_consent(world):
    device = _register(world)
    client = _it(world)
    review_on = municipal_today() + timedelta(days=180)
    data = _assign_data(
        world, consent_basis="consent", consent_reference="Samtykke journalført", consent_review_on=str(review_on)
    )
    assert client.post(f"/staff/it/enheder/{device.pk}/tildel/", data).status_code == 302
    assignment = Assignment.objects.get(device=device)
    assert (assignment.citizen, assignment.consent_review_on) == (world.citizen, review_on)
    assert client.post(f"/staff/it/tildelinger/{assignment.pk}/installer/").status_code == 302
    device.refresh_from_db()
    assert device.status == DeviceStatus.IN_USE
    # Installing twice is refused in Danish, as the API refuses it (409).
    again = client.post(f"/staff/it/tildelinger/{assignment.pk}/installer/")
    assert again.status_code == 409 and "Tildelingen venter ikke på installation." in again.content.decode()
    assert client.post(f"/staff/it/tildelinger/{assignment.pk}/returner/").status_code == 302
    device.refresh_from_db()
    assert device.status == DeviceStatus.RETURNED
    # A device taken back has no test call due.
    assert not MaintenanceTask.objects.filter(device=device, kind="test_call", completed_at__isnull=True).exists()
    body = client.get("/staff/it/vedligehold/").content.decode()
    assert "VIG-0001" not in body or "Testopkald" not in body.split("VIG-0001")[1].split("</tr>")[0]
    assert {row.action for row in access_rows(world.citizen)} >= {"create", "update"}


@pytest.mark.django_db
def test_finding_the_citizen_shows_who_and_their_episodes_without_goal_words_and_assigns_nothing(world):
    from tests.selvbetjening.factories import EpisodeFactory, GoalFactory

    episode = EpisodeFactory(citizen=world.citizen, team=world.team)
    goal = GoalFactory(episode=episode, description="Gå til bageren selv", rank=1)
    device = _register(world)
    response = _it(world).post(f"/staff/it/enheder/{device.pk}/tildel/", _assign_data(world, action="find"))
    body = response.content.decode()
    assert response.status_code == 200
    assert world.citizen.full_name in body and world.citizen.phone in body
    assert f'value="{episode.pk}"' in body and f'value="{goal.pk}"' in body and "Mål nr. 1" in body
    assert "Gå til bageren selv" not in body  # IT never sees a goal's words
    assert not Assignment.objects.filter(device=device).exists()
    assert [row.resource_type for row in access_rows(world.citizen)] == ["citizen_contact"]


@pytest.mark.django_db
def test_an_episode_of_another_citizen_is_refused_beside_the_field(world):
    from tests.selvbetjening.factories import EpisodeFactory

    foreign = EpisodeFactory(citizen=world.other_citizen, team=world.other_team)
    device = _register(world, model=DeviceModelFactory(category=category("robotic_vacuum"), telemetry_kinds=[]))
    response = _it(world).post(
        f"/staff/it/enheder/{device.pk}/tildel/", _assign_data(world, episode_id=str(foreign.pk))
    )
    assert response.status_code == 422
    assert 'id="id_episode_id-error">' in response.content.decode()
    assert not Assignment.objects.filter(device=device).exists()


@pytest.mark.django_db
def test_assigning_to_the_citizens_own_episode_and_goal(world):
    from tests.selvbetjening.factories import EpisodeFactory, GoalFactory

    episode = EpisodeFactory(citizen=world.citizen, team=world.team)
    goal = GoalFactory(episode=episode)
    device = _register(world, model=DeviceModelFactory(category=category("robotic_vacuum"), telemetry_kinds=[]))
    data = _assign_data(world, episode_id=str(episode.pk), goal_id=str(goal.pk), action="assign")
    assert _it(world).post(f"/staff/it/enheder/{device.pk}/tildel/", data).status_code == 302
    assignment = Assignment.objects.get(device=device)
    assert (assignment.episode_id, assignment.goal_id) == (episode.pk, goal.pk)


@pytest.mark.django_db
def test_renewing_the_consent_of_an_assignment(world):
    device, assignment = _installed(world)
    client = _it(world)
    prefix = f"consent-{assignment.pk}-"
    url = f"/staff/it/tildelinger/{assignment.pk}/samtykke/"
    past = client.post(url, {prefix + "consent_basis": "consent", prefix + "consent_review_on": str(municipal_today())})
    assert past.status_code == 422
    assert (
        f'id="id_{prefix}consent_review_on-error">Revurderingsdatoen skal ligge efter i dag.' in past.content.decode()
    )
    review_on = municipal_today() + timedelta(days=365)
    data = {
        prefix + "consent_basis": "legal_basis",
        prefix + "consent_reference": "Afgørelse 7",
        prefix + "consent_review_on": str(review_on),
    }
    assert client.post(url, data).status_code == 302
    assignment.refresh_from_db()
    assert (assignment.consent_basis, assignment.consent_reference, assignment.consent_review_on) == (
        "legal_basis",
        "Afgørelse 7",
        review_on,
    )


# --- Credentials --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_new_device_key_is_shown_once(world):
    device = _register(world)
    client = _it(world)
    response = client.post(f"/staff/it/enheder/{device.pk}/noegle/")
    body = response.content.decode()
    token = body.split('<code id="credential-token" class="staff-secret">')[1].split("</code>")[0]
    assert token.startswith(DEVICE_PREFIX)
    assert response["Cache-Control"] == "no-store"
    assert 'data-copy-target="credential-token"' in body
    credential = DeviceCredential.objects.get(device=device)
    assert token not in credential.secret_hash and credential.lookup_prefix in token
    assert token not in client.get(f"/staff/it/enheder/{device.pk}/").content.decode()
    # Rotating: a new key, the first one no longer valid.
    second = client.post(f"/staff/it/enheder/{device.pk}/noegle/").content.decode()
    assert token not in second
    credential.refresh_from_db()
    assert credential.revoked_at is not None


@pytest.mark.django_db
def test_a_retired_device_gets_no_key(world):
    device = _register(world)
    Device.objects.filter(pk=device.pk).update(status=DeviceStatus.RETIRED)
    response = _it(world).post(f"/staff/it/enheder/{device.pk}/noegle/")
    assert response.status_code == 409
    assert "En kasseret enhed får ingen adgangsnøgle." in response.content.decode()
    assert not DeviceCredential.objects.filter(device=device).exists()


# --- Board and work lists -----------------------------------------------------------------------


@pytest.mark.django_db
def test_board_shows_an_offline_device_and_its_partial_alone_for_htmx(world):
    device, _ = _installed(world)
    AlertFactory(device=device, kind="heartbeat", audience=AlertAudience.IT, citizen=None)
    client = _it(world)
    body = client.get("/staff/it/").content.decode()
    offline = body.split('id="offline-heading"')[1].split("</section>")[0]
    assert "VIG-0001" in offline
    partial = client.get("/staff/it/", headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<div id="board"') and "<html" not in partial
    assert 'hx-trigger="every 30s' in body


@pytest.mark.django_db
def test_completing_a_test_call(world):
    device, _ = _installed(world)
    task = MaintenanceTask.objects.get(device=device, kind="test_call")
    MaintenanceTask.objects.filter(pk=task.pk).update(due_on=municipal_today() - timedelta(days=1))
    client = _it(world)
    overdue = client.get("/staff/it/vedligehold/", {"vis": "overdue"}).content.decode()
    assert "VIG-0001" in overdue and "Testopkald" in overdue
    response = client.post(f"/staff/it/vedligehold/{task.pk}/udfoer/", {"result": "passed", "notes": "Alt i orden"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.result == "passed" and task.completed_by == world.it_staff.user
    assert MaintenanceTask.objects.filter(device=device, kind="test_call", completed_at__isnull=True).exists()
    done = client.get("/staff/it/vedligehold/", {"vis": "done"}).content.decode()
    assert "Alt i orden" in done


@pytest.mark.django_db
def test_a_bad_maintenance_result_changes_nothing(world):
    device, _ = _installed(world)
    task = MaintenanceTask.objects.get(device=device, kind="test_call")
    response = _it(world).post(f"/staff/it/vedligehold/{task.pk}/udfoer/", {"result": "maybe"})
    assert response.status_code == 422 and "Opgaven blev ikke registreret" in response.content.decode()
    task.refresh_from_db()
    assert task.completed_at is None


@pytest.mark.django_db
def test_return_list_shows_what_the_pickup_needs_and_logs_it(world):
    _, assignment = _installed(world)
    ReturnTask.objects.create(assignment=assignment, reason=ReturnTask.Reason.EPISODE_ENDED)
    body = _it(world).get("/staff/it/returneringer/").content.decode()
    assert world.citizen.full_name in body and "Forløbet er afsluttet" in body and world.citizen.phone in body
    assert [(row.resource_type, row.purpose) for row in access_rows(world.citizen)] == [
        ("device_return", "device_installation")
    ]


# --- Import and export --------------------------------------------------------------------------

CSV_HEADER = "serial_number,manufacturer,model_number,imei\n"


@pytest.mark.django_db
def test_import_previews_row_errors_in_danish_and_writes_nothing(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    model = _gps_model()
    _register(world, model=model)
    rows = f"VIG-0001,{model.manufacturer},{model.model_number},\nX-1,Ukendt,Z9,\n"
    upload = SimpleUploadedFile("enheder.csv", (CSV_HEADER + rows).encode(), content_type="text/csv")
    response = _it(world).post("/staff/it/import/", {"file": upload, "action": "preview"})
    body = response.content.decode()
    assert response.status_code == 422
    assert "Der findes allerede en enhed af denne model med dette serienummer." in body
    assert "Fabrikant og modelnummer skal svare til en model i kataloget." in body
    assert Device.objects.filter(municipality=world.municipality).count() == 2


@pytest.mark.django_db
def test_import_refuses_a_serial_number_not_written_as_on_a_device_in_danish(world):
    model = _gps_model()
    text = f"serial_number,manufacturer,model_number\nVIG 0001!,{model.manufacturer},{model.model_number}\n"
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("enheder.csv", text.encode(), content_type="text/csv")
    response = _it(world).post("/staff/it/import/", {"file": upload, "action": "preview"})
    body = response.content.decode()
    assert response.status_code == 422
    assert "Skriv serienummeret som på enheden: bogstaver og tal" in body and "Intet er gemt." in body
    assert not Device.objects.filter(model=model).exists()


@pytest.mark.django_db
def test_import_after_a_clean_preview(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    model = _gps_model()
    text = CSV_HEADER + f"VIG-0300,{model.manufacturer},{model.model_number},\n"
    client = _it(world)
    preview = client.post(
        "/staff/it/import/", {"file": SimpleUploadedFile("a.csv", text.encode()), "action": "preview"}
    )
    assert preview.status_code == 200 and "Filen er i orden: 1 række kan importeres." in preview.content.decode()
    assert not Device.objects.filter(serial_number="VIG-0300").exists()
    done = client.post("/staff/it/import/", {"csv": text, "action": "import"})
    assert done.status_code == 201
    assert Device.objects.get(serial_number="VIG-0300").status == DeviceStatus.IN_STOCK


@pytest.mark.django_db
def test_export_takes_the_register_filters(world):
    _installed(world)
    _register(world, serial="BED-0001", model=DeviceModelFactory(category=category("bed_sensor")))
    response = _it(world).get("/staff/it/eksport/", {"category": "bed_sensor"})
    text = b"".join(response.streaming_content if response.streaming else [response.content]).decode()
    assert response["Content-Type"].startswith("text/csv")
    assert "BED-0001" in text and "VIG-0001" not in text


@pytest.mark.django_db
def test_it_through_the_identity_provider_lands_on_the_board(world, idps):  # noqa: F811
    from tests.backend.test_oidc_login import FakePerson, through_provider

    user = world.it_staff.user
    idps.staff.next_person = FakePerson(sub="entra-oid-it", preferred_username=user.username)
    browser = Client()
    login_page = browser.get("/staff/log-ind/").content.decode()
    assert 'href="/auth/staff/login?next=%2Fstaff%2Flog-ind%2F"' in login_page
    callback = browser.get(through_provider(browser.get("/auth/staff/login", {"next": "/staff/log-ind/"})))
    assert callback.status_code == 302 and callback["Location"] == "/staff/log-ind/"
    landing = browser.get("/staff/log-ind/")
    assert landing.status_code == 302 and landing["Location"] == "/staff/it/"


@pytest.mark.django_db
@pytest.mark.parametrize("page", PAGES)
def test_no_it_page_shows_health_data(world, page):
    """The citizen has a goal in her own words served by the device, a training plan with a pain alert and a
    fall alert for her care team: IT sees none of it on any page."""
    from tests.selvbetjening.factories import GoalFactory
    from tests.staffweb.helpers import plan_with_pain_alert

    world._device, assignment = _installed(world)
    plan = plan_with_pain_alert(world)
    goal = GoalFactory(episode=plan.episode, description="Jeg vil danse til min datters bryllup")
    Assignment.objects.filter(pk=assignment.pk).update(episode_id=plan.episode_id, goal_id=goal.pk)
    health = AlertFactory(device=world._device, kind="fall", audience=AlertAudience.CARE, citizen=world.citizen)
    path, params = PAGES[page]
    response = _it(world).get(path.format(**params(world)))
    assert response.status_code == 200
    body = response.content.decode()
    for health_data in (goal.description, goal.gas_0, goal.gas_plus_1, "Styrke og balance", str(health.pk)):
        assert health_data not in body, (page, health_data)
