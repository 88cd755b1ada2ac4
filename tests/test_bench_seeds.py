"""The devices the telemetry, growth and mixed benchmarks seed, installed by one function
(``bench.velfaerdsteknologi.seed.install_devices``)."""

import pytest

from bench.velfaerdsteknologi.seed import install_devices
from tests import factories
from tests.conftest import ApiClient
from velfaerdsteknologi.models import Assignment, Device, DeviceStatus

pytestmark = pytest.mark.django_db


def test_each_citizen_gets_a_device_in_use_and_the_first_ones_a_token_that_sends_readings():
    municipality = factories.MunicipalityFactory()
    citizens = factories.CitizenFactory.create_batch(3, municipality=municipality)

    devices = install_devices(
        municipality, citizens, serial_prefix="TEST", heartbeat_interval_seconds=300, installed_days_ago=2,
        with_tokens=2,
    )  # fmt: skip

    assert len(devices) == 2
    assert sorted(Device.objects.values_list("serial_number", flat=True)) == [
        "TEST-000000",
        "TEST-000001",
        "TEST-000002",
    ]
    assert set(Device.objects.values_list("status", flat=True)) == {DeviceStatus.IN_USE}
    assert sorted(Assignment.objects.filter(returned_at=None).values_list("citizen_id", flat=True)) == sorted(
        citizen.pk for citizen in citizens
    )
    response = ApiClient(devices[0]["token"]).post(
        "/api/v1/telemetry",
        {"readings": [{"sequence": 1, "kind": "heartbeat", "measured_at": "2026-01-01T10:00:00+00:00"}]},
    )
    assert response.status_code == 200, response.content
