"""When a training slot counts: due, filled, overdue or upcoming.

A slot at ``scheduled_at`` may be filled on time until ``due_until(scheduled_at, grace_minutes)``, the
plan version's grace period later. A slot is *due* once it is done, missed, or still pending after that
(its ``due_until``) has passed, which is missed in all but name until the missed-slot sweep has run. Of
the due slots, the done ones are *filled* and the others *overdue*. A pending slot whose grace period has
not passed is *upcoming*: it can still be filled on time and does not count yet. A cancelled slot never
counts. Adherence is filled ÷ due.

Each rule is written once below, as clauses of statuses and a side of the grace period, and read three
ways from that one definition: ``holds`` for a slot in Python, ``q`` for the ORM and ``sql`` for a
hand-written statement.
"""

import operator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from typing import Protocol

from django.db.models import Q

from backend import sql
from selvbetjening.models import TrainingSlot

Status = TrainingSlot.Status
_STATUS = TrainingSlot._meta.get_field("status")
_DUE_UNTIL = TrainingSlot._meta.get_field("due_until")


def due_until(scheduled_at: datetime, grace_minutes: int) -> datetime:
    """Until when a slot at ``scheduled_at`` may be filled on time: its grace period later. A slot's
    ``due_until`` is stored from this when the slot is made, and a preview of slots shows it."""
    return scheduled_at + timedelta(minutes=grace_minutes)


class Slot(Protocol):
    status: str
    due_until: datetime


@dataclass(frozen=True)
class Clause:
    """Slots in one of ``statuses``; with ``past_grace`` True only once ``due_until`` is before now,
    with False only while it is not, with None either way."""

    statuses: tuple[str, ...]
    past_grace: bool | None = None

    def holds(self, slot: Slot, now: datetime) -> bool:
        if slot.status not in self.statuses:
            return False
        return self.past_grace is None or (slot.due_until < now) is self.past_grace

    def q(self, now: datetime, through: str) -> Q:
        status, due_until = (f"{through}{field.name}" for field in (_STATUS, _DUE_UNTIL))
        if len(self.statuses) == 1:
            condition = Q(**{status: self.statuses[0]})
        else:
            condition = Q(**{f"{status}__in": self.statuses})
        if self.past_grace is None:
            return condition
        return condition & Q(**{f"{due_until}__{'lt' if self.past_grace else 'gte'}": now})

    def sql(self, alias: str, now: str, parameters: dict[str, str], prefix: str) -> str:
        names = []
        for status in self.statuses:
            name = f"{prefix}_{len(parameters)}"
            parameters[name] = status
            names.append(f"%({name})s")
        column = sql.column(TrainingSlot, _STATUS.name, alias)
        condition = f"{column} = {names[0]}" if len(names) == 1 else f"{column} IN ({', '.join(names)})"
        if self.past_grace is None:
            return condition
        due_until = sql.column(TrainingSlot, _DUE_UNTIL.name, alias)
        return f"({condition} AND {due_until} {'<' if self.past_grace else '>='} %({now})s)"


@dataclass(frozen=True)
class SlotRule:
    """A set of slots: those that meet any of the clauses."""

    name: str
    clauses: tuple[Clause, ...]

    def holds(self, slot: Slot, now: datetime) -> bool:
        """Whether ``slot`` is in the set at ``now``."""
        return any(clause.holds(slot, now) for clause in self.clauses)

    def q(self, now: datetime, *, through: str = "") -> Q:
        """The set at ``now`` as an ORM condition on ``TrainingSlot``, or on a model that reaches its slots
        by the lookup path ``through`` (``"training_plans__slots__"``)."""
        return reduce(operator.or_, (clause.q(now, through) for clause in self.clauses))

    def sql(self, alias: str, *, now: str) -> tuple[str, dict[str, str]]:
        """The set as an SQL condition on the slot table under ``alias``, with the statuses as named
        parameters ``slot_<name>_<n>`` (returned with their values) and ``now`` the name of the
        statement's parameter that holds the instant."""
        parameters: dict[str, str] = {}
        parts = [clause.sql(alias, now, parameters, f"slot_{self.name}") for clause in self.clauses]
        return (parts[0] if len(parts) == 1 else f"({' OR '.join(parts)})"), parameters


DONE, MISSED, PENDING = Status.DONE.value, Status.MISSED.value, Status.PENDING.value

DUE = SlotRule("due", (Clause((DONE, MISSED)), Clause((PENDING,), past_grace=True)))
FILLED = SlotRule("filled", (Clause((DONE,)),))
OVERDUE = SlotRule("overdue", (Clause((MISSED,)), Clause((PENDING,), past_grace=True)))
UPCOMING = SlotRule("upcoming", (Clause((PENDING,), past_grace=False),))
# Pending slots past their grace period, which the missed-slot sweep marks missed.
UNSWEPT = SlotRule("unswept", (Clause((PENDING,), past_grace=True),))
# Slots whose outcome is recorded: done or marked missed. The effect indicators judge a completed episode's
# adherence by these, filled ÷ settled, so that the figure changes only when a slot's status does (the
# precomputed tables are kept by a fingerprint of the statuses); a slot left pending past its grace counts
# once the sweep has marked it, minutes later.
SETTLED = SlotRule("settled", (Clause((DONE, MISSED)),))


def ratio(filled: int, due: int) -> float | None:
    """Filled ÷ due, or None when nothing was due (no figure rather than 0 % or 100 %)."""
    return filled / due if due else None
