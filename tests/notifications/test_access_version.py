"""The access version: raised by the database in the changing transaction whenever access can end, and what
the websocket hub does with it (a socket's last check holds while the version stands still)."""

import asyncio
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.db.models import F
from django.utils import timezone

from backend.access import triggers
from backend.access.declaration import declared
from backend.models import AppSession, Membership, Staff, StaffRole, Token, User
from backend.services.identity import ClientInfo, session_start
from backend.timeutil import municipal_today
from notifications import consumers, stream_checks, stream_hub
from tests import factories
from tests.notifications.conftest import login
from tests.notifications.test_replay import connect, notify_team

pytestmark = pytest.mark.django_db(transaction=True)

WATCHED = {watched.table: watched for watched in triggers.watched_tables()}
ALIASES = {"t": "backend_token", "s": "backend_appsession", "u": "backend_user", "st": "backend_staff",
           "m": "backend_membership"}  # fmt: skip
USE_ONLY = {("backend_appsession", "last_used_at")}  # read to mark a session used, not to decide access


def version() -> int:
    return stream_checks.access_version()


def raises_version(change: Callable[[], Any]) -> bool:
    before = version()
    change()
    return version() != before


# --- The database raises it ------------------------------------------------------------------------


def test_every_column_the_check_reads_raises_the_version_when_it_changes():
    """A condition or join added to the hub's statement without its trigger column would let a held check
    outlive a change."""
    read: set[tuple[str, str]] = set()
    for team_count in (0, 1):
        statement = stream_checks._statement(declared(), 1, team_count)
        for alias, column in re.findall(r'\b(st|t|s|u|m)\."?(\w+)"?', statement):
            read.add((ALIASES[alias], column))
    watched = {(table, column) for table, entry in WATCHED.items() for column in entry.columns}
    assert read - watched - USE_ONLY - {(table, "id") for table in WATCHED} == set()


def test_every_table_access_depends_on_has_its_triggers():
    """A later migration that rebuilds one of these tables (SQLite does for many changes) must not lose them:
    ``migrate`` puts them back at its end."""
    found = {(table, name.rsplit("_", 1)[1]) for name, (table, _) in triggers.installed(connection).items()}
    events = ["update", "delete"] + (["truncate"] if connection.vendor == "postgresql" else [])
    expected = {(table, event) for table in WATCHED for event in events}
    expected |= {(table, "insert") for table, entry in WATCHED.items() if entry.insert_raises}
    assert found == expected


def _session(world: Any) -> AppSession:
    session = AppSession.objects.filter(user=world.staff_in_team.user).first()
    assert session is not None
    return session


def _membership(world: Any) -> Any:
    return Membership.objects.filter(staff=world.staff_in_team, team=world.team)


def _tokens(world: Any) -> Any:
    return Token.objects.filter(session=_session(world), kind=Token.Kind.ACCESS)


def _user_with_login() -> User:
    user = factories.UserFactory()
    login(user)
    return user


