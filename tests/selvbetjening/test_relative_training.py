"""A relative with the logging grant reads the citizen's training of a day, to log a session from."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

import tests.matrix  # noqa: F401  (the matrix imports the rows modules first: no circular import)
from backend.models import AccessLogEntry
from selvbetjening.models import NetworkGrant
from tests.selvbetjening.matrix_rows import episode
from tests.selvbetjening.training_factories import make_plan, slot_at

pytestmark = pytest.mark.django_db


def _slot_today(world):  # type: ignore[no-untyped-def]
    plan = make_plan(episode=episode(world), title="Styrke og balance")
    now = timezone.now().astimezone(ZoneInfo(plan.current_version.time_zone)).replace(tzinfo=None)
    return slot_at(plan, max(now - timedelta(minutes=5), now.replace(hour=0, minute=0, second=0, microsecond=0)))


def test_the_relative_gets_the_citizens_day_and_the_read_is_logged_as_the_relatives(world):
    slot = _slot_today(world)
    response = world.client("relative_with_consent").get(f"/api/v1/relative/citizens/{world.citizen.pk}/today")
    assert response.status_code == 200
    body = response.json()
    assert [item["id"] for item in body["slots"]] == [str(slot.pk)]
    assert len(body["slots"][0]["exercises"]) == 2
    entry = AccessLogEntry.objects.get(citizen=world.citizen)
    assert (entry.actor_role, entry.resource_type, entry.purpose) == ("relative", "training", "relative_support")


@pytest.mark.parametrize("scopes", [{"can_log_sessions": False}, {"revoked_at": timezone.now()}])
def test_without_the_logging_grant_in_force_it_is_404_and_nothing_is_logged(world, scopes):
    _slot_today(world)
    NetworkGrant.objects.filter(relative=world.relative_with_consent).update(**scopes)
    response = world.client("relative_with_consent").get(f"/api/v1/relative/citizens/{world.citizen.pk}/today")
    assert response.status_code == 404
    assert not AccessLogEntry.objects.filter(citizen=world.citizen).exists()


def test_another_citizen_is_404_even_with_a_grant_from_the_first(world):
    response = world.client("relative_with_consent").get(f"/api/v1/relative/citizens/{world.other_citizen.pk}/today")
    assert response.status_code == 404
