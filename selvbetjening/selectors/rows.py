"""Values as the selectors hand them on, converted once per type whether they come from a model, from
``values()`` or from a hand-written statement (where SQLite and PostgreSQL give them differently)."""

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any
from uuid import UUID

from django.db import connection
from django.utils.dateparse import parse_datetime

from selvbetjening.rules.dosage import AMOUNT_FIELDS, DOSAGE_FIELDS


def uuid_parameter(value: UUID) -> Any:
    """A UUID as a statement's parameter: native on PostgreSQL, the 32 hex digits Django stores on SQLite."""
    return value if connection.features.has_native_uuid_field else value.hex


def uuid_of(value: Any) -> UUID:
    """A UUID column: PostgreSQL gives a UUID, SQLite the 32 hex digits Django stores."""
    return value if isinstance(value, UUID) else UUID(value)


def instant(value: Any) -> datetime:
    """A time column, stored or computed: PostgreSQL gives an aware datetime, SQLite Django's naive UTC
    (parsed, or as text)."""
    if not isinstance(value, datetime):
        parsed = parse_datetime(str(value))
        if parsed is None:
            raise ValueError(f"not a time: {value!r}")
        value = parsed
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def dosage_row(columns: Sequence[Any]) -> dict[str, Any]:
    """``dosage_out`` of a statement's columns in the order of ``DOSAGE_FIELDS``."""
    return dosage_out(dict(zip(DOSAGE_FIELDS, columns, strict=True)))


def dosage_out(row: Mapping[str, Any] | object) -> dict[str, Any]:
    """The dosage of a plan's exercise or of what a session did, from a model or a mapping of its
    columns: the amounts as stored and the load in kilograms as a number (JSON has no decimals)."""
    get = row.__getitem__ if isinstance(row, Mapping) else partial(getattr, row)
    load_kg = get("load_kg")
    return {**{name: get(name) for name in AMOUNT_FIELDS}, "load_kg": None if load_kg is None else float(load_kg)}