CHANGES: dict[str, Callable[[Any], Any]] = {
    "token expires": lambda w: _tokens(w).update(expires_at=F("expires_at") - timedelta(seconds=1)),
    "token kind": lambda w: _tokens(w).update(kind=Token.Kind.REFRESH),
    "token hash": lambda w: _tokens(w).update(token_hash="0" * 64),
    "token session": lambda w: _tokens(w).update(session=AppSession.objects.exclude(pk=_session(w).pk).first()),
    "token deleted": lambda w: _tokens(w).delete(),
    "session revoked": lambda w: AppSession.objects.filter(pk=_session(w).pk).update(revoked_at=timezone.now()),
    "session expires": lambda w: AppSession.objects.filter(pk=_session(w).pk).update(expires_at=timezone.now()),
    "session audience": lambda w: AppSession.objects.filter(pk=_session(w).pk).update(audience="citizen"),
    "session user": lambda w: AppSession.objects.filter(pk=_session(w).pk).update(user=w.citizen.user),
    "session deleted": lambda w: AppSession.objects.filter(pk=_session(w).pk).delete(),
    "user deactivated": lambda w: User.objects.filter(pk=w.citizen.user.pk).update(is_active=False),
    "user deleted": lambda w: _user_with_login().delete(),
    "staff user": lambda w: Staff.objects.filter(pk=w.staff_in_team.pk).update(user=factories.UserFactory()),
    "staff deleted": lambda w: factories.MembershipFactory().staff.delete(),
    "membership role": lambda w: _membership(w).update(role=StaffRole.ANALYST),
    "membership ends": lambda w: _membership(w).update(valid_to=municipal_today() - timedelta(days=1)),
    "membership starts later": lambda w: _membership(w).update(valid_from=municipal_today() + timedelta(days=1)),
    "membership team": lambda w: _membership(w).update(team=w.other_team),
    "membership staff": lambda w: _membership(w).update(staff=factories.StaffFactory()),
    "membership deleted": lambda w: _membership(w).delete(),
    "membership made": lambda w: Membership.objects.create(
        staff=w.staff_in_team, team=w.other_team, role=StaffRole.THERAPIST
    ),
}


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
def test_a_change_that_can_end_access_raises_the_version(world, change):
    assert raises_version(lambda: CHANGES[change](world))


def test_a_table_emptied_at_once_raises_the_version(world):
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(Token._meta.db_table)
        statement = f"TRUNCATE {table}" if connection.vendor == "postgresql" else f"DELETE FROM {table}"  # noqa: S608
        assert raises_version(lambda: cursor.execute(statement))


def test_use_of_a_login_and_statements_that_change_nothing_do_not_raise_the_version(world):
    session = AppSession.objects.filter(user=world.citizen.user).first()
    assert session is not None
    refresh = Token.objects.filter(session=session, kind=Token.Kind.REFRESH).first()
    assert refresh is not None
    nobody = AppSession.objects.filter(install_id="an install that never logged in", revoked_at__isnull=True)
    unchanged: dict[str, Callable[[], Any]] = {
        "session used": lambda: AppSession.objects.filter(pk=session.pk).update(last_used_at=timezone.now()),
        "refresh token used": lambda: Token.objects.filter(pk=refresh.pk).update(used_at=timezone.now()),
        "user logged in": lambda: User.objects.filter(pk=world.citizen.user.pk).update(last_login=timezone.now()),
        "user saved as it was": lambda: world.citizen.user.save(),
        "no session matched": lambda: nobody.update(revoked_at=timezone.now()),
        "no token matched": lambda: Token.objects.filter(session__in=nobody).delete(),
        "a login from a new install": lambda: session_start(
            user=factories.UserFactory(),
            audience=AppSession.Audience.CITIZEN,
            client=ClientInfo("127.0.0.1", "pytest"),
            install_id="a new install",
        ),
    }
    assert [name for name, change in unchanged.items() if raises_version(change)] == []


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
    ends = timezone.now() + timedelta(seconds=5)
    await database_sync_to_async(AppSession.objects.filter(user=world.staff_in_team.user).update)(expires_at=ends)
    stream = await subscribed(world)
    await notify_team(world.team)
    assert (await stream.receive_json_from())["type"] == "team_event"
    await asyncio.sleep(max(0.0, (ends - timezone.now()).total_seconds()) + 0.2)
    await notify_team(world.team, session_log_id=2)
    assert await stream.receive_output() == {"type": "websocket.close", "code": consumers.CLOSE_UNAUTHENTICATED}
    assert counted_checks == [1, 1]


async def test_a_user_deactivated_after_the_last_check_gets_no_more_events(channel_layer, world, counted_checks):
    stream = await subscribed(world)
    await notify_team(world.team)
    assert (await stream.receive_json_from())["type"] == "team_event"
    await database_sync_to_async(User.objects.filter(pk=world.staff_in_team.user.pk).update)(is_active=False)
    await notify_team(world.team, session_log_id=2)
    assert await stream.receive_output() == {"type": "websocket.close", "code": consumers.CLOSE_UNAUTHENTICATED}
    assert counted_checks == [1, 1]
