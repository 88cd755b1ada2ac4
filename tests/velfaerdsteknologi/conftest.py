from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend import cpr
from tests.conftest import ApiClient
from tests.velfaerdsteknologi.factories import DeviceModelFactory, category
from velfaerdsteknologi.services.alerts import device_model_create


@pytest.fixture
def it_client(world) -> ApiClient:
    return world.client("it")


@pytest.fixture
def fall_detector_model(db):
    """A GPS-equipped fall detector: surveillance-type because it reports where the citizen is."""
    return device_model_create(
        manufacturer="Tunstall",
        model_number="Vi+ GPS",
        name="Faldalarm med GPS",
        category=category("fall_detector"),
        telemetry_kinds=["heartbeat", "battery", "fall", "location"],
        heartbeat_interval_seconds=300,
        is_battery_powered=True,
        service_interval_days=365,
        test_call_interval_days=30,
        battery_check_interval_days=90,
    )


@pytest.fixture
def plain_model(db):
    return DeviceModelFactory(category=category("robotic_vacuum"), telemetry_kinds=[], heartbeat_interval_seconds=None)


def cpr_of(citizen) -> str:
    return cpr.decrypt(citizen.cpr_ciphertext).digits


def count_queries(call) -> tuple[int, Any]:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as captured:
        response = call()
    return len(captured), response
