"""Conditions on one model's rows, written once and read four ways: as an ORM filter, as a fragment of
hand-written SQL, in Python on a loaded row, and as the columns whose change can end what they allow.

A condition compares a field with a constant or with a moment known only when it is judged (``NOW``, the
current instant, or ``TODAY``, the municipal date). Moments are resolved at the time of the call, so a
rule judged on every request needs no cache and no sweep.
"""

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from django.db import connection
from django.db.models import Field, Model, Q
from django.utils import timezone

from backend import sql
from backend.timeutil import municipal_today


class Moment(enum.Enum):
    NOW = "now"
    TODAY = "today"


NOW = Moment.NOW
TODAY = Moment.TODAY


@dataclass(frozen=True)
class Condition:
    """``field`` compared with ``value`` by ``op``:

    - ``eq``: equal to the value;
    - ``ne``: not empty and other than the value;
    - ``among``: one of the values (a frozenset);
    - ``is_null``: empty;
    - ``after``: later than the value;
    - ``not_after``: the value or earlier;
    - ``open_or_not_before``: empty (open-ended), or the value or later;
    - ``open_or_after``: empty (open-ended), or later than the value.
    """

    field: str
    op: str
    value: Any = None

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValueError(f"Unknown condition operator {self.op!r}.")


_OPS = frozenset({"eq", "ne", "among", "is_null", "after", "not_after", "open_or_not_before", "open_or_after"})


def equals(name: str, value: Any) -> Condition:
    return Condition(name, "eq", value)


def not_equals(name: str, value: Any) -> Condition:
    return Condition(name, "ne", value)


def among(name: str, values: Iterable[Any]) -> Condition:
    return Condition(name, "among", frozenset(str(value) for value in values))


def is_null(name: str) -> Condition:
    return Condition(name, "is_null")


def after(name: str, value: Any) -> Condition:
    return Condition(name, "after", value)


def open_or_after(name: str, value: Any) -> Condition:
    """Open-ended while ``name`` is empty, else until (not including) the moment it holds."""
    return Condition(name, "open_or_after", value)


def in_force(valid_from: str = "valid_from", valid_to: str = "valid_to") -> tuple[Condition, Condition]:
    """A period of whole days, its last day included and open while ``valid_to`` is empty."""
    return Condition(valid_from, "not_after", TODAY), Condition(valid_to, "open_or_not_before", TODAY)


@dataclass(frozen=True)
class Moments:
    """The moments a rule is judged at; taken once per judgement so every condition sees the same ones."""

    # Looked up at each call (not bound once), so that a clock a test moves is the clock a rule sees.
    now: datetime = field(default_factory=lambda: timezone.now())
    today: date = field(default_factory=lambda: municipal_today())

    def resolve(self, value: Any) -> Any:
        if value is NOW:
            return self.now
        if value is TODAY:
            return self.today
        return value


