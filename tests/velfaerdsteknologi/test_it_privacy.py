"""IT sees of a citizen only name, address and phone: walk every operation IT may call and look at what it gets."""

import json

import pytest
from django.core.management import call_command

from tests.matrix import ROWS
from tests.velfaerdsteknologi.matrix_rows import ROWS as APP_ROWS
from velfaerdsteknologi.models import Alert, Assignment

HEALTH_KEYS = {
    "goals",
    "goal",
    "ratings",
    "session_logs",
    "logs",
    "readings",
    "numeric_value",
    "cpr",
    "language",
    "time_zone",
    "deceased_on",
    "care_relations",
    "citizen_name",
}
CITIZEN_CONTACT = {"id", "given_name", "family_name", "address_line", "postcode", "city", "phone"}
IT_ROWS = [row for row in APP_ROWS if row.expect["it"] < 300]


def keys(value) -> set[str]:  # type: ignore[no-untyped-def]
    if isinstance(value, dict):
        found = set(value)
        for name, inner in value.items():
            found |= keys(inner)
            if name == "citizen" and isinstance(inner, dict):
                assert set(inner) == CITIZEN_CONTACT
        return found
    if isinstance(value, list):
        return set().union(*(keys(item) for item in value)) if value else set()
    return set()


@pytest.mark.django_db
@pytest.mark.parametrize("row", IT_ROWS, ids=lambda row: f"{row.method} {row.path}")
def test_it_operations_reveal_no_health_data(row, world):
    from tests.velfaerdsteknologi.factories import AlertFactory

    AlertFactory(device=world.device, citizen=world.citizen, value=4242.4242, kind="custom")
    path = row.path.format(**row.path_params(world))
    client = world.client("it")
    method = getattr(client, row.method.lower())
    response = (
        method(path, row.query(world))
        if row.method in {"GET", "DELETE"}
        else method(path, row.body(world) if row.body else {})
    )
    assert response.status_code == row.expect["it"]
    if response["Content-Type"].startswith("application/json"):
        body = response.json()
        assert not keys(body) & HEALTH_KEYS, row.path
        assert "4242.4242" not in json.dumps(body)


def test_every_it_operation_is_walked():
    assert {row.key for row in IT_ROWS} <= {row.key for row in ROWS}
    assert len(IT_ROWS) >= 25


@pytest.mark.django_db
def test_demo_seed_is_idempotent_and_installs_a_fall_detector_with_consent():
    call_command("seed_demo")
    call_command("seed_velfaerdsteknologi_demo")
    call_command("seed_velfaerdsteknologi_demo")
    assignment = Assignment.objects.get(returned_at__isnull=True, citizen__user__username="borger1")
    assert assignment.device.model.category_id == "fall_detector" and assignment.consent_basis == "consent"
    assert assignment.device.status == "in_use" and assignment.consent_review_on is not None
    reserved = Assignment.objects.get(citizen__user__username="borger2")
    assert reserved.device.status == "reserved" and reserved.installed_at is None
    # The effect demo adds returned assignments of its own history; the welfare-technology demo made two.
    demo = Assignment.objects.filter(citizen__user__username__in=["borger1", "borger2", "borger3"])
    assert demo.count() == 2 and not Alert.objects.exists()
