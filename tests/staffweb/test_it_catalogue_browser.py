"""IT's catalogue and the CSV import of models and assignments in a real browser (Debian's Chromium through
Playwright), axe-core on every page and every refusal: add a model after a refused try, change its battery
thresholds after a refused try, import models and assignments after fixing what the dry run found, and a file
over the limit refused before it is sent."""

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from backend.timeutil import municipal_today
from tests.staffweb.test_browser import assert_accessible, pytestmark  # noqa: F401
from tests.staffweb.test_browser import browser_page as browser_page  # the fixtures
from tests.staffweb.test_browser import live_asgi_server as live_asgi_server
from tests.staffweb.test_it_browser import _enter, _it_user, _log_in, _press_link, _upload
from tests.velfaerdsteknologi.conftest import cpr_of
from tests.velfaerdsteknologi.factories import category
from velfaerdsteknologi.models import AlertRule, Assignment, DeviceModel, DeviceStatus
from velfaerdsteknologi.services.alerts import device_model_create
from velfaerdsteknologi.services.devices import device_register


def _screenshot(page: Any, name: str) -> None:
    """For the README, when ``SCREENSHOTS_DIR`` names a folder."""
    folder = os.environ.get("SCREENSHOTS_DIR")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_it_adds_a_model_and_changes_its_thresholds_in_the_catalogue(world, live_asgi_server, browser_page):
    live_server, page = live_asgi_server, browser_page
    category("door_sensor")
    _log_in(page, live_server, _it_user(world))
    _press_link(page, "Katalog")
    assert "Ja – overvågende" in page.locator("#categories-heading ~ .table--responsive-scroll table").inner_text()
    assert_accessible(page)

    _press_link(page, "Tilføj model")
    assert_accessible(page)
    page.focus("#id_manufacturer")
    page.keyboard.type("Doro")
    page.keyboard.press("Tab")
    page.keyboard.type("Secure 580")
    page.keyboard.press("Tab")
    page.keyboard.type("Mobil tryghedsalarm")
    page.select_option("#id_category", "fall_detector")
    for kind in ("heartbeat", "battery", "fall", "location"):
        page.check(f"input[name=telemetry_kinds][value={kind}]")
    page.fill("#id_heartbeat_interval_seconds", "5")  # too often
    page.check("#id_is_battery_powered")
    page.get_by_role("button", name="Tilføj modellen").focus()
    _enter(page)
    assert "Skal være mindst 10." in page.locator("#id_heartbeat_interval_seconds-error").inner_text()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert_accessible(page)
    assert not DeviceModel.objects.filter(manufacturer="Doro").exists()
    page.fill("#id_heartbeat_interval_seconds", "600")
    page.get_by_role("button", name="Tilføj modellen").focus()
    _enter(page)
    model = DeviceModel.objects.get(manufacturer="Doro", model_number="Secure 580")
    page.wait_for_url(f"{live_server.url}/staff/it/katalog/{model.pk}/")
    assert "Ja – sender position" in page.locator("dl").inner_text()
    assert_accessible(page)

    page.fill("#id_rule-battery-alert_low", "30")
    page.fill("#id_rule-battery-warning_low", "25")
    page.get_by_role("button", name="Gem reglen for batteri").focus()
    _enter(page)
    assert "Tærsklerne skal stige" in page.locator("#rule-battery ~ .alert").first.inner_text()
    assert_accessible(page)
    assert AlertRule.objects.get(device_model=model, kind="battery").alert_low == 10.0
    page.fill("#id_rule-battery-alert_low", "15")
    page.fill("#id_rule-battery-warning_low", "25,5")
    page.get_by_role("button", name="Gem reglen for batteri").focus()
    _enter(page)
    assert "alarm ≤ 15 %, advarsel ≤ 25,5 %" in page.locator("#rule-battery").locator("..").inner_text()
    assert AlertRule.objects.get(device_model=model, kind="battery").warning_low == 25.5
    _press_link(page, "Katalog")
    assert (
        "Batteri: alarm ≤ 15 %, advarsel ≤ 25,5 % → IT"
        in page.locator("#models-heading ~ .table--responsive-scroll table").inner_text()
    )
    _screenshot(page, "it-catalogue")