@dataclass(frozen=True)
class Rule:
    """What a row of ``model`` must satisfy for access to hold.

    ``keys`` are the fields that tie the row to the login or team it serves (a token's session, a
    membership's staff member and team): changing them ends what the row allowed just as surely as a
    failing condition. ``grants`` marks rows whose mere existence gives access (a membership), so that a new
    row changes what a held check would answer; the others are requirements (a token, a session, a user).
    ``watched`` rules are the ones the websocket hub's held checks rely on: the database raises the access
    version when any of their columns change (``backend.access.triggers``).
    """

    model: type[Model]
    conditions: tuple[Condition, ...] = ()
    keys: tuple[str, ...] = ()
    grants: bool = False
    watched: bool = False

    def with_conditions(self, *extra: Condition) -> "Rule":
        return replace(self, conditions=self.conditions + extra)

    def timeless(self) -> "Rule":
        """The rule without the conditions judged against a moment: what a change to the row can end, as
        opposed to what time ends by itself (an expiry)."""
        return replace(self, conditions=tuple(c for c in self.conditions if not isinstance(c.value, Moment)))

    def _field(self, name: str) -> Field:
        model_field = self.model._meta.get_field(name)
        assert isinstance(model_field, Field)
        return model_field

    # --- The ORM ----------------------------------------------------------------------------------

    def q(self, prefix: str = "", moments: Moments | None = None) -> Q:
        """The rule as a filter; ``prefix`` is the lookup path from the queried model (``"care_relations__"``)."""
        moments = moments or Moments()
        result = Q()
        for condition in self.conditions:
            name = prefix + condition.field
            value = moments.resolve(condition.value)
            if condition.op == "eq":
                result &= Q(**{name: value})
            elif condition.op == "ne":
                result &= Q(**{f"{name}__isnull": False}) & ~Q(**{name: value})
            elif condition.op == "among":
                result &= Q(**{f"{name}__in": sorted(value)})
            elif condition.op == "is_null":
                result &= Q(**{f"{name}__isnull": True})
            elif condition.op == "after":
                result &= Q(**{f"{name}__gt": value})
            elif condition.op == "not_after":
                result &= Q(**{f"{name}__lte": value})
            elif condition.op == "open_or_after":
                result &= Q(**{f"{name}__isnull": True}) | Q(**{f"{name}__gt": value})
            else:
                result &= Q(**{f"{name}__isnull": True}) | Q(**{f"{name}__gte": value})
        return result

    # --- Python, on a loaded row ------------------------------------------------------------------

    def holds(self, row: Any, moments: Moments | None = None) -> bool:
        moments = moments or Moments()
        for condition in self.conditions:
            actual = getattr(row, self._field(condition.field).attname)
            value = moments.resolve(condition.value)
            if condition.op == "eq":
                holds = actual == value
            elif condition.op == "ne":
                holds = actual is not None and actual != value
            elif condition.op == "among":
                holds = str(actual) in value
            elif condition.op == "is_null":
                holds = actual is None
            elif condition.op == "after":
                holds = actual is not None and actual > value
            elif condition.op == "not_after":
                holds = actual is not None and actual <= value
            elif condition.op == "open_or_after":
                holds = actual is None or actual > value
            else:
                holds = actual is None or actual >= value
            if not holds:
                return False
        return True

    # --- Hand-written SQL -------------------------------------------------------------------------

    def column(self, name: str) -> str:
        """A field's column, quoted for the connection."""
        return sql.column(self.model, name)

    def sql(self, alias: str, named: str | None = None) -> str:
        """The rule as a ``WHERE`` fragment over ``alias``, with ``%s`` placeholders (or ``%(named_N)s``
        when ``named`` is given) in the order of ``sql_params``; ``TRUE`` for a rule without conditions.
        Identifiers only come from the model's metadata: every value is a parameter."""
        parts: list[str] = []
        index = 0

        def placeholder() -> str:
            nonlocal index
            index += 1
            return f"%({named}_{index - 1})s" if named else "%s"

        for condition in self.conditions:
            column = f"{alias}.{self.column(condition.field)}"
            if condition.op == "eq":
                parts.append(f"{column} = {placeholder()}")
            elif condition.op == "ne":
                parts.append(f"{column} <> {placeholder()}")
            elif condition.op == "among":
                parts.append(f"{column} IN ({', '.join(placeholder() for _ in condition.value)})")
            elif condition.op == "is_null":
                parts.append(f"{column} IS NULL")
            elif condition.op == "after":
                parts.append(f"{column} > {placeholder()}")
            elif condition.op == "not_after":
                parts.append(f"{column} <= {placeholder()}")
            elif condition.op == "open_or_after":
                parts.append(f"({column} IS NULL OR {column} > {placeholder()})")
            else:
                parts.append(f"({column} IS NULL OR {column} >= {placeholder()})")
        return " AND ".join(parts) if parts else "1 = 1"

    def sql_params(self, moments: Moments | None = None) -> list[Any]:
        """The values of ``sql``'s placeholders, prepared for the connection as the ORM prepares them."""
        moments = moments or Moments()
        params: list[Any] = []
        for condition in self.conditions:
            if condition.op == "is_null":
                continue
            model_field = self._field(condition.field)
            values = sorted(condition.value) if condition.op == "among" else [moments.resolve(condition.value)]
            params.extend(model_field.get_db_prep_value(value, connection, prepared=False) for value in values)
        return params

    def sql_named_params(self, named: str, moments: Moments | None = None) -> Mapping[str, Any]:
        return {f"{named}_{index}": value for index, value in enumerate(self.sql_params(moments))}

    # --- What ends it -----------------------------------------------------------------------------

    def columns(self) -> tuple[str, ...]:
        """The columns whose change can end what this rule allows: its conditions' and its keys'."""
        names = {condition.field for condition in self.conditions} | set(self.keys)
        return tuple(sorted(str(self._field(name).column) for name in names))

    @property
    def table(self) -> str:
        return self.model._meta.db_table
