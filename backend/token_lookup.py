"""The access-token lookup of every API request and websocket event, as one prepared SQL statement.

Which tokens are valid is the access declaration's (``backend.access.declaration``): its token, session
and user rules are the statement's conditions, so an expired or revoked token finds no row.

The ORM spends several times longer compiling a ``select_related`` over the session, the user and the
user's three optional person records than the database spends answering it. The statement is built
once per database vendor from the models' own metadata (so it follows every field a migration adds),
and its rows are turned back into model instances with the same value converters the ORM uses.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Model

from backend import sql
from backend.access.declaration import AccessDeclaration, declared
from backend.access.rules import Moments
from backend.models import AppSession, Citizen, Membership, Relative, Staff, Team, Token, User


@dataclass(frozen=True)
class _Part:
    model: type[Model]
    attnames: tuple[str, ...]
    converters: tuple[tuple[int, sql.Converter], ...]


@dataclass(frozen=True)
class _Statement:
    sql: str
    parts: tuple[_Part, ...]


_statements: dict[tuple[str, int], _Statement] = {}
_web_statements: dict[tuple[str, int], _Statement] = {}
_PERSON_ACCESSORS = ("citizen", "relative", "staff")


def _converters(model: type[Model], names: list[str], alias: str, offset: int) -> tuple[tuple[int, sql.Converter], ...]:
    found = ((offset + index, sql.converter(model, name, alias)) for index, name in enumerate(names))
    return tuple((index, convert) for index, convert in found if convert is not None)


def _part(model: type[Model], alias: str, offset: int) -> tuple[_Part, list[str]]:
    names = [field.name for field in model._meta.concrete_fields]
    columns = [sql.column(model, name, alias) for name in names]
    attnames = tuple(sql.model_field(model, name).attname for name in names)
    return _Part(model, attnames, _converters(model, names, alias, offset)), columns


def _statement(declaration: AccessDeclaration) -> _Statement:
    key = (connection.vendor, id(declaration))
    if key in _statements:
        return _statements[key]
    parts: list[_Part] = []
    columns: list[str] = [sql.column(Token, "expires_at", "t")]
    for model, alias in ((AppSession, "s"), (User, "u"), (Citizen, "c"), (Relative, "r"), (Staff, "st")):
        part, part_columns = _part(model, alias, len(columns))
        parts.append(part)
        columns.extend(part_columns)
    token_part = _Part(Token, ("expires_at",), _converters(Token, ["expires_at"], "t", 0))

    def person_join(model: type[Model], alias: str) -> str:
        return (
            f"LEFT OUTER JOIN {sql.table(model)} {alias} "
            f"ON {sql.column(model, 'user', alias)} = {sql.column(User, 'id', 'u')}"
        )

    # Identifiers only, from model metadata and quoted by the backend; the values are parameters.
    statement_sql = (
        f"SELECT {', '.join(columns)} FROM {sql.table(Token)} t "  # noqa: S608
        f"INNER JOIN {sql.table(AppSession)} s "
        f"ON {sql.column(AppSession, 'id', 's')} = {sql.column(Token, 'session', 't')} "
        f"INNER JOIN {sql.table(User)} u ON {sql.column(User, 'id', 'u')} = {sql.column(AppSession, 'user', 's')} "
        f"{person_join(Citizen, 'c')} {person_join(Relative, 'r')} {person_join(Staff, 'st')} "
        f"WHERE {sql.column(Token, 'token_hash', 't')} = %s AND {declaration.token.sql('t')} "
        f"AND {declaration.session.sql('s')} AND {declaration.user.sql('u')}"
    )
    statement = _Statement(sql=statement_sql, parts=(token_part, *parts))
    _statements[key] = statement
    return statement


def _converted(statement: _Statement, raw: Sequence[Any]) -> list[Any]:
    """A fetched row with every column turned into its field's Python value, as the ORM would."""
    row = list(raw)
    for part in statement.parts:
        for index, convert in part.converters:
            row[index] = convert(row[index])
    return row


def _instance(part: _Part, row: Sequence[Any], offset: int) -> Model | None:
    values = row[offset : offset + len(part.attnames)]
    if values[0] is None:
        return None
    return part.model.from_db(connection.alias, list(part.attnames), list(values))


