"""Triage page benchmark: the staff web app's "Mit team" page (``GET /staff/``) against the API's team caseload
(``GET /api/v1/teams/{id}/caseload``) for the same page of data, served as production serves both, in one run.

    .venv/bin/python -m bench.triage [--database-url URL] [--citizens 1000] [--samples 100] [--rounds 5]
                                     [--write-readme]

A fresh database (a new SQLite file under ``var/bench/<run>/``, or ``mestring_bench_triage`` on the PostgreSQL
server of the URL, dropped at the end), migrated and seeded by ``bench/caseload/seed.py``: one team with 1,000
citizens in training, 30 days of slots and sessions. One therapist of the team gets a bearer token (the seed's)
and a staff web login (``bench/triage/web_login.py``: an ``AppSession`` of the staff audience in a Django session,
as the login page makes it). Per round, one gunicorn with ``deploy/systemd/mestring-web.service``'s flags:

1. **check**: both answer 200 with the same 25 citizens in the same order (the page's cards, the API's items);
2. **interleaved**: ``--samples`` pairs, the page then the API, each one request over its own keep-alive
   connection, so both see the same machine at the same moments;
3. the round's ratio: median page time ÷ median API time. The headline is each round's ratio and their median;
   the target is at most 1.3.

Both write one access-log row per citizen shown. Times are measured by the client on loopback (request sent to
response read), which adds the same transport to both sides.
"""

import argparse
import json
import os
import platform
import re
import statistics
import sys
from datetime import UTC, datetime
from urllib.parse import urlencode

from bench.__main__ import README, RunDatabase, cpu_model, git_revision, run_step, say, serving
from bench.caseload.__main__ import SCENARIO, Endpoint, Failed, Prepared, prepare, seed_arguments, wait_ready

BENCH_DATABASE = "mestring_bench_triage"
PAGE_SIZE = 25  # the triage page's (staffweb/views/triage.py)
RATIO_TARGET = 1.3
CARD = re.compile(rb'class="triage-card[^"]*" data-citizen="([0-9a-f-]{36})"')
SECTION_BEGIN = "<!-- figures:triage:begin -->"
SECTION_END = "<!-- figures:triage:end -->"


class TriageDatabase(RunDatabase):
    name = BENCH_DATABASE


def _same_page(page: bytes, api: bytes) -> list[str]:
    cards = [match.decode() for match in CARD.findall(page)]
    items = [item["citizen_id"] for item in json.loads(api)["items"]]
    if len(cards) != PAGE_SIZE or cards != items:
        raise Failed(f"the page shows {len(cards)} citizens, the API {len(items)}, or in another order")
    return cards


def measure_round(port: int, process, page_path: str, api_path: str, cookie: str, token: str, samples: int) -> dict:
    page = Endpoint(port, token, page_path, {"Cookie": cookie})
    api = Endpoint(port, token, api_path)
    try:
        wait_ready(page, process, 90)
        for _ in range(10):  # warm both
            page.get()
            api.get()
        page_status, page_body, _ = page.get()
        api_status, api_body, _ = api.get()
        if page_status != 200 or api_status != 200:
            raise Failed(f"page {page_status}, API {api_status}")
        _same_page(page_body, api_body)
        page_times, api_times = [], []
        for index in range(samples):
            # Alternate which goes first, so neither always follows the other's cache misses.
            order = (page, api) if index % 2 == 0 else (api, page)
            for client in order:
                status, _, elapsed = client.get()
                if status != 200:
                    raise Failed(f"{client.path} answered {status}")
                (page_times if client is page else api_times).append(elapsed)
    finally:
        page.close()
        api.close()
    page_median, api_median = statistics.median(page_times), statistics.median(api_times)
    return {
        "page_ms": page_median,
        "api_ms": api_median,
        "page_p90_ms": statistics.quantiles(page_times, n=10)[-1],
        "api_p90_ms": statistics.quantiles(api_times, n=10)[-1],
        "ratio": page_median / api_median,
    }


