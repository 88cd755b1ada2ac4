"""IT's pages in a real browser (Debian's Chromium through Playwright), axe-core on every one: register a device,
import twenty more by CSV after fixing what the dry run found, assign one with consent, install it, issue its
key, and see its low battery on the open health board, with the keyboard."""

from datetime import timedelta
from typing import Any

import pyotp
import pytest
import requests
from django.utils import timezone

from backend.timeutil import municipal_today
from tests.staffweb.test_browser import PASSWORD, assert_accessible, pytestmark  # noqa: F401
from tests.staffweb.test_browser import browser_page as browser_page  # the fixtures
from tests.staffweb.test_browser import live_asgi_server as live_asgi_server
from tests.velfaerdsteknologi.conftest import cpr_of
from tests.velfaerdsteknologi.factories import AlertFactory, category
from velfaerdsteknologi.models import AlertAudience, Assignment, Device, DeviceStatus
from velfaerdsteknologi.services.alerts import alert_rules_default, device_model_create


def _it_user(world: Any) -> Any:
    user = world.it_staff.user
    user.set_password(PASSWORD)
    user.totp_secret = pyotp.random_base32()
    user.save()
    return user


def _log_in(page: Any, live_server: Any, user: Any) -> None:
    page.goto(live_server.url + "/staff/it/")
    page.focus("#id_username")
    page.keyboard.type(user.username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    page.keyboard.type(pyotp.TOTP(user.totp_secret).now())
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/staff/it/")


def _enter(page: Any) -> None:
    """Press Enter where the focus is, and wait for the page it leads to."""
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _upload(page: Any, text: str) -> None:
    """Choose a CSV file with the keyboard's file dialog replaced, and press "Tjek filen"."""
    page.set_input_files("#id_file", files=[{"name": "enheder.csv", "mimeType": "text/csv", "buffer": text.encode()}])
    page.get_by_role("button", name="Tjek filen").focus()
    _enter(page)


def _press_link(page: Any, name: str) -> None:
    """Follow a link as a keyboard user: focus it, press Enter."""
    page.get_by_role("link", name=name, exact=True).first.focus()
    _enter(page)


def _gps_fall_detector() -> Any:
    """A GPS fall detector in the catalogue, with its default alert rules."""
    model = device_model_create(
        manufacturer="Tunstall",
        model_number="Vi+ GPS",
        name="Faldalarm med GPS",
        category=category("fall_detector"),
        telemetry_kinds=["heartbeat", "battery", "fall", "location"],
        heartbeat_interval_seconds=300,
        is_battery_powered=True,
        test_call_interval_days=30,
    )
    alert_rules_default(device_model=model)
    return model


@pytest.mark.django_db(transaction=True)
def test_it_registers_assigns_installs_and_sees_the_device_on_the_board(world, live_asgi_server, browser_page):
    live_server = live_asgi_server
    page = browser_page
    model = _gps_fall_detector()
    _log_in(page, live_server, _it_user(world))
    assert_accessible(page)  # the health board

    _press_link(page, "Enheder")
    assert_accessible(page)
    _press_link(page, "Registrér ny enhed")
    assert_accessible(page)
    page.focus("#id_model_id")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # past the world's own device's model, which sorts first
    assert page.input_value("#id_model_id") == str(model.pk)
    page.keyboard.press("Tab")
    page.keyboard.type("VIG-0900")
    page.keyboard.press("Tab")
    page.keyboard.type("123")  # not an IMEI
    _enter(page)
    assert "Skriv IMEI-nummeret som 15 cifre." in page.locator("#id_imei-error").inner_text()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert_accessible(page)  # the form with its errors
    page.focus("#id_imei")
    page.keyboard.press("Control+A")
    page.keyboard.press("Backspace")
    _enter(page)
    device = Device.objects.get(serial_number="VIG-0900")
    page.wait_for_url(f"{live_server.url}/staff/it/enheder/{device.pk}/")
    assert_accessible(page)  # the device's page
    _press_link(page, "Ret oplysninger om VIG-0900")
    assert_accessible(page)
    _press_link(page, "VIG-0900")  # the breadcrumb back

    # Twenty more by CSV: the dry run shows what is wrong (a duplicate serial, an unknown model, a formula),
    # nothing is stored; the corrected file passes the dry run and is imported, all twenty at once.
    _press_link(page, "Import og eksport")
    assert_accessible(page)
    rows = [f"VIG-{n:04d},Tunstall,Vi+ GPS,Depot Nord" for n in range(901, 921)]
    wrong = [
        "VIG-0900,Tunstall,Vi+ GPS,Depot Nord",
        "VIG-0902,Tunstall,Vi GPS,Depot Nord",
        "VIG-0903,Tunstall,Vi+ GPS,=1+1",
    ]
    _upload(page, "serial_number,manufacturer,model_number,location\n" + "\n".join(wrong + rows[3:]) + "\n")
    errors = page.locator("#import-errors").inner_text()
    assert "Filen har 3 fejl. Intet er gemt." in page.get_by_role("alert").first.inner_text()
    assert "Der findes allerede en enhed af denne model med dette serienummer." in errors
    assert "Fabrikant og modelnummer skal svare til en model i kataloget." in errors
    assert "ville blive kørt som en formel" in errors
    assert_accessible(page)
    assert Device.objects.filter(serial_number__startswith="VIG-09").count() == 1
    _upload(page, "serial_number,manufacturer,model_number,location\n" + "\n".join(rows) + "\n")
    assert "Filen er i orden: 20 rækker kan importeres." in page.get_by_role("status").first.inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="Importér enheder").focus()
    _enter(page)
    assert "20 enheder er importeret og står på lager." in page.get_by_role("status").first.inner_text()
    assert Device.objects.filter(serial_number__startswith="VIG-09", status=DeviceStatus.IN_STOCK).count() == 21
    page.goto(f"{live_server.url}/staff/it/enheder/{device.pk}/")

    _press_link(page, "Tildel til en borger")
    assert_accessible(page)
    page.focus("#id_cpr")
    page.keyboard.type(cpr_of(world.citizen))
    _enter(page)  # finds the citizen: who it is, before anything is assigned
    assert world.citizen.full_name in page.get_by_role("status").first.inner_text()
    assert_accessible(page)
    page.focus("#id_consent_basis")
    page.keyboard.press("ArrowDown")  # Samtykke
    page.keyboard.press("Tab")
    page.keyboard.type("Samtykke journalført")
    page.fill("#id_consent_review_on", str(municipal_today() + timedelta(days=180)))
    page.get_by_role("button", name="Tildel enheden").focus()
    _enter(page)
    page.wait_for_url(f"{live_server.url}/staff/it/enheder/{device.pk}/#assignments-heading")
    assert world.citizen.full_name in page.locator("#assignments-heading ~ article").first.inner_text()

    page.get_by_role("button", name="Registrér installation").focus()
    _enter(page)
    assert "installeret" in page.locator("#assignments-heading ~ article").first.inner_text()
    assert Assignment.objects.get(device=device).installed_at is not None
    page.get_by_role("button", name="Udsted nøgle").focus()
    _enter(page)
    token = page.locator("#credential-token").inner_text()
    assert token.startswith("mdt_")
    assert page.get_by_role("button", name="Kopiér nøglen").is_visible()
    assert_accessible(page)

    for name in ("Vedligehold", "Returneringer", "Import og eksport"):
        _press_link(page, name)
        assert_accessible(page)

    _press_link(page, "Driftsoverblik")
    assert "VIG-0900" not in page.locator("section:has(#battery-heading)").inner_text()
    page.wait_for_selector("html[data-live=on]")
    # The installed device reports its battery at 5 % with the key it was given; the board, open on IT's
    # screen, shows it within 2 s without a reload (the alert's notification on IT's own stream).
    reading: dict[str, Any] = {"sequence": 1, "kind": "battery", "value": 5, "measured_at": timezone.now().isoformat()}
    posted = requests.post(
        f"{live_server.url}/api/v1/telemetry",
        json={"readings": [reading]},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert posted.status_code == 200, posted.text
    page.locator("section:has(#battery-heading)").get_by_role("link", name="VIG-0900").wait_for(timeout=15_000)
    assert "VIG-0900" in page.locator("section:has(#alerts-heading)").inner_text()
    assert_accessible(page)
    assert Device.objects.get(pk=device.pk).status == DeviceStatus.IN_USE


# A tablet, a 1280×800 window at 200 % zoom (640×400 CSS pixels), and a phone.
NARROW = ({"width": 768, "height": 1024}, {"width": 640, "height": 400}, {"width": 390, "height": 844})


@pytest.mark.django_db(transaction=True)
def test_it_pages_with_tables_fit_a_tablet_a_200_percent_zoom_and_a_phone(world, live_asgi_server, browser_page):
    """A wide table scrolls in its own region (reachable by keyboard), and nothing in it, not even a button's
    visually hidden text, widens the page: the register, a device's page with an open alert, the catalogue."""
    live_server = live_asgi_server
    page = browser_page
    model = _gps_fall_detector()
    device = Device.objects.create(
        municipality=world.municipality,
        model=model,
        serial_number="VIG-0700",
        location="Hjælpemiddeldepotet, Vestergade 12, 5000 Odense C",
        status=DeviceStatus.IN_STOCK,
        status_changed_at=timezone.now(),
        battery_level=55,
        last_seen_at=timezone.now(),
    )
    rule = model.alert_rules.get(kind="heartbeat")
    AlertFactory(device=device, kind="heartbeat", rule=rule, audience=AlertAudience.IT, citizen=None)
    _log_in(page, live_server, _it_user(world))
    for viewport in NARROW:
        page.set_viewport_size(viewport)
        for path in ("/staff/it/enheder/", f"/staff/it/enheder/{device.pk}/", "/staff/it/katalog/"):
            page.goto(live_server.url + path)
            wider = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert wider <= 0, (viewport, path, wider)
            regions = page.locator("main .table--responsive-scroll[tabindex='0'][role=region]")
            assert regions.count() == page.locator("main table").count() > 0, (viewport, path)
            assert_accessible(page)


@pytest.mark.django_db(transaction=True)
def test_enter_in_the_cpr_field_finds_the_citizen_and_enter_elsewhere_assigns(world, live_asgi_server, browser_page):
    """Enter in the CPR field finds the citizen (nothing is assigned); the page comes back at the citizen found
    (read out as a status), and the next Tab goes on to the installation's fields, not to the top of the page.
    Enter in one of those fields assigns the device to the citizen shown."""
    live_server = live_asgi_server
    page = browser_page
    model = device_model_create(
        manufacturer="Tunstall", model_number="Vi+", name="Faldalarm", category=category("fall_detector")
    )
    device = Device.objects.create(
        municipality=world.municipality,
        model=model,
        serial_number="VIG-0800",
        status=DeviceStatus.IN_STOCK,
        status_changed_at=timezone.now(),
    )
    _log_in(page, live_server, _it_user(world))
    page.goto(f"{live_server.url}/staff/it/enheder/{device.pk}/tildel/")
    page.focus("#id_cpr")
    page.keyboard.type(cpr_of(world.other_citizen))
    _enter(page)
    assert world.other_citizen.full_name in page.locator("#citizen-found").inner_text()
    # Another number, Enter in the CPR field again: that citizen is found, still nothing is assigned.
    page.focus("#id_cpr")
    page.keyboard.press("Control+A")
    page.keyboard.type(cpr_of(world.citizen))
    _enter(page)
    assert page.evaluate("document.activeElement.id") == "citizen-found"
    assert world.citizen.full_name in page.locator("#citizen-found").inner_text()
    assert not Assignment.objects.exists()
    assert_accessible(page)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_installation_address"
    page.keyboard.type("Vestergade 12, 1. th., 5000 Odense C")
    _enter(page)
    page.wait_for_url(f"{live_server.url}/staff/it/enheder/{device.pk}/#assignments-heading")
    assignment = Assignment.objects.get(device=device)
    assert assignment.citizen_id == world.citizen.pk
    assert assignment.installation_address == "Vestergade 12, 1. th., 5000 Odense C"