def session_for_access_token_hash(token_hash: str) -> tuple[Any, AppSession] | None:
    """(the token's expiry, its session with the user and the user's person records cached) while the
    token, its session and its user are valid now; None otherwise."""
    declaration = declared()
    statement = _statement(declaration)
    moments = Moments()
    params = [
        token_hash,
        *declaration.token.sql_params(moments),
        *declaration.session.sql_params(moments),
        *declaration.user.sql_params(moments),
    ]
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, params)
        raw = cursor.fetchone()
    if raw is None:
        return None
    row = _converted(statement, raw)
    expires_at = row[0]
    offset = 1
    instances: list[Model | None] = []
    for part in statement.parts[1:]:
        instances.append(_instance(part, row, offset))
        offset += len(part.attnames)
    session, user, *people = instances
    assert isinstance(session, AppSession) and isinstance(user, User)
    session.user = user
    for accessor, person in zip(_PERSON_ACCESSORS, people, strict=True):
        getattr(User, accessor).related.set_cached_value(user, person)
        if person is not None:
            person.user = user  # type: ignore[attr-defined]
    return expires_at, session


def _web_statement(declaration: AccessDeclaration) -> _Statement:
    """A browser login by its ``AppSession`` id: the session, its user, the user's person records and the staff
    member's memberships in force with their teams (one row per membership, or one without)."""
    key = (connection.vendor, id(declaration))
    if key in _web_statements:
        return _web_statements[key]
    parts: list[_Part] = []
    columns: list[str] = []
    aliases = ((AppSession, "s"), (User, "u"), (Citizen, "c"), (Relative, "r"), (Staff, "st"), (Membership, "m"))
    for model, alias in (*aliases, (Team, "tm")):
        part, part_columns = _part(model, alias, len(columns))
        parts.append(part)
        columns.extend(part_columns)

    def person_join(model: type[Model], alias: str) -> str:
        return (
            f"LEFT OUTER JOIN {sql.table(model)} {alias} "
            f"ON {sql.column(model, 'user', alias)} = {sql.column(User, 'id', 'u')}"
        )

    # Identifiers only, from model metadata and quoted by the backend; the values are parameters.
    statement_sql = (
        f"SELECT {', '.join(columns)} FROM {sql.table(AppSession)} s "  # noqa: S608
        f"INNER JOIN {sql.table(User)} u ON {sql.column(User, 'id', 'u')} = {sql.column(AppSession, 'user', 's')} "
        f"{person_join(Citizen, 'c')} {person_join(Relative, 'r')} {person_join(Staff, 'st')} "
        f"LEFT OUTER JOIN {sql.table(Membership)} m ON {sql.column(Membership, 'staff', 'm')} = "
        f"{sql.column(Staff, 'id', 'st')} AND {declaration.membership.sql('m')} "
        f"LEFT OUTER JOIN {sql.table(Team)} tm "
        f"ON {sql.column(Team, 'id', 'tm')} = {sql.column(Membership, 'team', 'm')} "
        f"WHERE {sql.column(AppSession, 'id', 's')} = %s AND {sql.column(AppSession, 'audience', 's')} = %s "
        f"ORDER BY {sql.column(Team, 'name', 'tm')}, {sql.column(Membership, 'role', 'm')}, "
        f"{sql.column(Membership, 'id', 'm')}"
    )
    statement = _Statement(sql=statement_sql, parts=tuple(parts))
    _web_statements[key] = statement
    return statement


@dataclass(frozen=True)
class WebLogin:
    """A browser login as stored, whatever its state (the caller judges expiry, revocation and idleness), with
    its user and person records cached and the staff member's memberships in force now."""

    session: AppSession
    memberships: list[Membership]


def web_login(session_id: str, audience: str) -> WebLogin | None:
    """The ``AppSession`` with this id and audience, in one query; None when there is none."""
    pk_field = AppSession._meta.pk
    assert pk_field is not None
    try:
        session_pk = pk_field.get_db_prep_value(pk_field.to_python(session_id), connection, prepared=False)
    except (ValueError, TypeError, ValidationError):
        return None
    declaration = declared()
    statement = _web_statement(declaration)
    params = [*declaration.membership.sql_params(Moments()), session_pk, audience]
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, params)
        raw_rows = cursor.fetchall()
    if not raw_rows:
        return None
    memberships: list[Membership] = []
    session: AppSession | None = None
    for raw in raw_rows:
        row = _converted(statement, raw)
        offset = 0
        instances: list[Model | None] = []
        for part in statement.parts:
            instances.append(_instance(part, row, offset))
            offset += len(part.attnames)
        found_session, user, citizen, relative, staff, membership, team = instances
        if session is None:
            assert isinstance(found_session, AppSession) and isinstance(user, User)
            session = found_session
            session.user = user
            for accessor, person in zip(_PERSON_ACCESSORS, (citizen, relative, staff), strict=True):
                getattr(User, accessor).related.set_cached_value(user, person)
                if person is not None:
                    person.user = user  # type: ignore[attr-defined]
        if isinstance(membership, Membership) and isinstance(team, Team):
            membership.team = team
            membership.staff = session.user.staff
            memberships.append(membership)
    assert session is not None
    return WebLogin(session=session, memberships=memberships)
