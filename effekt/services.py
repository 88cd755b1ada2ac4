"""Writes of the effect layer: theories of change, and taking part in the cross-municipality benchmark."""

from decimal import Decimal
from typing import Any

from django.db import transaction

from backend.errors import InvalidInput
from backend.models import Municipality, User
from effekt.indicators.definitions import BY_KEY
from effekt.models import BenchmarkParticipation, Outcome, TheoryOfChange

MAX_OUTCOMES = 10


@transaction.atomic
def theory_of_change_create(
    *,
    municipality: Municipality,
    by: User,
    title: str,
    intervention: str,
    activities: str,
    outputs: str,
    assumptions: str,
    outcomes: list[dict[str, Any]],
) -> TheoryOfChange:
    """A theory of change with its outcomes in the order given; each outcome names a standard indicator and,
    optionally, one of its measures (422 naming the outcome otherwise)."""
    if not outcomes or len(outcomes) > MAX_OUTCOMES:
        raise InvalidInput("outcomes", f"must hold 1 to {MAX_OUTCOMES} outcomes.")
    for position, outcome in enumerate(outcomes):
        indicator = BY_KEY.get(outcome["indicator_key"])
        if indicator is None:
            raise InvalidInput(f"outcomes.{position}.indicator_key", "is not a standard indicator.")
        measure_key = outcome.get("measure_key") or ""
        if measure_key and measure_key not in {measure.key for measure in indicator.measures}:
            raise InvalidInput(f"outcomes.{position}.measure_key", f"is not a measure of {indicator.key}.")
    theory = TheoryOfChange.objects.create(
        municipality=municipality,
        title=title,
        intervention=intervention,
        activities=activities,
        outputs=outputs,
        assumptions=assumptions,
        created_by=by,
    )
    Outcome.objects.bulk_create(
        Outcome(
            theory=theory,
            position=position,
            term=outcome["term"],
            description=outcome["description"],
            indicator_key=outcome["indicator_key"],
            measure_key=outcome.get("measure_key") or "",
            target=None if outcome.get("target") is None else Decimal(str(outcome["target"])),
        )
        for position, outcome in enumerate(outcomes)
    )
    return theory


def benchmark_join(*, municipality: Municipality, by: User) -> BenchmarkParticipation:
    """The municipality takes part in the benchmark (again: nothing changes)."""
    participation, _ = BenchmarkParticipation.objects.get_or_create(
        municipality=municipality, defaults={"joined_by": by}
    )
    return participation


def benchmark_leave(*, municipality: Municipality) -> None:
    """The municipality no longer takes part: its figures leave the comparison, and it sees no other's."""
    BenchmarkParticipation.objects.filter(municipality=municipality).delete()
