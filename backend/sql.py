"""The one convention for hand-written SQL (used only where ``bench/`` shows it pays).

Table and column names come from the models' metadata, quoted by the connection, never typed into a
statement; lists of values are placeholders, and every value is a parameter. A statement template names a
model's table and columns through an alias (``Aliased``: ``FROM {s}`` and ``{s.status}``), and its rows come
back as the ORM would give them through the fields' own converters (``Select``). A statement that must not
grow with the length of a list takes it as one parameter on PostgreSQL (``among``), and one that selects
ids as text and moments as seconds there, for speed, reads them back with ``uuid_text`` and ``moment``.
"""

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.db.models import Field, Model
from django.db.models.expressions import Col
from django.utils.dateparse import parse_datetime

type Converter = Callable[[Any], Any]


def table_name(model: type[Model]) -> str:
    """The model's table as the database knows it, unquoted: for the catalogs' functions (``to_regclass``)
    and for names made from it (a partition's)."""
    return model._meta.db_table


def table(model: type[Model]) -> str:
    """The model's table, quoted."""
    return connection.ops.quote_name(table_name(model))


def model_field(model: type[Model], name: str) -> Field:
    found = model._meta.get_field(name)
    assert isinstance(found, Field), f"{model.__name__}.{name} is not a concrete field"
    return found


def column_name(model: type[Model], name: str) -> str:
    """A field's column (``name`` is the field's name, e.g. ``session`` for ``session_id``), unquoted."""
    return str(model_field(model, name).column)


def column(model: type[Model], name: str, alias: str = "") -> str:
    """A field's column (``name`` is the field's name, e.g. ``session`` for ``session_id``), quoted and
    prefixed with ``alias.`` when given."""
    quoted = connection.ops.quote_name(column_name(model, name))
    return f"{alias}.{quoted}" if alias else quoted


def placeholders(count: int) -> str:
    """``%s, %s, …``: ``count`` placeholders for an ``IN`` list or a row of values."""
    return ", ".join(["%s"] * count)


# --- Long lists: one parameter on PostgreSQL -----------------------------------------------------------


def among(column: str, count: int, array_type: str) -> str:
    """``column`` among ``count`` values (``among_parameters`` gives them): on PostgreSQL one text parameter
    of comma-separated values, split by the server into an array of ``array_type`` (the statement does not
    grow with the count, and psycopg quotes one string instead of dumping an array element by element); an
    ``IN`` list elsewhere."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(string_to_array(%s, ',')::{array_type}[])"
    return f"{column} IN ({placeholders(count)})"


def listed(values: Sequence[str]) -> str:
    """Values as one parameter for ``string_to_array(%s, ',')``: hexadecimal hashes and UUIDs, which hold no
    comma."""
    assert not any("," in value for value in values)
    return ",".join(values)


def among_parameters(values: Sequence[Any]) -> list[Any]:
    """The parameters of ``among`` for ``values``."""
    return [listed([str(value) for value in values])] if connection.vendor == "postgresql" else list(values)


# --- Values selected for speed: ids as text and moments as seconds on PostgreSQL ---------------------------


def uuid_text(value: Any) -> str:
    """A UUID column's value as the canonical text: selected as text on PostgreSQL (``::text``, already
    canonical, which psycopg reads without a Python loader per value), as 32 hex digits on SQLite."""
    if isinstance(value, str) and len(value) == 36:
        return value
    return str(value) if isinstance(value, uuid.UUID) else str(uuid.UUID(str(value)))


def moment(value: Any) -> datetime:
    """A timestamp column's value as an aware datetime: selected as seconds since the epoch on PostgreSQL
    (``extract(epoch FROM …)::float8``, which psycopg reads in C), as SQLite's connection gives it elsewhere
    (a naive datetime in UTC, or its text)."""
    if isinstance(value, float):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        parsed = parse_datetime(value)
        assert parsed is not None
        value = parsed
    assert isinstance(value, datetime)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def parameter(model: type[Model], name: str, value: Any) -> Any:
    """``value`` as a parameter compared with the field's column, prepared as the ORM prepares it (a UUID as
    SQLite's hex text, a date or time as the backend stores it)."""
    return model_field(model, name).get_db_prep_value(value, connection)


class Aliased:
    """A model under an alias in a statement template, for ``str.format``: ``{s}`` is the quoted table with
    its alias (``"app_slot" s``) and ``{s.status}`` the alias's quoted column of the field ``status``."""

    __slots__ = ("_alias", "_model")

    def __init__(self, model: type[Model], alias: str) -> None:
        self._model = model
        self._alias = alias

    def __getattr__(self, name: str) -> str:
        return column(self._model, name, self._alias)

    def __format__(self, spec: str) -> str:
        return f"{table(self._model)} {self._alias}"


def aliases(**models: type[Model]) -> dict[str, Aliased]:
    """``Aliased`` for each alias given: the keyword arguments of a template's ``format``."""
    return {alias: Aliased(model, alias) for alias, model in models.items()}


def converter(model: type[Model], name: str, alias: str = "") -> Converter | None:
    """What the ORM does to a value of the field's column as the connection gives it (a UUID from SQLite's
    hex text, an aware datetime, a Decimal), or None when it takes the value as it is."""
    field = model_field(model, name)
    expression: Col = field.get_col(alias or model._meta.db_table)
    found = [*connection.ops.get_db_converters(expression), *expression.get_db_converters(connection)]
    if not found:
        return None

    def convert(value: Any) -> Any:
        for step in found:
            value = step(value, expression, connection)
        return value

    return convert


_converters: dict[tuple[str, type[Model], str], Converter | None] = {}


def value_of(model: type[Model], name: str, value: Any) -> Any:
    """A value of the field's column, or computed from it (``MAX(…)``), as the ORM gives the field's values."""
    key = (connection.vendor, model, name)
    if key not in _converters:
        _converters[key] = converter(model, name)
    convert = _converters[key]
    return value if value is None or convert is None else convert(value)


class Select:
    """The columns a statement selects, as ``(alias, model, field name)``: ``sql()`` is its select list and
    ``rows()`` turns the rows it answers into the values the ORM gives for those fields."""

    def __init__(self, *columns: tuple[str, type[Model], str]) -> None:
        self.columns = columns
        self._converters: dict[str, list[Converter | None]] = {}

    def sql(self) -> str:
        return ", ".join(column(model, name, alias) for alias, model, name in self.columns)

    def converters(self) -> list[Converter | None]:
        found = self._converters.get(connection.vendor)
        if found is None:
            found = self._converters[connection.vendor] = [
                converter(model, name, alias) for alias, model, name in self.columns
            ]
        return found

    def rows(self, rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        converters = self.converters()
        if not any(converters):
            return [tuple(row) for row in rows]
        return [
            tuple(value if convert is None else convert(value) for convert, value in zip(converters, row, strict=True))
            for row in rows
        ]


def fetch(statement: str, parameters: Sequence[Any] | dict[str, Any]) -> list[tuple[Any, ...]]:
    """The rows of one statement, as the connection gives them."""
    with connection.cursor() as cursor:
        cursor.execute(statement, parameters)
        return cursor.fetchall()


def analyze(*models: type[Model]) -> None:
    """After a bulk load: PostgreSQL's planner statistics for the models' tables (every table when none is
    named), as the rows now are. Autovacuum gathers them too, but later, and outside an open transaction; a
    statement that reads the rows before that is planned for the tables as they were, and a plan made for
    an empty table (a scan of the whole inner table for each outer row) takes minutes on a few thousand
    rows. Nothing on SQLite, which plans from its indexes alone."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(table(model) for model in models))
