"""The standard indicator set for one unit and one month against the same for its year, side by side in one
run, on a database ``python -m bench.effekt --keep`` has seeded and computed the tables of (run after it):

    DATABASE_URL=sqlite:///var/bench/effekt/effekt.sqlite3 DEBUG=1 .venv/bin/python -m bench.effekt.months 5

Per round and indicator (the order of month and year alternating): ``indicator_values`` for the unit and
last year, and for the unit and last June, both read from the stored tables (no filter); then the same
month with a condition, read from the condition's stored table (year, quarters and months suppressed
together). Printed: the medians of each set and their ratios to the year's set."""

import os
import statistics
import sys
import time
from datetime import date


def main(rounds: int) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.utils import timezone

    from backend.actors import Actor
    from backend.models import AppSession, Municipality, OrganisationUnit, User
    from backend.timeutil import municipal_today
    from effekt.indicators.definitions import INDICATORS
    from effekt.models import AggregateRead
    from effekt.periods import Period, year_period
    from effekt.selectors import IndicatorQuery, indicator_values
    from selvbetjening.models import Episode, Goal

    municipality = Municipality.objects.get(code="999")
    unit = OrganisationUnit.objects.get(municipality=municipality, name="Område 1")
    actor = Actor(user=User.objects.get(username="bench-analyst"), audience=AppSession.Audience.STAFF)
    year = municipal_today().year - 1
    condition = Goal.objects.filter(episode__team__unit=unit).values_list("condition_code", flat=True).first()
    queries = {
        "year": IndicatorQuery(period=year_period(year), unit=unit.pk),
        "month": IndicatorQuery(period=Period(date(year, 6, 1), date(year, 6, 30), "M06"), unit=unit.pk),
        "month, condition": IndicatorQuery(
            period=Period(date(year, 6, 1), date(year, 6, 30), "M06"), unit=unit.pk, condition=condition
        ),
    }
    times: dict[str, list[float]] = {name: [] for name in queries}
    stored = {name: 0 for name in queries}  # results read from a stored table: computed before the run
    began = timezone.now()
    for round_number in range(rounds):
        order = list(queries) if round_number % 2 == 0 else [*list(queries)[:2][::-1], list(queries)[2]]
        for name in order:
            started = time.perf_counter()
            for indicator in INDICATORS:
                result = indicator_values(actor, indicator, queries[name], surface=AggregateRead.Surface.API)
                stored[name] += result.computed_at < began
            times[name].append(time.perf_counter() - started)
        shown = ", ".join(f"{name} {measured[-1]:.2f} s" for name, measured in times.items())
        print(f"  round {round_number + 1}: {shown}", file=sys.stderr)
    episodes = Episode.objects.filter(team__unit__municipality=municipality).count()
    year_median = statistics.median(times["year"])
    print(f"{episodes:,} episodes, unit {unit.name}, {year}, {rounds} rounds; the standard set (10 indicators):")
    for name, measured in times.items():
        median = statistics.median(measured)
        print(
            f"  {name}: median {median:.3f} s, best {min(measured):.3f} s, {median / year_median:.2f}× the year's;"
            f" {stored[name]} of {len(measured) * len(INDICATORS)} read from stored tables"
        )
    return 0


def evaluation(rounds: int) -> int:
    """The whole municipality's table of each indicator for last year, computed and suppressed as the
    refresh computes it (no filter): the medians per indicator and their sum, for comparing the periods one
    table holds (run with another checkout's ``effekt`` first on ``PYTHONPATH`` for the other periods)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from backend.models import Municipality
    from backend.timeutil import municipal_today
    from effekt.indicators import evaluator
    from effekt.indicators.definitions import INDICATORS
    from effekt.indicators.evaluator import Filters, evaluate_periods
    from effekt.indicators.sources import Scope
    from effekt.selectors import organisation_of

    municipality = Municipality.objects.get(code="999")
    organisation = organisation_of(municipality)
    year = municipal_today().year - 1
    scope = Scope(municipality_id=municipality.pk, start=date(year, 1, 1), end=date(year, 12, 31))
    rows = {indicator.key: indicator.source(scope) for indicator in INDICATORS}
    medians = {}
    for indicator in INDICATORS:
        measured = []
        for _ in range(rounds):
            copied = [dict(row) for row in rows[indicator.key]]
            started = time.perf_counter()
            tables = evaluate_periods(indicator, scope, organisation, Filters(), rows=copied)
            measured.append(time.perf_counter() - started)
        medians[indicator.key] = statistics.median(measured)
        print(f"  {indicator.key}: {medians[indicator.key]:.2f} s ({len(tables)} periods)", file=sys.stderr)
    print(f"{evaluator.__file__}: the ten tables in {sum(medians.values()):.1f} s (sum of the medians)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "evaluate":
        sys.exit(evaluation(int(sys.argv[2]) if len(sys.argv) > 2 else 3))
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5))