@pytest.mark.django_db(transaction=True)
def test_it_imports_models_and_assignments_after_fixing_the_dry_runs_errors(
    world, live_asgi_server, browser_page, tmp_path: Path
):
    live_server, page = live_asgi_server, browser_page
    gps = device_model_create(
        manufacturer="Tunstall",
        model_number="Vi+ GPS",
        category=category("fall_detector"),
        telemetry_kinds=["heartbeat", "battery", "fall", "location"],
        heartbeat_interval_seconds=300,
        is_battery_powered=True,
    )
    device_register(municipality=world.municipality, device_model=gps, serial_number="VIG-1000", by=None)
    _log_in(page, live_server, _it_user(world))
    _press_link(page, "Import og eksport")
    _press_link(page, "Modeller")
    assert_accessible(page)
    header = "manufacturer,model_number,category,telemetry_kinds,is_battery_powered\n"
    _upload(page, header + "Doro,D1,toaster,battery,ja\n")
    assert "Kategorien findes ikke." in page.locator("#import-errors").inner_text()
    assert_accessible(page)
    _upload(page, header + "Doro,D1,fall_detector,heartbeat;battery,ja\n")
    page.get_by_role("button", name="Importér modeller").focus()
    _enter(page)
    assert "1 model er tilføjet kataloget" in page.get_by_role("status").first.inner_text()
    assert DeviceModel.objects.filter(manufacturer="Doro", model_number="D1").exists()

    _press_link(page, "Tildelinger")
    assert_accessible(page)
    # A file over the limit is refused in the browser, before it is sent.
    huge = tmp_path / "tildelinger.csv"
    huge.write_bytes(b"x" * (50 * 1024 * 1024))
    page.set_input_files("#id_file", str(huge))
    page.get_by_role("button", name="Tjek filen").focus()
    page.keyboard.press("Enter")
    assert "Filen er for stor" in page.locator("[data-size-error]").inner_text()
    assert_accessible(page)
    cpr = cpr_of(world.citizen)
    header = "serial_number,manufacturer,model_number,cpr,consent_basis,consent_review_on\n"
    _upload(page, header + f"VIG-1000,Tunstall,Vi+ GPS,{cpr},,\n")
    assert "En overvågende enhed kræver samtykke" in page.locator("#import-errors").inner_text()
    _screenshot(page, "it-import")
    assert cpr not in page.locator("#import-errors").inner_text()
    assert_accessible(page)
    review_on = municipal_today() + timedelta(days=180)
    _upload(page, header + f"VIG-1000,Tunstall,Vi+ GPS,{cpr},consent,{review_on}\n")
    page.get_by_role("button", name="Importér tildelinger").focus()
    _enter(page)
    assert "1 enhed er reserveret til borgeren" in page.get_by_role("status").first.inner_text()
    assignment = Assignment.objects.get(device__serial_number="VIG-1000")
    assert assignment.citizen_id == world.citizen.pk and assignment.device.status == DeviceStatus.RESERVED
    assert_accessible(page)


@pytest.mark.django_db(transaction=True)
def test_it_changes_a_models_intervals_after_a_refusal_by_keyboard(world, live_asgi_server, browser_page):
    live_server, page = live_asgi_server, browser_page
    model = device_model_create(
        manufacturer="Doro",
        model_number="Dørsensor 1",
        category=category("door_sensor"),
        telemetry_kinds=["door_open"],
        service_interval_days=365,
    )
    _log_in(page, live_server, _it_user(world))
    page.goto(f"{live_server.url}/staff/it/katalog/{model.pk}/")
    assert_accessible(page)
    page.focus("#id_model-service_interval_days")
    page.keyboard.press("Control+A")
    page.keyboard.type("180")
    page.fill("#id_model-battery_check_interval_days", "30")  # the model has no battery
    page.get_by_role("button", name="Gem ændringerne").focus()
    _enter(page)
    assert "batteridrevet" in page.locator("#id_model-battery_check_interval_days-error").inner_text()
    assert_accessible(page)
    model.refresh_from_db()
    assert model.service_interval_days == 365
    page.fill("#id_model-battery_check_interval_days", "")
    page.get_by_role("button", name="Gem ændringerne").focus()
    _enter(page)
    page.wait_for_url(f"{live_server.url}/staff/it/katalog/{model.pk}/")
    assert "Modellen er ændret." in page.locator("main").inner_text()
    assert_accessible(page)
    model.refresh_from_db()
    assert model.service_interval_days == 180 and model.battery_check_interval_days is None
