"""The kernel's hand-written statements answer what the ORM answers for the same question, on the world's
logins with some made invalid in each way the declaration names: the token lookup
(``backend/token_lookup.py``), the websocket hub's access checks and access version
(``notifications/stream_checks.py``), the access log's insert (``backend/audit.py``) and the browser
session's read (``backend/session_store.py``). Run on SQLite and on PostgreSQL."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from backend.access.declaration import declared
from backend.access.rules import Moments
from backend.actors import Actor
from backend.audit import access_log_record
from backend.models import AccessLogEntry, AccessVersion, AppSession, Membership, StaffRole, Token, User
from backend.session_store import SessionStore
from backend.token_lookup import session_for_access_token_hash
from backend.tokens import hash_secret
from notifications import stream_checks
from tests import factories

pytestmark = pytest.mark.django_db


def _spoil(world) -> None:  # type: ignore[no-untyped-def]
    """One login of each kind that is no longer valid, and one membership that no longer gives care."""
    Token.objects.filter(session__user=world.other_citizen.user, kind=Token.Kind.ACCESS).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    AppSession.objects.filter(user=world.relative_without_consent.user).update(revoked_at=timezone.now())
    User.objects.filter(pk=world.staff_out_of_team.user_id).update(is_active=False)
    Membership.objects.filter(staff=world.it_staff).update(valid_to=timezone.now().date() - timedelta(days=1))
    factories.MembershipFactory(staff=world.analyst, team=world.other_team, role=StaffRole.CARE_WORKER)


def _valid_tokens(moments: Moments) -> dict[str, Token]:
    """The access tokens the declaration lets in, by their hash, through the ORM."""
    declaration = declared()
    tokens = Token.objects.filter(
        declaration.token.q(moments=moments),
        declaration.session.q("session__", moments),
        declaration.user.q("session__user__", moments),
    ).select_related("session")
    return {token.token_hash: token for token in tokens}


def _hashes(world) -> list[str]:  # type: ignore[no-untyped-def]
    return [hash_secret(token) for role, token in world.tokens.items() if token and role != "device"]


def test_the_token_lookup_finds_the_tokens_the_orm_finds(world):
    _spoil(world)
    valid = _valid_tokens(Moments())
    found = {}
    for token_hash in [*_hashes(world), hash_secret("no such token")]:
        answer = session_for_access_token_hash(token_hash)
        if answer is not None:
            found[token_hash] = (answer[0], answer[1].pk, answer[1].user.pk)
    expected = {key: (token.expires_at, token.session_id, token.session.user_id) for key, token in valid.items()}
    assert found == expected
    # The citizen, the relative with consent, staff in the team, IT and the analyst; not the three spoilt.
    assert len(expected) == 5
    assert hash_secret(world.tokens["other_citizen"]) not in found


def test_the_hubs_access_checks_find_the_logins_and_care_teams_the_orm_finds(world):
    _spoil(world)
    teams = sorted(str(team.pk) for team in (world.team, world.other_team, world.it_team))
    requests = {token_hash: teams for token_hash in _hashes(world)}
    found = stream_checks.access_checks(requests)
    moments = Moments()
    declaration = declared()
    expected = {}
    for token_hash, token in _valid_tokens(moments).items():
        session = token.session
        care_teams = set()
        if session.audience != AppSession.Audience.CITIZEN:
            care_teams = {
                str(team_id)
                for team_id in Membership.objects.filter(
                    declaration.care_membership.q(moments=moments),
                    declaration.staff.q("staff__", moments),
                    staff__user_id=session.user_id,
                    team_id__in=teams,
                ).values_list("team_id", flat=True)
            }
        expected[token_hash] = (str(session.user_id), token.expires_at, session.expires_at, care_teams)
    answer = {
        key: (access.user_id, access.token_expires_at, access.session_expires_at, access.team_ids)
        for key, access in found.items()
    }
    assert answer == expected
    analyst = answer[hash_secret(world.tokens["analyst"])]
    assert analyst[3] == {str(world.other_team.pk)}


def test_the_access_version_is_the_orms(world):
    assert stream_checks.access_version() == AccessVersion.objects.get(pk=1).value
    User.objects.filter(pk=world.citizen.user_id).update(is_active=False)
    assert stream_checks.access_version() == AccessVersion.objects.get(pk=1).value > 0


def test_the_access_logs_insert_stores_what_the_orm_would(world):
    actor = Actor(user=world.staff_in_team.user, audience=AppSession.Audience.STAFF)
    citizens = [world.citizen, world.other_citizen.pk, world.citizen]
    access_log_record(actor=actor, citizens=citizens, resource_type="episode", action="read", purpose="care")
    stored = list(
        AccessLogEntry.objects.order_by("citizen_id").values_list(
            "actor_id", "actor_name", "actor_role", "citizen_id", "resource_type", "resource_id", "action", "purpose"
        )
    )
    expected = sorted(
        (
            world.staff_in_team.user.pk,
            world.staff_in_team.user.display_name,
            actor.audit_role,
            citizen.pk,
            "episode",
            str(citizen.pk),
            "read",
            "care",
        )
        for citizen in (world.citizen, world.other_citizen)
    )
    assert stored == sorted(expected, key=lambda row: row[3])
    assert all(entry.at is not None and entry.at.tzinfo is not None for entry in AccessLogEntry.objects.all())


def test_the_session_stores_read_finds_the_sessions_the_orm_finds():
    def made(data: dict, expires_in: timedelta) -> str:
        store = SessionStore()
        store.update(data)
        store.create()
        assert store.session_key is not None
        Session.objects.filter(pk=store.session_key).update(expire_date=timezone.now() + expires_in)
        return store.session_key

    keys = [
        made({"staff": "in the team"}, timedelta(hours=2)),
        made({"citizen": "app"}, timedelta(days=14)),
        made({"gone": True}, -timedelta(seconds=1)),
        made({"long gone": True}, -timedelta(days=30)),
        "nosuchsessionkeyatall0123456789",
    ]
    found = {}
    for key in keys:
        session = SessionStore(key)._get_session_from_db()
        if session is not None:
            found[key] = (session.session_key, session.session_data)
    now = timezone.now()
    expected = dict(
        (key, (key, data))
        for key, data in Session.objects.filter(session_key__in=keys, expire_date__gt=now).values_list(
            "session_key", "session_data"
        )
    )
    assert found == expected
    assert list(found) == keys[:2]
    assert SessionStore(keys[0]).load() == {"staff": "in the team"}
    assert SessionStore(keys[2]).load() == {}
