"""The database work of the websocket stream, done for many sockets at once.

Every event is checked against the database before a socket forwards it (DESIGN.md: no cached
permission outlives a change): ``access_version`` reads the counter the database raises with every change
that can end access, and the sockets whose last check does not hold at it are checked in one statement:
``access_checks`` resolves their tokens (valid, not expired, session not revoked, user active) and, for
the teams they follow, whether they still hold a care role there (never for a login that acts in no team,
a citizen's).
Deliveries are recorded the same way, many notifications in one ``UPDATE``.

The statement is written by hand from the models' metadata: the ORM cannot express the membership
``LEFT JOIN`` with its conditions, and it is the hot path of every event. Its conditions (what makes a
token, session and user valid, which logins act in teams, and a membership a care role in force) are the
access declaration's
(``backend.access.declaration``), the same the API's token lookup and the ORM filters use.
"""

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import F, Max
from django.db.models.functions import Coalesce
from django.utils import timezone

from backend import sql
from backend.access.declaration import AccessDeclaration, declared
from backend.access.rules import Moments
from backend.auth import LAST_USED_RESOLUTION
from backend.models import AccessVersion, AppSession, Membership, Staff, Token, User
from backend.timeutil import municipal_today
from notifications.models import Notification, StreamEvent

MAX_TOKENS_PER_STATEMENT = 2000


@dataclass
class Access:
    """What a token stands for right now: its user, when it expires, and which of the asked-about
    teams the user may follow (a care role in the team today; never for a citizen login)."""

    user_id: str
    token_expires_at: datetime
    session_expires_at: datetime
    team_ids: set[str] = field(default_factory=set)

    @property
    def valid_until(self) -> datetime:
        """When the login ends by itself, without any change to it."""
        return min(self.token_expires_at, self.session_expires_at)


# The statement's IN lists and its row converters are backend.sql's.
_datetime = sql.moment
_uuid_text = sql.uuid_text
_in = sql.among
_listed = sql.listed
_in_params = sql.among_parameters


def _statement(declaration: AccessDeclaration, token_count: int, team_count: int) -> str:
    col = sql.column
    select_team = "NULL"
    joins = ""
    is_postgresql = connection.vendor == "postgresql"
    # On PostgreSQL the ids come as text and the expiry as seconds: psycopg turns them into Python objects
    # in C, where a UUID or a timestamp with time zone takes a Python loader per value (most of the time a
    # check of a thousand sockets spent in the process).
    as_text = "::text" if is_postgresql else ""
    expires_at = f"t.{col(Token, 'expires_at')}"
    session_expires_at = f"s.{col(AppSession, 'expires_at')}"
    if is_postgresql:
        expires_at = f"extract(epoch FROM {expires_at})::float8"
        session_expires_at = f"extract(epoch FROM {session_expires_at})::float8"
    if team_count:
        select_team = f"m.{col(Membership, 'team')}{as_text}"
        membership_holds = (
            f"AND {_in(f'm.{col(Membership, "team")}', team_count, 'uuid')} AND {declaration.care_membership.sql('m')}"
        )
        if is_postgresql:
            # Each socket's staff row and memberships by their indexes, not a hash of every membership.
            joins = (
                f"LEFT OUTER JOIN LATERAL (SELECT m.{col(Membership, 'team')} FROM {sql.table(Staff)} st "  # noqa: S608
                f"INNER JOIN {sql.table(Membership)} m ON m.{col(Membership, 'staff')} = st.{col(Staff, 'id')} "
                f"WHERE st.{col(Staff, 'user')} = u.{col(User, 'id')} AND {declaration.team_login.sql('s')} "
                f"{membership_holds} OFFSET 0) m ON TRUE "
            )
        else:
            joins = (
                f"LEFT OUTER JOIN {sql.table(Staff)} st ON st.{col(Staff, 'user')} = u.{col(User, 'id')} "
                f"AND {declaration.team_login.sql('s')} "
                f"LEFT OUTER JOIN {sql.table(Membership)} m ON m.{col(Membership, 'staff')} = st.{col(Staff, 'id')} "
                f"{membership_holds} "
            )
    if is_postgresql:
        # Each hash is looked up by the unique index, whatever the planner knows about the tables: the
        # lateral subquery (kept apart by OFFSET 0) cannot become a hash join over every token.
        columns = ", ".join(col(Token, name) for name in ("token_hash", "session", "expires_at", "kind"))
        tokens = (
            f"unnest(string_to_array(%s, ',')) AS wanted(token_hash) CROSS JOIN LATERAL (SELECT {columns} "  # noqa: S608
            f"FROM {sql.table(Token)} WHERE {col(Token, 'token_hash')} = wanted.token_hash OFFSET 0) t"
        )
        wanted = ""
    else:
        tokens = f"{sql.table(Token)} t"
        wanted = f"t.{col(Token, 'token_hash')} IN ({sql.placeholders(token_count)}) AND "
    # Identifiers only, from model metadata and quoted by the backend; every value is a parameter.
    return (
        f"SELECT t.{col(Token, 'token_hash')}, s.{col(AppSession, 'id')}{as_text}, "  # noqa: S608
        f"s.{col(AppSession, 'user')}{as_text}, {expires_at}, {session_expires_at}, "
        f"CASE WHEN s.{col(AppSession, 'last_used_at')} < %s THEN 1 ELSE 0 END, {select_team} "
        f"FROM {tokens} "
        f"INNER JOIN {sql.table(AppSession)} s ON s.{col(AppSession, 'id')} = t.{col(Token, 'session')} "
        f"INNER JOIN {sql.table(User)} u ON u.{col(User, 'id')} = s.{col(AppSession, 'user')} "
        f"{joins}"
        f"WHERE {wanted}{declaration.token.sql('t')} "
        f"AND {declaration.session.sql('s')} AND {declaration.user.sql('u')}"
    )