def markdown(rounds: list[dict], meta: str) -> str:
    lines = [
        meta,
        "",
        "| round | page median ms | API median ms | page p90 ms | API p90 ms | page ÷ API |",
        "|---|---|---|---|---|---|",
    ]
    for number, figures in enumerate(rounds, 1):
        lines.append(
            f"| {number} | {figures['page_ms']:.1f} | {figures['api_ms']:.1f} | {figures['page_p90_ms']:.1f} | "
            f"{figures['api_p90_ms']:.1f} | **{figures['ratio']:.2f}** |"
        )
    median = statistics.median(figure["ratio"] for figure in rounds)
    worst = max(figure["ratio"] for figure in rounds)
    verdict = "within" if worst <= RATIO_TARGET else "NOT within"
    lines += [
        "",
        f"Median of the rounds' ratios **{median:.2f}**, worst round {worst:.2f}: {verdict} the target "
        f"of {RATIO_TARGET}× in every round.",
    ]
    return "\n".join(lines)


def write_readme(text: str) -> None:
    content = README.read_text()
    start, end = content.index(SECTION_BEGIN) + len(SECTION_BEGIN), content.index(SECTION_END)
    README.write_text(content[:start] + "\n" + text + "\n" + content[end:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.triage", description=__doc__.splitlines()[0])
    seed_arguments(parser)
    parser.add_argument("--samples", type=int, default=100, help="page/API pairs per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--write-readme", action="store_true")
    arguments = parser.parse_args(argv)
    if arguments.samples < 10 or arguments.rounds < 1:
        parser.error("--samples must be at least 10 and --rounds at least 1")

    started = datetime.now(UTC)
    rounds: list[dict] = []
    load_before = os.getloadavg()[0]
    prepared: Prepared | None = None
    try:
        prepared = prepare("triage", TriageDatabase, arguments, ["mixed"], started)
        run_step(
            "staff web login",
            [sys.executable, "-m", "bench.triage.web_login", "--out", str(prepared.directory)],
            prepared.environment,
            prepared.setup_log,
            120,
        )
        login = json.loads((prepared.directory / "web_login.json").read_text())
        team_id = prepared.seeded["team_id"]
        page_path = "/staff/?" + urlencode({"team": team_id, "sort": "status"})
        api_path = f"/api/v1/teams/{team_id}/caseload?" + urlencode({"limit": PAGE_SIZE, "sort": "status"})
        for number in range(1, arguments.rounds + 1):
            say(f"== round {number} of {arguments.rounds}")
            with serving(SCENARIO, prepared.environment, prepared.directory / f"triage-{number}.log") as server:
                figures = measure_round(
                    server.port, server.process, page_path, api_path, login["cookie"], login["token"], arguments.samples
                )
            say(f"   page {figures['page_ms']:.1f} ms, API {figures['api_ms']:.1f} ms: ratio {figures['ratio']:.2f}")
            rounds.append(figures)
    except Failed as failure:
        say(f"!! FAILED: {failure}")
        return 1
    finally:
        if prepared is not None and not arguments.keep_database:
            prepared.database.drop()
    load_after = os.getloadavg()[0]
    meta = (
        f"{started:%Y-%m-%d %H:%M} UTC, {prepared.kind}, {platform.machine()} ({cpu_model()}), {os.cpu_count()} "
        f"CPUs, Python {platform.python_version()}, commit {git_revision()}; {prepared.seeded['citizens']:,} "
        f"citizens in the team, page of {PAGE_SIZE}, {arguments.samples} interleaved pairs per round; load average "
        f"{load_before:.1f} before, {load_after:.1f} after (other work was running on the machine)."
    )
    text = markdown(rounds, meta)
    say(text)
    if arguments.write_readme:
        write_readme(text)
    return 0 if max(figure["ratio"] for figure in rounds) <= RATIO_TARGET else 2


if __name__ == "__main__":
    raise SystemExit(main())
