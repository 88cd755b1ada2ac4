"""Growth curves on PostgreSQL: server time per request with 1,000, 10,000 and 100,000 citizens.

    .venv/bin/python -m bench.growth --database-url postgresql://USER@127.0.0.1:PORT/postgres \\
        [--base 1000] [--sizes 1000 10000 100000] [--requests 30] [--rounds 3] [--keep]

1. The smallest database (``mestring_growth_<size>``) is migrated and seeded with ``--base`` citizens by
   ``bench/growth/seed.py`` (the today seeder's citizens, plans and sessions, devices with telemetry
   history, access-log history), and a staff web login is made (``bench/growth/measure.py``).
2. Each larger size is a copy of it (``CREATE DATABASE … TEMPLATE``) to which ``size / base − 1`` copies
   of the base are added inside PostgreSQL, each a municipality of its own; then ``VACUUM (ANALYZE)``.
3. ``bench/growth/measure.py`` asks every database, interleaved round by round (the order turned each
   round), ``--requests`` times per request kind: today, sync, the team caseload (API), the staff Mit team
   page, a telemetry batch of 10 readings, one indicator; every answer must be 200. Server time is the
   in-process time of ``django.test.Client``. Then every statement of every kind is run through
   ``EXPLAIN`` in every database, and the sequential scans of tables of 5,000 rows or more are listed.

Prints the median and p90 per kind and size, the growth (largest ÷ smallest median, per round and over
all) and the findings; writes ``growth.json`` under ``var/bench/growth-<time>/``. The databases are
dropped at the end unless ``--keep``.
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench.__main__ import RESULTS_DIR, ROOT, run_environment

GROWTH_TARGET = 1.5
SEED_TIMEOUT_SECONDS = 3600.0


def administer(url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=5) as connection:
        for statement in statements:
            connection.execute(statement)


def step(description: str, command: list[str], environment: dict[str, str]) -> float:
    print(f"-- {description}", flush=True)
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env=environment, timeout=SEED_TIMEOUT_SECONDS, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{description} failed ({done.returncode})")
    seconds = time.monotonic() - started
    print(f"   {seconds:.0f} s", flush=True)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="a PostgreSQL server on loopback")
    parser.add_argument("--base", type=int, default=1000)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the databases (and reuse kept ones)")
    arguments = parser.parse_args()
    sizes = sorted(arguments.sizes)
    if any(size % arguments.base for size in sizes) or sizes[0] != arguments.base:
        parser.error("the smallest size must be --base, and every size a multiple of it")
    parts = urlsplit(arguments.database_url)
    if parts.hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit("the benchmark only runs against a loopback database")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    names = {size: f"mestring_growth_{size}" for size in sizes}
    run_directory = RESULTS_DIR / f"growth-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    run_directory.mkdir(parents=True, exist_ok=True)
    keep_file = RESULTS_DIR / "growth-kept.json"
    python = sys.executable

    def url_of(name: str) -> str:
        return urlunsplit(parts._replace(path=f"/{name}"))

    kept = json.loads(keep_file.read_text()) if arguments.keep and keep_file.exists() else None
    if kept and kept["sizes"] == sizes and kept["base"] == arguments.base:
        environment = kept["environment"]
        out = Path(kept["out"])
        print(f"-- reusing the kept databases ({out})", flush=True)
    else:
        out = run_directory
        environment = run_environment(url_of(names[sizes[0]]), run_directory)
        # The base's logins are used until the last size is seeded and measured, which takes long.
        environment |= {"ACCESS_TOKEN_TTL_SECONDS": str(24 * 3600), "STAFF_WEB_IDLE_MINUTES": str(24 * 60)}
        timings: dict[str, float] = {}
        administer(admin_url, *(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)" for name in names.values()))
        administer(admin_url, f"CREATE DATABASE {names[sizes[0]]}")
        timings["migrate"] = step("migrate", [python, "manage.py", "migrate", "--noinput", "-v", "0"], environment)
        timings[f"base of {arguments.base}"] = step(
            f"seed the base of {arguments.base} citizens",
            [python, "-m", "bench.growth.seed", "--out", str(out), "--citizens", str(arguments.base)],
            environment,
        )
        step(
            "staff login",
            [python, "-m", "bench.growth.measure", "--out", str(out), "--databases", names[sizes[0]], "--login"],
            environment,
        )
        for size in sizes[1:]:
            administer(admin_url, f"CREATE DATABASE {names[size]} TEMPLATE {names[sizes[0]]}")
            timings[f"copies to {size}"] = step(
                f"add {size // arguments.base - 1} copies for {size} citizens",
                [python, "-m", "bench.growth.seed", "--copies", str(size // arguments.base - 1)],
                {**environment, "DATABASE_URL": url_of(names[size])},
            )
        for size in sizes:
            started = time.monotonic()
            administer(url_of(names[size]), "VACUUM (ANALYZE)")
            timings[f"vacuum analyze {size}"] = time.monotonic() - started
        (out / "seed-timings.json").write_text(json.dumps(timings, indent=1))
        print("seeding (s): " + ", ".join(f"{name} {seconds:.0f}" for name, seconds in timings.items()), flush=True)
        if arguments.keep:
            keep_file.write_text(
                json.dumps({"sizes": sizes, "base": arguments.base, "environment": environment, "out": str(out)})
            )
    try:
        step(
            "measure",
            [
                python,
                "-m",
                "bench.growth.measure",
                "--out",
                str(out),
                "--requests",
                str(arguments.requests),
                "--rounds",
                str(arguments.rounds),
                "--databases",
                *(names[size] for size in sizes),
            ],
            environment,
        )
        result = json.loads((out / "growth.json").read_text())
        (run_directory / "growth.json").write_text(json.dumps(result, indent=1))
        report(result, sizes, names)
    finally:
        if not arguments.keep:
            administer(admin_url, *(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)" for name in names.values()))
    return 0


def report(result: dict, sizes: list[int], names: dict[int, str]) -> None:
    figures = result["figures"]
    smallest, largest = names[sizes[0]], names[sizes[-1]]
    kinds = list(figures[smallest])
    header = "| request | " + " | ".join(f"{size:,} median / p90 ms" for size in sizes)
    print(header + " | growth (median) | growth per round | met |")
    print("| --- | " + " | ".join("---:" for _ in sizes) + " | ---: | --- | --- |")
    for kind in kinds:
        cells = [
            f"{figures[names[size]][kind]['median']:.1f} / {figures[names[size]][kind]['p90']:.1f}" for size in sizes
        ]
        growth = figures[largest][kind]["median"] / figures[smallest][kind]["median"]
        rounds = [medians[largest][kind] / medians[smallest][kind] for medians in result["per_round"]]
        headline = statistics.median(rounds)
        print(
            f"| {kind} | "
            + " | ".join(cells)
            + f" | {growth:.2f} | {headline:.2f} ("
            + ", ".join(f"{value:.2f}" for value in rounds)
            + f") | {'yes' if headline <= GROWTH_TARGET else 'no'} |"
        )
    for size in sizes:
        findings = result["findings"][names[size]]
        print(f"sequential scans of big tables at {size:,}: {len(findings)}")
        for finding in findings:
            print(f"  {finding['kind']}: {finding['table']} ({finding['rows']:.0f} rows): {finding['statement'][:300]}")


if __name__ == "__main__":
    sys.exit(main())
