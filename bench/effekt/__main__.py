"""Effect indicators at scale: the standard indicator set for one unit and year, over a municipality with
100,000 episodes in three years, each indicator side by side with one hand-written SQL statement computing
the same figure for the same unit and year.

    .venv/bin/python -m bench.effekt [--episodes 100000] [--rounds 5] [--database-url URL] [--keep]
                                     [--write-readme]

A fresh database (a new SQLite file under ``var/bench/effekt/``, or ``mestring_bench_effekt`` created on
the PostgreSQL server of the URL and dropped at the end) is migrated by ``manage.py migrate`` and seeded by
``bench/effekt/seed.py``. The precomputed indicator tables of the year measured are computed from nothing
(``effekt.aggregates.tables_refresh``, timed), one finished episode is added to the unit in that year and
the refresh that picks it up is timed. Then, per round, for each indicator in turn: the indicator through
``effekt.selectors.indicator_values`` (as the API answers it: the unit's cells read from the precomputed
table, computed for the whole municipality, the year and its quarters, suppressed together; the aggregate
read logged) and the hand-written statement
(``bench/effekt/hand_sql.py``: the unit's figure only), in alternating order from round to round, so both
see the same machine. The figures of the two must agree (citizens and the measure, to 2 decimals), or the
run fails. Reported: per indicator the median of the rounds and the ratio of medians; the whole set's time
per round (the sum of the ten indicators, best and median).
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "bench" / "README.md"
BENCH_DATABASE = "mestring_bench_effekt"
SECTION_TITLE = "## Effect indicators: 100,000 episodes, against hand-written SQL (issue 17)"
SET_TARGET_SECONDS = 2.0
RATIO_TARGET = 2.0


def _database_url(args: argparse.Namespace, run_dir: Path) -> tuple[str, str]:
    if args.database_url:
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(args.database_url)
        return urlunsplit(parts._replace(path=f"/{BENCH_DATABASE}")), "postgresql"
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / "effekt.sqlite3"
    if path.exists() and not args.keep:
        path.unlink()
    return f"sqlite:///{path}", "sqlite"


def _create_postgres_database(admin_url: str, *, drop: bool) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}"')
        if not drop:
            connection.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--keep", action="store_true", help="reuse (SQLite) or keep (PostgreSQL) the database")
    parser.add_argument("--write-readme", action="store_true")
    parser.add_argument(
        "--report", metavar="JSON", help="only write the report of a run's var/bench/effekt/measured-<vendor>.json"
    )
    args = parser.parse_args()
    if args.report:
        measured = Path(args.report).read_text()
        vendor = "postgresql" if "postgresql" in Path(args.report).name else "sqlite"
        import json

        rounds = json.loads(measured)["rounds"]
        report = _report(measured, vendor=vendor, episodes=args.episodes, rounds=rounds)
        print(report)
        if args.write_readme:
            _write_readme(report)
        return 0

    run_dir = ROOT / "var" / "bench" / "effekt"
    url, vendor = _database_url(args, run_dir)
    environment = {**os.environ, "DATABASE_URL": url, "DEBUG": "1", "VAR_DIR": str(run_dir)}
    environment.pop("REDIS_URL", None)
    fresh = not (args.keep and vendor == "sqlite" and (run_dir / "effekt.sqlite3").exists())
    if vendor == "postgresql" and fresh:
        _create_postgres_database(args.database_url, drop=False)
    try:
        if fresh:
            print(f"migrating a fresh {vendor} database …", flush=True)
            subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=environment, check=True)
            print(f"seeding {args.episodes:,} episodes …", flush=True)
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "bench.effekt.seed", str(args.episodes)], cwd=ROOT, env=environment, check=True
            )
            print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
        completed = subprocess.run(
            [sys.executable, "-m", "bench.effekt.measure", str(args.rounds)],
            cwd=ROOT,
            env=environment,
            check=False,
            capture_output=True,
            text=True,
        )
        sys.stderr.write(completed.stderr)
        if completed.returncode != 0:
            print(completed.stdout)
            print("THE MEASUREMENT FAILED: see above.", file=sys.stderr)
            return 1
        report = _report(completed.stdout, vendor=vendor, episodes=args.episodes, rounds=args.rounds)
        print(report)
        if args.write_readme:
            _write_readme(report)
        return 0
    finally:
        if vendor == "postgresql" and not args.keep:
            _create_postgres_database(args.database_url, drop=True)


def _report(measured: str, *, vendor: str, episodes: int, rounds: int) -> str:
    import json

    data: dict[str, Any] = json.loads(measured.strip().splitlines()[-1])
    lines = [
        f"### {'SQLite' if vendor == 'sqlite' else 'PostgreSQL'}",
        "",
        f"{episodes:,} episodes over three years ({data['seeded']}); unit {data['unit']!r}, year {data['year']}; "
        f"{rounds} interleaved rounds; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {data['machine']}.",
        "",
        "| indicator | figure checked | Mestring (median ms) | hand SQL (median ms) | ratio of medians "
        "| per-round ratios (median, highest) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in data["indicators"]:
        rounds_ = row["round_ratios"]
        lines.append(
            f"| `{row['key']}` | {row['figure']} | {row['orm_ms']:.1f} | {row['sql_ms']:.1f} | {row['ratio']:.2f}× "
            f"| {statistics.median(rounds_):.2f}×, {max(rounds_):.2f}× |"
        )
    best, median = data["set_best_s"], data["set_median_s"]
    verdict = "within" if best <= SET_TARGET_SECONDS else "over"
    worst = max(row["ratio"] for row in data["indicators"])
    lines += [
        "",
        f"The whole standard set for the unit and year: best round {best:.2f} s, median {median:.2f} s "
        f"({verdict} the 2 s target by the best round). Indicators within {RATIO_TARGET:.0f}× of their "
        f"hand-written statement: {sum(row['ratio'] <= RATIO_TARGET for row in data['indicators'])} of "
        f"{len(data['indicators'])} (the highest ratio {worst:.2f}×). Every figure agreed with its statement.",
        "",
        f"Precomputing: the year's tables of {data['tables']} indicators ({data.get('stored_tables', '?')} "
        f"tables: without filters and per single filter) computed from nothing in {data['full_refresh_s']:.0f} s; "
        f"after one finished episode was added to the year, the refresh recomputed {data['incremental_tables']} "
        f"indicators' tables in {data['incremental_s']:.0f} s; a refresh with nothing changed (reading the "
        f"fingerprints only) took {data.get('idle_refresh_s', float('nan')):.0f} s.",
    ]
    filtered = data.get("filtered")
    if filtered:
        sets = ", ".join(
            f"{name} {min(times):.2f} s (median {statistics.median(times):.2f} s)"
            for name, times in filtered["sets"].items()
        )
        lines += [
            "",
            f"With one filter (read from its table), the whole set by the best round: {sets}. Two filters at "
            f"once (condition and age band): {filtered.get('two_filters', 'not measured')}.",
            "",
            "With the condition filter, against the hand-written statements with the same filter:",
            "",
            "| indicator | Mestring (median ms) | hand SQL (median ms) | ratio of medians |",
            "|---|---:|---:|---:|",
            *(
                f"| `{row['key']}` | {row['orm_ms']:.1f} | {row['sql_ms']:.1f} | {row['ratio']:.2f}× |"
                for row in filtered["condition"]
            ),
        ]
    return "\n".join(lines)


def _write_readme(report: str) -> None:
    text = README.read_text()
    start = text.find(SECTION_TITLE)
    if start < 0:
        raise SystemExit(f"{README} has no section {SECTION_TITLE!r}: write it first")
    marker = "### " + report.splitlines()[0].removeprefix("### ")
    section_end = text.find("\n## ", start + 1)
    section_end = len(text) if section_end < 0 else section_end
    section = text[start:section_end]
    at = section.find(marker)
    if at >= 0:
        following = section.find("\n### ", at + 1)
        section = section[:at] + report + "\n" + (section[following:] if following >= 0 else "\n")
    else:
        section = section.rstrip("\n") + "\n\n" + report + "\n\n"
    README.write_text(text[:start] + section + text[section_end:])


if __name__ == "__main__":
    raise SystemExit(main())
