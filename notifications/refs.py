"""Ids and references as notifications and reminders keep them: what a notification is about is ids only
(never a name, a text or a health detail), so that an announcement can carry it as it is."""

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Model

MAX_REF_CHARACTERS = 64


def as_uuid(value: Any) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(getattr(value, "pk", value)))


def unique_ids(values: Iterable[Any], model: type[Model]) -> list[uuid.UUID]:
    for value in values:
        if isinstance(value, Model) and not isinstance(value, model):
            raise TypeError(f"Expected {model.__name__} objects or their ids, got a {type(value).__name__}.")
    return list(dict.fromkeys(as_uuid(value) for value in values))


def _is_plain_id(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and 0 < len(value) <= MAX_REF_CHARACTERS and value.replace("-", "").isalnum()


def clean_refs(refs: Mapping[str, Any]) -> dict[str, str | int]:
    """References are ids only: keys ending in ``_id``, values UUIDs, integers or short id strings."""
    cleaned: dict[str, str | int] = {}
    for key, value in refs.items():
        if not (isinstance(key, str) and key.endswith("_id") and key.replace("_", "").isalnum()):
            raise ValueError(f"A reference key must name an id (…_id), not {key!r}.")
        if isinstance(value, uuid.UUID):
            cleaned[key] = str(value)
        elif _is_plain_id(value):
            cleaned[key] = value
        else:
            raise ValueError(f"The reference {key} must be an id.")
    return cleaned
