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
import http.client
import json
import os
import platform
import re
import statistics
import sys
from datetime import UTC, datetime
from urllib.parse import urlencode

from bench.__main__ import HOST, README, ROOT, RunDatabase, cpu_model, run_environment, run_step, say, serving
from bench.caseload.__main__ import SCENARIO

BENCH_DATABASE = "mestring_bench_triage"
PAGE_SIZE = 25  # the triage page's (staffweb/views/triage.py)
RATIO_TARGET = 1.3
CARD = re.compile(rb'class="triage-card[^"]*" data-citizen="([0-9a-f-]{36})"')
SECTION_BEGIN = "<!-- figures:triage:begin -->"
SECTION_END = "<!-- figures:triage:end -->"


class TriageDatabase(RunDatabase):
    name = BENCH_DATABASE


class Failed(Exception):
    pass


class Client:
    """One keep-alive connection sending the same GET with fixed headers."""

    def __init__(self, port: int, path: str, headers: dict[str, str]) -> None:
        self.port, self.path, self.headers = port, path, headers
        self.connection = http.client.HTTPConnection(HOST, port, timeout=60)

    def get(self) -> tuple[int, bytes, float]:
        import time

        for attempt in range(2):
            try:
                started = time.perf_counter()
                self.connection.request("GET", self.path, headers=self.headers)
                response = self.connection.getresponse()
                body = response.read()
                elapsed = (time.perf_counter() - started) * 1000
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                if attempt:
                    raise
                self.connection.close()
                self.connection = http.client.HTTPConnection(HOST, self.port, timeout=60)
                continue
            if response.will_close:
                self.connection.close()
                self.connection = http.client.HTTPConnection(HOST, self.port, timeout=60)
            return response.status, body, elapsed
        raise Failed("no answer")

    def close(self) -> None:
        self.connection.close()


def _wait_ready(client: Client, process) -> None:
    import time

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise Failed(f"the server exited with {process.returncode}")
        try:
            status, _, _ = client.get()
        except OSError:
            client.close()
            client.connection = http.client.HTTPConnection(HOST, client.port, timeout=60)
            time.sleep(0.5)
            continue
        if status == 200:
            return
        time.sleep(0.5)
    raise Failed("the server did not answer 200 within 90 s")


def _same_page(page: bytes, api: bytes) -> list[str]:
    cards = [match.decode() for match in CARD.findall(page)]
    items = [item["citizen_id"] for item in json.loads(api)["items"]]
    if len(cards) != PAGE_SIZE or cards != items:
        raise Failed(f"the page shows {len(cards)} citizens, the API {len(items)}, or in another order")
    return cards


def measure_round(port: int, process, page_path: str, api_path: str, cookie: str, token: str, samples: int) -> dict:
    page = Client(port, page_path, {"Cookie": cookie})
    api = Client(port, api_path, {"Authorization": f"Bearer {token}"})
    try:
        _wait_ready(page, process)
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
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--citizens", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--samples", type=int, default=100, help="page/API pairs per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--write-readme", action="store_true")
    arguments = parser.parse_args(argv)
    if arguments.samples < 10 or arguments.rounds < 1:
        parser.error("--samples must be at least 10 and --rounds at least 1")

    started = datetime.now(UTC)
    base_url = arguments.database_url or "sqlite:///"
    kind = "sqlite" if base_url.startswith("sqlite:") else "postgresql"
    run_directory = ROOT / "var" / "bench" / f"{started:%Y%m%d-%H%M%S}-triage-{kind}"
    run_directory.mkdir(parents=True, exist_ok=True)
    database = TriageDatabase(base_url, run_directory)
    environment = run_environment(database.url, run_directory) | {"ACCESS_TOKEN_TTL_SECONDS": str(24 * 3600)}
    setup_log = run_directory / "setup.log"
    say(f"== triage benchmark, logs in {run_directory.relative_to(ROOT)}")
    database.create()
    rounds: list[dict] = []
    load_before = os.getloadavg()[0]
    try:
        run_step("migrate", [sys.executable, "manage.py", "migrate", "--noinput"], environment, setup_log, 600)
        run_step(
            f"seed {arguments.citizens} citizens",
            [
                sys.executable,
                "-m",
                "bench.caseload.seed",
                "--out",
                str(run_directory),
                "--citizens",
                str(arguments.citizens),
                "--days",
                str(arguments.days),
            ],
            environment,
            setup_log,
            900,
        )
        run_step(
            "staff web login",
            [sys.executable, "-m", "bench.triage.web_login", "--out", str(run_directory)],
            environment,
            setup_log,
            120,
        )
        database.analyze()
        seeded = json.loads((run_directory / "caseload.json").read_text())
        login = json.loads((run_directory / "web_login.json").read_text())
        team_id = seeded["team_id"]
        page_path = "/staff/?" + urlencode({"team": team_id, "sort": "status"})
        api_path = f"/api/v1/teams/{team_id}/caseload?" + urlencode({"limit": PAGE_SIZE, "sort": "status"})
        for number in range(1, arguments.rounds + 1):
            say(f"== round {number} of {arguments.rounds}")
            with serving(SCENARIO, environment, run_directory / f"triage-{number}.log") as server:
                figures = measure_round(
                    server.port, server.process, page_path, api_path, login["cookie"], login["token"], arguments.samples
                )
            say(f"   page {figures['page_ms']:.1f} ms, API {figures['api_ms']:.1f} ms: ratio {figures['ratio']:.2f}")
            rounds.append(figures)
    except Failed as failure:
        say(f"!! FAILED: {failure}")
        return 1
    finally:
        if not arguments.keep_database:
            database.drop()
    load_after = os.getloadavg()[0]
    meta = (
        f"{started:%Y-%m-%d %H:%M} UTC, {kind}, {platform.machine()} ({cpu_model()}), {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}; {seeded['citizens']:,} citizens in the team, page of {PAGE_SIZE}, "
        f"{arguments.samples} interleaved pairs per round; load average {load_before:.1f} before, "
        f"{load_after:.1f} after (other work was running on the machine)."
    )
    text = markdown(rounds, meta)
    say(text)
    if arguments.write_readme:
        write_readme(text)
    return 0 if max(figure["ratio"] for figure in rounds) <= RATIO_TARGET else 2


if __name__ == "__main__":
    raise SystemExit(main())