def access_checks(requests: Mapping[str, Iterable[str]]) -> dict[str, Access]:
    """For each token hash (with the team ids to check), its ``Access`` now; a token not valid is absent.

    Sessions last used more than ``LAST_USED_RESOLUTION`` ago are marked used, as the API does."""
    now = timezone.now()
    declaration = declared()
    moments = Moments(now=now, today=municipal_today())
    found: dict[str, Access] = {}
    stale_sessions: set[Any] = set()
    hashes = list(requests)
    team_field = Membership._meta.get_field("team")
    for start in range(0, len(hashes), MAX_TOKENS_PER_STATEMENT):
        chunk = hashes[start : start + MAX_TOKENS_PER_STATEMENT]
        team_ids = sorted({team_id for token_hash in chunk for team_id in requests[token_hash]})
        params: list[Any] = [connection.ops.adapt_datetimefield_value(now - LAST_USED_RESOLUTION)]
        is_postgresql = connection.vendor == "postgresql"
        if is_postgresql:
            params.append(_listed(chunk))
        if team_ids:
            team_values = [team_field.get_db_prep_value(uuid.UUID(team_id), connection) for team_id in team_ids]
            params += [*declaration.team_login.sql_params(moments), *_in_params(team_values)]
            params += declaration.care_membership.sql_params(moments)
        params += [*([] if is_postgresql else chunk), *declaration.token.sql_params(moments)]
        params += [*declaration.session.sql_params(moments), *declaration.user.sql_params(moments)]
        with connection.cursor() as cursor:
            cursor.execute(_statement(declaration, len(chunk), len(team_ids)), params)
            rows = cursor.fetchall()
        texts: dict[Any, str] = {}
        for token_hash, session_id, user_id, expires_at, session_expires_at, is_stale, team_id in rows:
            access = found.get(token_hash)
            if access is None:
                user_text = texts.get(user_id)
                if user_text is None:
                    user_text = texts[user_id] = _uuid_text(user_id)
                access = found[token_hash] = Access(
                    user_id=user_text,
                    token_expires_at=_datetime(expires_at),
                    session_expires_at=_datetime(session_expires_at),
                )
                if is_stale:
                    stale_sessions.add(session_id)
            if team_id is not None:
                team_text = texts.get(team_id)
                if team_text is None:
                    team_text = texts[team_id] = _uuid_text(team_id)
                access.team_ids.add(team_text)
    if stale_sessions:
        AppSession.objects.filter(pk__in=stale_sessions).update(last_used_at=now)
    return found


def access_version() -> int:
    """The access version now (``backend.models.AccessVersion``): 0 before the first change."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {sql.column(AccessVersion, 'value')} FROM {sql.table(AccessVersion)} "  # noqa: S608 — identifiers only
            f"WHERE {sql.column(AccessVersion, 'id')} = %s",
            [1],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def access_checks_with_head(requests: Mapping[str, Iterable[str]]) -> tuple[dict[str, Access], int]:
    """``access_checks`` and, read after it, the newest stream event id: a new socket's starting point."""
    return access_checks(requests), stream_head()


def stream_head() -> int:
    """The newest stream event id: every event up to it is committed and visible."""
    return StreamEvent.objects.aggregate(head=Max("id"))["head"] or 0


def deliveries_record(pairs: Iterable[tuple[str, str]], now: datetime | None = None) -> int:
    """Record that notifications reached an open app of their recipient over the websocket: they count as
    delivered, and their pushes not yet sent are not sent (``notifications.push``). ``pairs`` of (user id,
    notification id), for many users at once; a notification id that is not the user's is left alone."""
    wanted: dict[uuid.UUID, uuid.UUID] = {}
    for user_id, notification_id in pairs:
        try:
            wanted[uuid.UUID(str(notification_id))] = uuid.UUID(str(user_id))
        except ValueError:
            continue
    if not wanted:
        return 0
    matching = [
        pk
        for pk, recipient_id in Notification.objects.filter(pk__in=wanted, streamed_at__isnull=True).values_list(
            "pk", "recipient_id"
        )
        if wanted.get(pk) == recipient_id
    ]
    if not matching:
        return 0
    now = now or timezone.now()
    return Notification.objects.filter(pk__in=matching, streamed_at__isnull=True).update(
        streamed_at=now, delivered_at=Coalesce(F("delivered_at"), now)
    )
