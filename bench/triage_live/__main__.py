"""Live triage benchmark: how soon the therapist's open triage page shows a session the citizen has just
logged (issue 14: within 2 s, without a reload).

    .venv/bin/python -m bench.triage_live [--rounds 20] [--write-readme]

A throw-away embedded setup as ``bench.app_today`` makes it (SQLite in a temporary ``VAR_DIR``, ``migrate``,
``seed_demo``, borger1 given a plan of two exercises by ``bench/app_today/seed.py`` and a bearer token of the
citizen app by ``bench/triage_live/seed.py``), served by ``manage.py serve`` (uvicorn: HTTP, the websocket
stream and the worker in one process, as ``make run``) on a free loopback port. In Chromium
(/usr/bin/chromium, Playwright, 1280×800) the demo therapist logs in through the staff login form (password
and one-time code) and opens "Mit team"; the page's script follows the team's events on the websocket.

Per round the benchmark posts one session of borger1 to ``POST /api/v1/me/session-logs`` with the bearer
token, as the app does, and takes the time on the machine's wall clock just before the request is sent.
The page records, on the same clock (``Date.now()``), each moment htmx has swapped a new rendering of the
triage list in. The round's latency is from the request's start to the first swap after it whose card of
borger1 shows the session's effect: the first round's session reports pain 9 (the stop level), so its card
must say "Smertealarm"; every round's card must have been rendered after the session was stored (the
swap's content is the server's list after its own access check). Rounds are a second apart.
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.app_today.__main__ import CHROMIUM, Failed, embedded_env, run_step, say, serving, spread

ROOT = Path(__file__).resolve().parent.parent.parent
README = ROOT / "bench" / "README.md"
TARGET_MS = 2000.0
SECTION_BEGIN = "<!-- figures:triage-live:begin -->"
SECTION_END = "<!-- figures:triage-live:end -->"
# Every swap of the live list, on the wall clock, with the text of borger1's card at that moment.
SWAPS = """(citizen) => {
    window.triageSwaps = [];
    document.body.addEventListener("htmx:afterSettle", () => {
        const card = document.querySelector(`.triage-card[data-citizen='${citizen}']`);
        window.triageSwaps.push({at: Date.now(), card: card ? card.innerText : ""});
    });
}"""


def log_in_as_therapist(page: Any, base: str, login: dict[str, str]) -> None:
    import pyotp

    page.goto(base + "/staff/")
    if not page.url.startswith(base + "/staff/log-ind/"):
        raise Failed(f"/staff/ did not lead to the login page but to {page.url}")
    page.fill("#id_username", login["username"])
    page.fill("#id_password", login["password"])
    page.fill("#id_totp_code", pyotp.TOTP(login["totp_secret"]).now())
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/staff/")
    page.wait_for_selector("html[data-live=on]")


def post_session(base: str, citizen: dict[str, Any], pain_after: int) -> tuple[float, int]:
    """The session's request start on the wall clock (ms) and its status."""
    body = {
        "id": str(uuid.uuid4()),
        "training_plan_id": citizen["plan_id"],
        "performed_at": (datetime.now(UTC) - timedelta(seconds=5)).isoformat(),
        "pain_before": 2,
        "pain_after": pain_after,
        "effort": 5,
        "exercises": citizen["exercises"],
    }
    request = urllib.request.Request(
        base + "/api/v1/me/session-logs",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {citizen['token']}", "Content-Type": "application/json"},
        method="POST",
    )
    started = time.time() * 1000
    with urllib.request.urlopen(request, timeout=60) as response:
        return started, response.status


def measure(base: str, citizen: dict[str, Any], rounds: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    latencies: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="da-DK")
            context.set_default_timeout(60_000)
            page = context.new_page()
            log_in_as_therapist(page, base, citizen["therapist"])
            card = page.locator(f".triage-card[data-citizen='{citizen['citizen_id']}']")
            card.wait_for()
            page.evaluate(SWAPS, citizen["citizen_id"])
            for number in range(1, rounds + 1):
                started, status = post_session(base, citizen, pain_after=9 if number == 1 else 3)
                if status != 201:
                    raise Failed(f"round {number}: the session was answered {status}")
                page.wait_for_function(
                    "(started) => window.triageSwaps.some((swap) => swap.at >= started)", arg=started, timeout=30_000
                )
                swaps = page.evaluate("window.triageSwaps")
                first = next(swap for swap in swaps if swap["at"] >= started)
                if number == 1 and "Smertealarm" not in first["card"]:
                    # The first swap may have rendered before the alert was stored: wait for the one that has it.
                    page.wait_for_function(
                        "([started]) => window.triageSwaps.some((swap) => swap.at >= started"
                        " && swap.card.includes('Smertealarm'))",
                        arg=[started],
                        timeout=30_000,
                    )
                    swaps = page.evaluate("window.triageSwaps")
                    first = next(s for s in swaps if s["at"] >= started and "Smertealarm" in s["card"])
                latency = first["at"] - started
                latencies.append(latency)
                say(f"  round {number}: card swapped in {latency:.0f} ms after the session was sent")
                page.evaluate("window.triageSwaps = []")
                page.wait_for_timeout(1000)
        finally:
            browser.close()
    return latencies


def markdown(latencies: list[float], meta: str) -> str:
    return "\n".join(
        [
            SECTION_BEGIN,
            meta,
            "",
            "From the session's request start to the open triage page showing the new list (ms):",
            "",
            "| rounds | median | p90 | min | max | within 2,000 ms |",
            "|---:|---:|---:|---:|---:|---:|",
            f"| {len(latencies)} | {spread(latencies, TARGET_MS)} |",
            "",
            "Per round: " + ", ".join(f"{value:.0f}" for value in latencies) + ".",
            SECTION_END,
        ]
    )


def write_readme(text: str) -> None:
    readme = README.read_text()
    begin, end = readme.find(SECTION_BEGIN), readme.find(SECTION_END)
    if begin < 0 or end < 0:
        raise SystemExit(f"{README} has no {SECTION_BEGIN} … {SECTION_END} block")
    README.write_text(readme[:begin] + text + readme[end + len(SECTION_END) :])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.triage_live", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--write-readme", action="store_true")
    arguments = parser.parse_args(argv)
    if arguments.rounds < 1:
        parser.error("--rounds must be at least 1")
    if not CHROMIUM.exists():
        parser.error(f"needs {CHROMIUM} (apt-get install chromium)")

    started = datetime.now(UTC)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="mestring-bench-triage-live-") as scratch:
        env = embedded_env(VAR_DIR=scratch)
        try:
            run_step("migrate", [sys.executable, "manage.py", "migrate", "--noinput"], env)
            run_step("seed_demo", [sys.executable, "manage.py", "seed_demo"], env)
            citizen = json.loads(
                run_step("borger1's plan and app token", [sys.executable, "-m", "bench.triage_live.seed"], env)
            )
            with serving(env) as base:
                say(f"-- serving on {base}")
                latencies = measure(base, citizen, arguments.rounds)
        except Failed as failure:
            say(f"!! FAILED: {failure}")
            return 1
    load_after = os.getloadavg()[0]
    meta = (
        f"{started:%Y-%m-%d %H:%M} UTC, embedded mode (`manage.py serve`: uvicorn, SQLite, the in-memory channel "
        f"layer, DEBUG on), {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"Chromium via Playwright; load average {load_before:.1f} before, {load_after:.1f} after."
    )
    text = markdown(latencies, meta)
    say(text)
    if arguments.write_readme:
        write_readme(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
