"""The dosage and progression rule of one exercise, as a plan and a template are sent them.

Each field's range and default are those of ``rules.dosage``, so a value one of them refuses the other
refuses alike, with the same code on the same field; the rules between fields are checked by the
services with the same module.
"""

from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import Field

from backend.schemas import InSchema
from selvbetjening.models import PlanExercise
from selvbetjening.rules.dosage import BOUNDS, RULE_DEFAULTS


def _bounded(name: str, description: str | None = None) -> Any:
    """The field ``name`` with its bounds, its default (none for a dosage) and, for a load, its decimals."""
    bound = BOUNDS[name]
    default = RULE_DEFAULTS.get(name)
    if bound.places is None:
        return Field(default=default, ge=bound.low, le=bound.high, description=description)
    return Field(
        default=None if default is None else Decimal(default),
        ge=bound.low,
        le=bound.high,
        max_digits=PlanExercise._meta.get_field(name).max_digits,  # type: ignore[union-attr]
        decimal_places=bound.places,
        description=description,
        json_schema_extra={"multipleOf": 10**-bound.places},
    )


class PrescriptionIn(InSchema):
    """One exercise with the citizen's dosage, instructions and progression rule."""

    exercise_id: UUID
    sets: int | None = _bounded("sets")
    repetitions: int | None = _bounded("repetitions")
    hold_seconds: int | None = _bounded("hold_seconds")
    duration_seconds: int | None = _bounded("duration_seconds")
    load_kg: Decimal | None = _bounded(
        "load_kg", "Only with sets, repetitions, hold_seconds or duration_seconds: a load alone is no dosage."
    )
    instructions: str = Field(default="", max_length=2000, description="Individual instructions for the citizen.")
    progression_after_sessions: int | None = _bounded(
        "progression_after_sessions", "Completed sessions before the dosage may advance; empty: never."
    )
    progression_max_pain: int = _bounded("progression_max_pain", "Highest NRS pain (0–10) that allows advancing.")
    progression_effort_min: int = _bounded("progression_effort_min", "Borg CR10 band (0–10) that allows advancing.")
    progression_effort_max: int = _bounded("progression_effort_max")
    progression_sets_step: int = _bounded("progression_sets_step")
    progression_repetitions_step: int = _bounded("progression_repetitions_step")
    progression_hold_seconds_step: int = _bounded("progression_hold_seconds_step")
    progression_duration_seconds_step: int = _bounded("progression_duration_seconds_step")
    progression_load_kg_step: Decimal = _bounded("progression_load_kg_step")
    stop_pain_level: int = _bounded(
        "stop_pain_level", "NRS pain (1–10) at which training stops and the contact person is alerted."
    )
