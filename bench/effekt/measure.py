"""The measuring half of ``python -m bench.effekt``, run in a subprocess with the bench's DATABASE_URL: the
precomputed tables of the year measured computed from nothing (timed), one episode added to that year and
the refresh that picks it up (timed), then interleaved rounds of each indicator against its hand-written
statement; prints one JSON line."""

import json
import os
import platform
import statistics
import sys
import time


def main(rounds: int) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from backend.actors import Actor
    from backend.models import AppSession, Municipality, OrganisationUnit, User
    from backend.timeutil import municipal_today
    from bench.effekt import hand_sql
    from effekt.aggregates import tables_refresh
    from effekt.indicators.definitions import INDICATORS
    from effekt.indicators.sources import Scope
    from effekt.models import AggregateRead, IndicatorTable
    from effekt.periods import Period
    from effekt.selectors import IndicatorQuery, indicator_values
    from selvbetjening.models import Episode

    municipality = Municipality.objects.get(code="999")
    unit = OrganisationUnit.objects.get(municipality=municipality, name="Område 1")
    actor = Actor(user=User.objects.get(username="bench-analyst"), audience=AppSession.Audience.STAFF)
    year = municipal_today().year - 1
    from datetime import date

    period = Period(date(year, 1, 1), date(year, 12, 31), "year")
    query = IndicatorQuery(period=period, unit=unit.pk)
    scope = Scope(municipality_id=municipality.pk, start=period.start, end=period.end)
    IndicatorTable.objects.filter(municipality=municipality).delete()
    started = time.perf_counter()
    full = tables_refresh(municipalities=[municipality], years=[year])
    full_seconds = time.perf_counter() - started
    print(f"  the year's tables computed in {full_seconds:.0f} s ({full.computed})", file=sys.stderr, flush=True)
    _add_episode(unit, date(year, 6, 15))
    started = time.perf_counter()
    incremental = tables_refresh(municipalities=[municipality], years=[year])
    incremental_seconds = time.perf_counter() - started
    started = time.perf_counter()
    idle = tables_refresh(municipalities=[municipality], years=[year])
    idle_seconds = time.perf_counter() - started
    assert idle.computed == 0, idle
    print(f"  a refresh with nothing changed: {idle_seconds:.1f} s", file=sys.stderr, flush=True)
    print(
        f"  refreshed after a change in {incremental_seconds:.0f} s ({incremental.computed} tables)",
        file=sys.stderr,
        flush=True,
    )

    now = timezone.now()
    statements = hand_sql.statements(connection.vendor)
    params = hand_sql.parameters(connection, unit.pk, year, scope.instants(), now)

    orm_times: dict[str, list[float]] = {indicator.key: [] for indicator in INDICATORS}
    sql_times: dict[str, list[float]] = {indicator.key: [] for indicator in INDICATORS}
    set_times: list[float] = []
    failures = []

    def run_orm(indicator):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        result = indicator_values(actor, indicator, query, surface=AggregateRead.Surface.API)
        return time.perf_counter() - started, result

    def run_sql(key):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(statements[key], params)
            row = cursor.fetchone()
        return time.perf_counter() - started, row

    for round_number in range(rounds):
        set_time = 0.0
        for indicator in INDICATORS:
            if round_number % 2 == 0:
                orm_seconds, result = run_orm(indicator)
                sql_seconds, row = run_sql(indicator.key)
            else:
                sql_seconds, row = run_sql(indicator.key)
                orm_seconds, result = run_orm(indicator)
            orm_times[indicator.key].append(orm_seconds)
            sql_times[indicator.key].append(sql_seconds)
            set_time += orm_seconds
            shown, expected = hand_sql.FIGURES[indicator.key].compared(result, row)
            if shown != expected and round_number == 0:
                failures.append(f"{indicator.key}: Mestring {shown}, hand SQL {expected}")
        set_times.append(set_time)
        print(f"  round {round_number + 1}: the set in {set_time:.2f} s", file=sys.stderr, flush=True)

    if failures:
        print("The figures differ:\n" + "\n".join(failures), file=sys.stderr)
        return 1
    filtered = _filtered(actor, query, rounds, connection, unit, year, scope, now)
    if filtered is None:
        return 1
    indicators = []
    for indicator in INDICATORS:
        orm_ms = statistics.median(orm_times[indicator.key]) * 1000
        sql_ms = statistics.median(sql_times[indicator.key]) * 1000
        per_round = [
            orm / sql if sql else float("inf")
            for orm, sql in zip(orm_times[indicator.key], sql_times[indicator.key], strict=True)
        ]
        indicators.append(
            {
                "key": indicator.key,
                "figure": hand_sql.FIGURES[indicator.key].label,
                "orm_ms": orm_ms,
                "sql_ms": sql_ms,
                "ratio": orm_ms / sql_ms if sql_ms else float("inf"),
                "round_ratios": per_round,
            }
        )
    episodes = Episode.objects.filter(team__unit__municipality=municipality).count()
    measured = json.dumps(
        {
            "seeded": f"{episodes:,} episodes, 4 units of 5 teams",
            "unit": unit.name,
            "year": year,
            "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {connection.vendor}",
            "indicators": indicators,
            "set_best_s": min(set_times),
            "set_median_s": statistics.median(set_times),
            "full_refresh_s": full_seconds,
            "tables": full.computed,
            "incremental_s": incremental_seconds,
            "incremental_tables": incremental.computed,
            "stored_tables": full.tables,
            "idle_refresh_s": idle_seconds,
            "filtered": filtered,
            "rounds": rounds,
        }
    )
    # Kept beside the database, so a report can be written again from it (python -m bench.effekt --report).
    var_dir = os.environ.get("VAR_DIR")
    if var_dir:
        with open(os.path.join(var_dir, f"measured-{connection.vendor}.json"), "w") as out:
            out.write(measured + "\n")
    print(measured)
    return 0


