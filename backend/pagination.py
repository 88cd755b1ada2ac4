"""Keyset (cursor) pagination: stable under inserts, bounded whatever is asked."""

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, Q, QuerySet

from backend.errors import InvalidInput

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50


def _encode(values: list[Any]) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else str(v) for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, length: int) -> list[str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("cursor", "The cursor is not valid.") from exc
    if not isinstance(values, list) or len(values) != length or not all(isinstance(v, str) for v in values):
        raise InvalidInput("cursor", "The cursor is not valid.")
    return values


def paginate[M: Model](
    queryset: QuerySet[M],
    *,
    cursor: str | None,
    limit: int | None,
    order: Sequence[str] = ("-created_at", "-id"),
) -> tuple[list[M], str | None]:
    """One page of ``queryset`` in ``order`` (all fields descending or all ascending) after ``cursor``.

    Returns the items and the cursor of the next page (None on the last page). Costs one query.
    """
    size = min(max(limit or DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE)
    fields = [name.lstrip("-") for name in order]
    descending = order[0].startswith("-")
    if cursor:
        values = _decode(cursor, len(fields))
        lookup = "lt" if descending else "gt"
        condition = Q()
        for index, name in enumerate(fields):
            step = Q(**{f"{name}__{lookup}": values[index]})
            for earlier in range(index):
                step &= Q(**{fields[earlier]: values[earlier]})
            condition |= step
    try:
        if cursor:
            queryset = queryset.filter(condition)
        items = list(queryset.order_by(*order)[: size + 1])
    except (DjangoValidationError, ValueError, TypeError) as exc:
        # A cursor whose values do not fit the fields it pages over (tampered or from another list).
        raise InvalidInput("cursor", "The cursor is not valid.") from exc
    next_cursor = None
    if len(items) > size:
        items = items[:size]
        last = items[-1]
        next_cursor = _encode([getattr(last, name) for name in fields])
    return items, next_cursor
