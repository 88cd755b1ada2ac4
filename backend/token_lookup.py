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

from django.db import connection
from django.db.models import Model

from backend import sql
from backend.access.declaration import AccessDeclaration, declared
from backend.access.rules import Moments
from backend.models import AppSession, Citizen, Relative, Staff, Token, User


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
    row = list(raw)
    for part in statement.parts:
        for index, convert in part.converters:
            row[index] = convert(row[index])
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