def _filtered(actor, query, rounds, connection, unit, year, scope, now):  # type: ignore[no-untyped-def]
    """The set with each kind of single filter (read from its stored table; the condition's for the year and
    for one month), the condition's year against the hand-written statements with the same filter, and that
    two filters at once are refused."""
    from dataclasses import replace
    from datetime import date

    from backend.errors import InvalidInput
    from bench.effekt import hand_sql
    from bench.effekt.seed import CONDITIONS
    from effekt.indicators.definitions import INDICATORS
    from effekt.models import AggregateRead
    from effekt.periods import Period
    from effekt.selectors import indicator_values

    condition = CONDITIONS[0][0]
    june = Period(date(year, 6, 1), date(year, 6, 30), "M06")
    singles = {
        "condition": replace(query, condition=condition),
        "device_type": replace(query, device_type="fall_detector"),
        "age_band": replace(query, age_band="80+"),
        "condition, one month": replace(query, condition=condition, period=june),
    }
    statements = hand_sql.statements(connection.vendor, condition=True)
    params = hand_sql.parameters(connection, unit.pk, year, scope.instants(), now, condition)
    out: dict = {"sets": {}, "condition": []}
    orm: dict[str, list[float]] = {indicator.key: [] for indicator in INDICATORS}
    sql: dict[str, list[float]] = {indicator.key: [] for indicator in INDICATORS}
    for round_number in range(rounds):
        for name, filtered in singles.items():
            total = 0.0
            for indicator in INDICATORS:
                started = time.perf_counter()
                result = indicator_values(actor, indicator, filtered, surface=AggregateRead.Surface.API)
                seconds = time.perf_counter() - started
                total += seconds
                if name != "condition":
                    continue
                orm[indicator.key].append(seconds)
                started = time.perf_counter()
                with connection.cursor() as cursor:
                    cursor.execute(statements[indicator.key], params)
                    row = cursor.fetchone()
                sql[indicator.key].append(time.perf_counter() - started)
                shown, expected = hand_sql.FIGURES[indicator.key].compared(result, row)
                if round_number == 0 and shown != expected:
                    print(f"condition {indicator.key}: Mestring {shown}, hand SQL {expected}", file=sys.stderr)
                    return None
            out["sets"].setdefault(name, []).append(total)
        print(f"  round {round_number + 1} with single filters: {out['sets']}", file=sys.stderr, flush=True)
    for indicator in INDICATORS:
        orm_ms = statistics.median(orm[indicator.key]) * 1000
        sql_ms = statistics.median(sql[indicator.key]) * 1000
        out["condition"].append({"key": indicator.key, "orm_ms": orm_ms, "sql_ms": sql_ms, "ratio": orm_ms / sql_ms})
    try:
        replace(query, condition=condition, age_band="80+")
    except InvalidInput as refused:
        out["two_filters"] = f"refused (422): {refused.detail}"
    else:
        print("two filters at once were not refused", file=sys.stderr)
        return None
    print(f"  two filters at once: {out['two_filters']}", file=sys.stderr, flush=True)
    return out


def _add_episode(unit, ended_on):  # type: ignore[no-untyped-def]
    """One more finished episode with a rated goal in the unit: a change the refresh must pick up."""
    import uuid
    from datetime import UTC, datetime, time, timedelta

    from django.db import transaction

    from backend.models import Citizen, User
    from effekt.history import EpisodeHistory, GoalHistory, histories_write

    citizen = Citizen.objects.filter(municipality=unit.municipality).order_by("pk").first()
    start = ended_on - timedelta(days=30)
    goal = GoalHistory((uuid.UUID(int=1), "Gå"), 3, [(start, -1, 3), (ended_on, 1, 1)])
    with transaction.atomic():
        histories_write(
            [
                EpisodeHistory(
                    citizen,
                    unit.teams.order_by("name").first(),
                    start,
                    start + timedelta(days=42),
                    ended_on,
                    "E1",
                    datetime.combine(start, time(9), UTC),
                    goals=[goal],
                )
            ],
            by=User.objects.get(username="bench-analyst"),
            questionnaire=None,
        )


if __name__ == "__main__":
    raise SystemExit(main(int(sys.argv[1])))
