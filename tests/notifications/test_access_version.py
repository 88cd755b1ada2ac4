"""The access version: raised by the database in the changing transaction whenever access can end, and what
the websocket hub does with it (a socket's last check holds while the version stands still)."""

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.utils import timezone

from backend.models import AppSession, Membership, Staff, StaffRole, Token, User
from backend.timeutil import municipal_today
from notifications import consumers, stream_checks, stream_hub
from tests import factories
from tests.notifications.test_replay import connect, notify_team

pytestmark = pytest.mark.django_db(transaction=True)

ACCESS_TABLES = ["backend_token", "backend_appsession", "backend_user", "backend_staff", "backend_membership"]


def version() -> int:
    return stream_checks.access_version()


def raises_version(change: Any) -> bool:
    before = version()
    change()
    return version() > before


# --- The database raises it ------------------------------------------------------------------------


def test_every_table_access_depends_on_has_its_trigger():
    """A later migration that rebuilds one of these tables (SQLite does for many changes) must put it back."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT event_object_table FROM information_schema.triggers WHERE trigger_name LIKE %s",
                           ["%_access_changed"])  # fmt: skip
        else:
            cursor.execute("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
                           ["%_access_changed_%"])  # fmt: skip
        tables = {row[0] for row in cursor.fetchall()}
    assert tables == set(ACCESS_TABLES)


def test_changes_that_can_end_access_raise_the_version(world):
    session = AppSession.objects.filter(user=world.staff_in_team.user).first()
    assert session is not None
    membership = Membership.objects.get(staff=world.staff_in_team, team=world.team)
    assert raises_version(lambda: AppSession.objects.filter(pk=session.pk).update(revoked_at=timezone.now()))
    assert raises_version(lambda: Token.objects.filter(session=session).delete())
    assert raises_version(lambda: User.objects.filter(pk=world.citizen.user.pk).update(is_active=False))
    assert raises_version(lambda: Membership.objects.filter(pk=membership.pk).update(role=StaffRole.ANALYST))
    assert raises_version(lambda: Membership.objects.filter(pk=membership.pk).delete())
    assert raises_version(
        lambda: Membership.objects.create(staff=world.staff_in_team, team=world.other_team, role=StaffRole.THERAPIST)
    )
    other_user = factories.UserFactory()
    assert raises_version(lambda: Staff.objects.filter(pk=world.staff_in_team.pk).update(user=other_user))


def test_use_of_a_login_does_not_raise_the_version(world):
    session = AppSession.objects.filter(user=world.citizen.user).first()
    assert session is not None
    refresh = Token.objects.filter(session=session).first()
    assert refresh is not None
    assert not raises_version(lambda: AppSession.objects.filter(pk=session.pk).update(last_used_at=timezone.now()))
    assert not raises_version(lambda: Token.objects.filter(pk=refresh.pk).update(used_at=timezone.now()))
    assert not raises_version(lambda: User.objects.filter(pk=world.citizen.user.pk).update(last_login=timezone.now()))


# --- The hub keeps a socket's check while it stands still ------------------------------------------


@pytest.fixture
def counted_checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many sockets each full access check of the hub covered."""
    sizes: list[int] = []
    original = stream_hub.check_access

    async def counting(requests: dict[str, set[str]]) -> dict[str, stream_checks.Access]:
        sizes.append(len(requests))
        return await original(requests)

    monkeypatch.setattr(stream_hub, "check_access", counting)
    return sizes


async def subscribed(world: Any) -> Any:
    stream = await connect(world.tokens["staff_in_team"], f"team_id={world.team.pk}")
    assert (await stream.receive_json_from())["type"] == "subscribed"
    return stream


async def test_an_unchanged_login_is_checked_once_and_not_again_for_every_event(channel_layer, world, counted_checks):
    stream = await subscribed(world)
    for session_log_id in range(3):
        await notify_team(world.team, session_log_id=session_log_id)
        assert (await stream.receive_json_from())["type"] == "team_event"
    assert counted_checks == [1]
    await stream.disconnect()


async def test_any_change_in_between_makes_the_next_event_check_again(channel_layer, world, counted_checks):
    stream = await subscribed(world)
    await notify_team(world.team)
    assert (await stream.receive_json_from())["type"] == "team_event"
    # Someone else's login ends: this socket's access is the same, but it is checked again.
    await database_sync_to_async(AppSession.objects.filter(user=world.citizen.user).update)(revoked_at=timezone.now())
    await notify_team(world.team, session_log_id=2)
    assert (await stream.receive_json_from())["type"] == "team_event"
    assert counted_checks == [1, 1]
    await stream.disconnect()


async def test_a_membership_that_ends_at_midnight_ends_the_subscription_with_the_day(
    channel_layer, world, counted_checks, monkeypatch
):
    today = municipal_today()
    await database_sync_to_async(Membership.objects.filter(staff=world.staff_in_team, team=world.team).update)(
        valid_to=today
    )
    stream = await subscribed(world)
    await notify_team(world.team)
    assert (await stream.receive_json_from())["type"] == "team_event"

    # Midnight passes: nothing is written, but the membership is over.
    tomorrow = today + timedelta(days=1)
    monkeypatch.setattr(stream_hub, "municipal_today", lambda: tomorrow)
    monkeypatch.setattr(stream_checks, "municipal_today", lambda: tomorrow)
    await notify_team(world.team, session_log_id=2)
    assert await stream.receive_json_from() == {
        "type": "unsubscribed",
        "team_id": str(world.team.pk),
        "reason": "membership_ended",
    }
    assert counted_checks == [1, 1]
    await stream.disconnect()


async def test_a_socket_is_checked_again_after_the_recheck_interval(channel_layer, world, counted_checks, monkeypatch):
    stream = await subscribed(world)
    await notify_team(world.team)
    assert (await stream.receive_json_from())["type"] == "team_event"
    monkeypatch.setattr(stream_hub, "RECHECK_SECONDS", 0.0)
    await notify_team(world.team, session_log_id=2)
    assert (await stream.receive_json_from())["type"] == "team_event"
    assert counted_checks == [1, 1]
    await stream.disconnect()


async def test_a_login_that_runs_out_after_its_last_check_gets_no_more_events(channel_layer, world, counted_checks):
    # The session ends by itself in a moment (the token would last longer): no write marks the end.
    ends = timezone.now() + timedelta(seconds=1.5)
    await database_sync_to_async(AppSession.objects.filter(user=world.staff_in_team.user).update)(expires_at=ends)
    stream = await subscribed(world)
    await notify_team(world.team)
    assert (await stream.receive_json_from())["type"] == "team_event"
    await asyncio.sleep(max(0.0, (ends - timezone.now()).total_seconds()) + 0.2)
    await notify_team(world.team, session_log_id=2)
    assert await stream.receive_output() == {"type": "websocket.close", "code": consumers.CLOSE_UNAUTHENTICATED}
    assert counted_checks == [1, 1]
