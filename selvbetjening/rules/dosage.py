"""Dosage and progression: what one exercise of a training plan or a programme template prescribes, and
how its dosage advances after sessions.

Plans and templates hold the same fields (``models.training.Dosage`` and ``ProgressionRule``) and meet
the same rules here, so that an exercise a template holds can go into a plan as it is. ``BOUNDS`` gives
each field's range: the request schemas declare it (``schemas.dosage``) and ``dosage_check`` checks it
again, with the rules between fields, for every entry a service writes. An error names the field inside
the entry after the caller's prefix (``exercises.0`` in a plan, ``items.0`` in a template).

A dosage is an amount (sets, repetitions, a hold or a duration) with an optional load. A load alone
says how heavy, not how much to do, so it is no dosage: the citizen could not tell when an exercise
prescribed as "2 kg" is done, nor could a session of it be counted toward progression.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any, Protocol

from backend.errors import InvalidInput
from selvbetjening.models import BORG_CR10_MAX, NRS_MAX, PlanExercise

Number = int | Decimal


@dataclass(frozen=True)
class Bound:
    """The values a field may hold, both ends included; ``places`` decimals for a load."""

    low: Number
    high: Number
    places: int | None = None

    def problem(self, value: object) -> str | None:
        """What is wrong with ``value`` for this field, or None. A value that is not an int or a Decimal
        (a service's caller may give a float or a text, as the model would take them) is read as a number."""
        try:
            exact = Decimal(value) if isinstance(value, int | Decimal) else Decimal(str(value))
        except InvalidOperation:
            return "must be a number."
        if not exact.is_finite():
            return "must be a number."
        if not self.low <= exact <= self.high:
            return f"must be between {self.low} and {self.high}."
        if self.places is not None and exact % Decimal(1).scaleb(-self.places):
            return f"must have at most {self.places} decimal place{'s' if self.places != 1 else ''}."
        return None


AMOUNT_FIELDS = ("sets", "repetitions", "hold_seconds", "duration_seconds")
DOSAGE_FIELDS = (*AMOUNT_FIELDS, "load_kg")
STEP_FIELDS = {name: f"progression_{name}_step" for name in DOSAGE_FIELDS}
RULE_FIELDS = (
    "progression_after_sessions",
    "progression_max_pain",
    "progression_effort_min",
    "progression_effort_max",
    *STEP_FIELDS.values(),
    "stop_pain_level",
)
PRESCRIPTION_FIELDS = (*DOSAGE_FIELDS, *RULE_FIELDS)

# The most exercises a plan version or a programme template holds: one limit, so that every exercise of a
# template can go into a plan, and a session (which logs at most one entry per exercise) can log them all.
MAX_EXERCISES = 50
EXERCISES_HELP = f"At most {MAX_EXERCISES} exercises, the same limit for a training plan and a programme template."

_LOAD_PLACES = PlanExercise._meta.get_field("load_kg").decimal_places
BOUNDS: dict[str, Bound] = {
    # A dosage's upper bounds are also the most it grows to by itself (``advanced_dosage``).
    "sets": Bound(1, 100),
    "repetitions": Bound(1, 1000),
    "hold_seconds": Bound(1, 3600),
    "duration_seconds": Bound(1, 86_400),
    "load_kg": Bound(Decimal(0), Decimal(500), _LOAD_PLACES),
    "progression_after_sessions": Bound(1, 100),
    "progression_max_pain": Bound(0, NRS_MAX),
    "progression_effort_min": Bound(0, BORG_CR10_MAX),
    "progression_effort_max": Bound(0, BORG_CR10_MAX),
    "progression_sets_step": Bound(0, 10),
    "progression_repetitions_step": Bound(0, 100),
    "progression_hold_seconds_step": Bound(0, 600),
    "progression_duration_seconds_step": Bound(0, 3600),
    "progression_load_kg_step": Bound(Decimal(0), Decimal(50), _LOAD_PLACES),
    # Pain 0 is no pain; a rule that stops training at no pain would stop every session.
    "stop_pain_level": Bound(1, NRS_MAX),
}
# What an entry that leaves a rule field out gets: the model's default (never advance; the usual band).
RULE_DEFAULTS: dict[str, Any] = {
    field.name: field.get_default() for field in PlanExercise._meta.concrete_fields if field.name in RULE_FIELDS
}


def entry_complete(entry: Mapping[str, Any]) -> dict[str, Any]:
    """Every dosage and rule field of an entry: a dosage left out or null is not prescribed, a rule field
    left out or null takes its default."""
    complete = {name: entry.get(name) for name in DOSAGE_FIELDS}
    for name in RULE_FIELDS:
        value = entry.get(name)
        complete[name] = RULE_DEFAULTS[name] if value is None else value
    return complete


def dosage_check(entry: Mapping[str, Any], *, prefix: str) -> None:
    """The entry (as ``entry_complete`` gives it) meets every dosage and progression rule, or 422
    naming ``<prefix>.<field>`` for the first one it breaks."""
    for name, bound in BOUNDS.items():
        value = entry.get(name)
        problem = None if value is None else bound.problem(value)
        if problem is not None:
            raise InvalidInput(f"{prefix}.{name}", problem)
    if all(entry.get(name) is None for name in AMOUNT_FIELDS):
        raise InvalidInput(
            f"{prefix}.sets",
            "give at least one of sets, repetitions, hold_seconds or duration_seconds (load_kg only with one of them).",
        )
    if entry["progression_effort_min"] > entry["progression_effort_max"]:
        raise InvalidInput(f"{prefix}.progression_effort_max", "must not be below progression_effort_min.")
    if entry["stop_pain_level"] <= entry["progression_max_pain"]:
        raise InvalidInput(f"{prefix}.stop_pain_level", "must be above progression_max_pain.")
    if entry.get("progression_after_sessions") is not None and not any(
        entry.get(name) is not None and entry[step] for name, step in STEP_FIELDS.items()
    ):
        raise InvalidInput(
            f"{prefix}.progression_after_sessions", "needs a step above 0 for a dosage the exercise has."
        )


# --- Progression ---------------------------------------------------------------------------------

ADVANCED = "criteria_met"
NOT_ENOUGH_SESSIONS = "not_enough_sessions"
PAIN_ABOVE_THRESHOLD = "pain_above_threshold"
EFFORT_OUTSIDE_BAND = "effort_outside_band"
NOT_REPORTED = "not_reported"


class Prescription(Protocol):
    """A plan's exercise as the progression rule reads it."""

    progression_after_sessions: int | None
    progression_max_pain: int
    progression_effort_min: int
    progression_effort_max: int


class Session(Protocol):
    """A logged session as the progression rule reads it."""

    pain_before: int | None
    pain_after: int | None
    effort: int | None


def dosage_of(item: object) -> tuple[Number | None, ...]:
    """The dosage of a plan's exercise, to tell whether two versions prescribe the same."""
    return tuple(getattr(item, name) for name in DOSAGE_FIELDS)


def reported_pain(session: Session) -> int | None:
    """The pain a session reports: after it, else before it."""
    return session.pain_after if session.pain_after is not None else session.pain_before


def progression_verdict(rule: Prescription, recent: Sequence[Session]) -> str:
    """Why the dosage holds, or ``ADVANCED`` when every one of the last N sessions (``recent``, at most
    N of them) allows it: pain at or below the limit and effort within the band, both reported."""
    needed = rule.progression_after_sessions or 0
    if len(recent) < needed:
        return NOT_ENOUGH_SESSIONS
    pains = [reported_pain(session) for session in recent]
    efforts = [session.effort for session in recent]
    if any(pain is not None and pain > rule.progression_max_pain for pain in pains):
        return PAIN_ABOVE_THRESHOLD
    band = range(rule.progression_effort_min, rule.progression_effort_max + 1)
    if any(effort is not None and effort not in band for effort in efforts):
        return EFFORT_OUTSIDE_BAND
    if any(pain is None for pain in pains) or any(effort is None for effort in efforts):
        return NOT_REPORTED
    return ADVANCED


def advanced_dosage(item: object) -> dict[str, Number]:
    """The dosage one step on: each amount or load the exercise has grows by its step, up to its bound."""
    changed: dict[str, Number] = {}
    for name in DOSAGE_FIELDS:
        value = getattr(item, name)
        if value is None:
            continue
        changed[name] = min(value + getattr(item, STEP_FIELDS[name]), BOUNDS[name].high)
    return changed


def dosage_out(row: Mapping[str, Any] | object) -> dict[str, Any]:
    """The dosage of a plan's exercise or of what a session did, from a model or a mapping of its
    columns: the amounts as stored and the load in kilograms as a number (JSON has no decimals)."""
    get = row.__getitem__ if isinstance(row, Mapping) else partial(getattr, row)
    load_kg = get("load_kg")
    return {**{name: get(name) for name in AMOUNT_FIELDS}, "load_kg": None if load_kg is None else float(load_kg)}


def prescription_out(item: object) -> dict[str, Any]:
    """``dosage_out`` and the progression rule of a plan's exercise, the load step as a number too."""
    rule = {name: getattr(item, name) for name in RULE_FIELDS}
    load_step = rule["progression_load_kg_step"]
    return {**dosage_out(item), **rule, "progression_load_kg_step": None if load_step is None else float(load_step)}
