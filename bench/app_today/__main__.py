"""Citizen app benchmark: how soon the installed app shows today's list on a phone four times slower than this
machine, and how much the first load of the app transfers (issue 16).

    .venv/bin/python -m bench.app_today [--rounds 10] [--baseline GIT-REF] [--write-readme]

A throw-away embedded setup: SQLite in a temporary ``VAR_DIR``, ``manage.py migrate``, ``seed_demo`` and
``bench/app_today/seed.py`` (the demo citizen borger1 gets a plan with a slot today), served by
``manage.py serve`` (uvicorn, as ``make run``) on a free loopback port. In Chromium (/usr/bin/chromium,
Playwright, a 390×844 phone viewport) borger1 logs in through the app's login form (password and one-time
code) and the service worker is let install. Then, per round, with ``Emulation.setCPUThrottlingRate`` 4
on the page (CDP):

* **warm**: a new page in the logged-in browser, as the citizen opens the installed app every day: the shell
  comes from the service worker;
* **cold**: a new browser context holding only the login cookie, service workers blocked and nothing cached:
  everything comes from the server.

The time is measured inside the page from navigation start (``performance.now()``) to the moment the first
slot of today's list (``.app-slot``) is in the document, the condition the browser test waits on. Where the
time goes is read from the page's own timeline (Navigation and Resource Timing, same clock): when the shell
document had arrived, when the last of the app's modules had, and when the request for today's data
(``/api/v1/me/today``) started and was answered. Each cold round also adds up what the first load
transferred, compressed (text compressed with gzip as a server would), excluding exercise pictures; each
warm round lists the requests that reached the network.

With ``--baseline REF`` the app as it was at that commit (``git archive`` into a temporary directory, its
own embedded setup and server) is measured in the same run, its openings interleaved with this tree's, so
that a busy machine weighs on both alike; the README then gives this tree's medians as ratios of the
baseline's.
"""

import argparse
import gzip
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.__main__ import free_port

ROOT = Path(__file__).resolve().parent.parent.parent
README = ROOT / "bench" / "README.md"
CHROMIUM = Path("/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}
THROTTLING = 4
TARGET_MS = 1000.0
FIRST_LOAD_BUDGET = 200 * 1024
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "application/manifest+json", "image/svg+xml")
PICTURES = ("image/png", "image/jpeg", "image/webp")
SECTION_BEGIN = "<!-- figures:app-today:begin -->"
SECTION_END = "<!-- figures:app-today:end -->"
SHOWN_AT = """new MutationObserver((changes, observer) => {
    if (document.querySelector(".app-slot")) {
        window.todayShownAt = performance.now();
        observer.disconnect();
    }
}).observe(document, {childList: true, subtree: true});"""
# Milestones of one opening on the page's clock (ms from navigation start); null where there was none.
TIMELINE = """() => {
    const navigation = performance.getEntriesByType("navigation")[0];
    const resources = performance.getEntriesByType("resource");
    const modules = resources.filter((entry) => entry.name.includes("/borgerapp/js/"));
    const today = resources.find((entry) => entry.name.endsWith("/api/v1/me/today"));
    return {
        shell: navigation ? navigation.responseEnd : null,
        modules: modules.length ? Math.max(...modules.map((entry) => entry.responseEnd)) : null,
        // Module scripts run before DOMContentLoaded: the app's modules have been evaluated by then.
        evaluated: navigation ? navigation.domContentLoadedEventStart : null,
        today_asked: today ? today.startTime : null,
        today_answered: today ? today.responseEnd : null,
    };
}"""
PHASES = {
    "shell": "shell document arrived",
    "modules": "last app module arrived",
    "evaluated": "modules evaluated (DOMContentLoaded)",
    "today_asked": "today's data asked for",
    "today_answered": "today's data answered",
}


class Failed(Exception):
    pass


@dataclass
class Figures:
    warm_ms: list[float] = field(default_factory=list)
    cold_ms: list[float] = field(default_factory=list)
    first_load_bytes: list[int] = field(default_factory=list)
    first_load_listing: str = ""
    warm_network: list[list[str]] = field(default_factory=list)
    warm_timeline: list[dict[str, float | None]] = field(default_factory=list)
    cold_timeline: list[dict[str, float | None]] = field(default_factory=list)


def say(text: str) -> None:
    print(text, flush=True)


def run_step(name: str, command: list[str], env: dict[str, str], root: Path = ROOT) -> str:
    say(f"-- {name}")
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise Failed(f"{name} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


@contextmanager
def serving(env: dict[str, str], root: Path = ROOT) -> Iterator[str]:
    """`manage.py serve` on a free port until /readyz answers; a port taken in between is tried again."""
    for _attempt in range(3):
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(port)],
            cwd=root,
            env={**env, "PORT": str(port)},  # the embedded mode's own origins (the websocket's) follow $PORT
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        ready = False
        while time.monotonic() < deadline and server.poll() is None and not ready:
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=10) as response:
                    ready = response.status == 200
            except OSError:
                time.sleep(0.2)
        try:
            if ready:
                yield base
                return
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    raise Failed("the embedded server did not become ready")


def sent_compressed(response: Any) -> int:
    body = response.body()
    content_type = response.headers.get("content-type", "")
    return len(gzip.compress(body)) if content_type.startswith(COMPRESSIBLE) else len(body)


def is_picture(response: Any) -> bool:
    content_type = response.headers.get("content-type", "")
    return content_type.startswith(PICTURES) or "/api/v1/exercise-images/" in response.url


def is_shell(noted: str) -> bool:
    path = noted.split(" ", 1)[0]
    return not path.startswith("/api/") and not path.startswith("/ws/")


def phone(browser: Any, **options: Any) -> Any:
    context = browser.new_context(viewport=PHONE, locale="da-DK", timezone_id="Europe/Copenhagen", **options)
    context.set_default_timeout(60_000)
    return context


def log_in(page: Any, base: str, login: dict[str, str]) -> None:
    import pyotp

    page.goto(base + "/app/")
    if page.url != base + "/app/log-ind/":
        raise Failed(f"/app/ did not lead to the login page but to {page.url}")
    page.get_by_label("Brugernavn").fill(login["username"])
    page.get_by_label("Adgangskode").fill(login["password"])
    page.get_by_label("Engangskode").fill(pyotp.TOTP(login["totp_secret"]).now())
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_url(base + "/app/")
    page.locator(".app-slot").first.wait_for()


def wait_for_the_worker(page: Any) -> None:
    for _ in range(300):
        if page.evaluate("navigator.serviceWorker.controller !== null"):
            page.wait_for_load_state("networkidle")
            return
        page.wait_for_timeout(100)
    raise Failed("the service worker did not take over")


def open_today(context: Any, base: str) -> tuple[Any, float]:
    page = context.new_page()
    context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": THROTTLING})
    page.add_init_script(SHOWN_AT)
    page.goto(base + "/app/")
    page.locator(".app-slot").first.wait_for()
    shown = page.evaluate("window.todayShownAt")
    if not isinstance(shown, int | float) or shown <= 0:
        raise Failed(f"today's list was shown but not timed ({shown!r})")
    return page, float(shown)


def timeline(page: Any) -> dict[str, float | None]:
    """The opening's milestones, read once the page has settled (today's data may be asked for after the
    list is shown from what the device kept)."""
    page.wait_for_load_state("networkidle")
    return dict(page.evaluate(TIMELINE))


@dataclass
class Target:
    """One app under measurement: where it is served and borger1's login there."""

    name: str
    base: str
    login: dict[str, str]
    figures: Figures = field(default_factory=Figures)
    installed: Any = None
    cookies: list[Any] = field(default_factory=list)


def measure(base: str, login: dict[str, str], rounds: int) -> Figures:
    target = Target("this tree", base, login)
    measure_interleaved([target], rounds)
    return target.figures


def measure_interleaved(targets: list[Target], rounds: int) -> None:
    """Each round opens every target warm, then every target cold, so that what else the machine does weighs
    on each alike."""
    # Requests a service worker makes are reported to the context only with this switch (Chromium).
    os.environ["PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS"] = "1"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            for target in targets:
                target.installed = phone(browser)
                page = target.installed.new_page()
                log_in(page, target.base, target.login)
                wait_for_the_worker(page)
                page.close()
                target.cookies = target.installed.cookies()
                say(f"-- {target.name}: logged in as borger1, service worker installed")
            for number in range(1, rounds + 1):
                for target in targets:
                    warm_round(target)
                for target in targets:
                    cold_round(browser, target)
                for target in targets:
                    figures = target.figures
                    say(
                        f"   round {number}, {target.name}: warm {figures.warm_ms[-1]:.0f} ms, cold "
                        f"{figures.cold_ms[-1]:.0f} ms, first load {figures.first_load_bytes[-1]} B, warm visit's "
                        f"network requests: {', '.join(figures.warm_network[-1]) or 'none'}"
                    )
            for target in targets:
                target.installed.close()
        finally:
            browser.close()


def warm_round(target: Target) -> None:
    network: list[str] = []

    def reached_network(request: Any) -> None:
        network.append(f"{urlsplit(request.url).path} (sent by the service worker)")

    def answered(response: Any) -> None:
        # With the switch above the worker's own fetches are reported here too; they are noted once,
        # through the request event, so only the page's requests that bypassed the worker count here.
        if not response.from_service_worker and response.request.service_worker is None:
            network.append(f"{urlsplit(response.url).path} (the page's own request)")

    page, warm = open_today_watched(target.installed, target.base, answered, reached_network)
    target.figures.warm_timeline.append(timeline(page))
    page.close()
    target.figures.warm_ms.append(warm)
    target.figures.warm_network.append(sorted(set(network)))


def cold_round(browser: Any, target: Target) -> None:
    responses: list[Any] = []
    fresh = phone(browser, service_workers="block")
    fresh.add_cookies(target.cookies)
    fresh.on("response", lambda response: responses.append(response))
    page, cold = open_today(fresh, target.base)
    target.figures.cold_timeline.append(timeline(page))
    counted = [response for response in responses if not is_picture(response)]
    figures = target.figures
    figures.cold_ms.append(cold)
    figures.first_load_bytes.append(sum(sent_compressed(response) for response in counted))
    figures.first_load_listing = "\n".join(
        f"{response.status} {urlsplit(response.url).path} {sent_compressed(response)} B" for response in counted
    )
    fresh.close()


def open_today_watched(context: Any, base: str, on_response: Any, on_request: Any) -> tuple[Any, float]:
    """``open_today`` in the installed app, noting every response the page got from the network (not from the
    service worker) and every request the service worker itself sent."""

    def from_worker(request: Any) -> None:
        if request.service_worker is not None:
            on_request(request)

    context.on("request", from_worker)
    context.on("response", on_response)
    try:
        return open_today(context, base)
    finally:
        context.remove_listener("request", from_worker)
        context.remove_listener("response", on_response)


def spread(values: list[float], target_ms: float = TARGET_MS) -> str:
    """Median, p90 (nearest rank), min, max and how many are within ``target_ms``, as a table row's cells."""
    ordered = sorted(values)
    p90 = ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]  # nearest rank
    return (
        f"{statistics.median(ordered):.0f} | {p90:.0f} | {ordered[0]:.0f} | {ordered[-1]:.0f} | "
        f"{sum(value <= target_ms for value in ordered)} of {len(ordered)}"
    )


def median_of(timelines: list[dict[str, float | None]], key: str) -> str:
    values = [value for point in timelines if (value := point.get(key)) is not None]
    return f"{statistics.median(values):.0f}" if values else "–"


def ratios(figures: Figures, baseline: Figures, ref: str) -> list[str]:
    def ratio(mine: list[float], theirs: list[float]) -> str:
        return f"{statistics.median(mine) / statistics.median(theirs):.2f}"

    return [
        "",
        f"Baseline, measured in the same run with its openings interleaved: the app as of `{ref}`.",
        "",
        "| variant | median | p90 | min | max | rounds within 1000 ms | this tree's median ÷ baseline's |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| warm, baseline | {spread(baseline.warm_ms)} | {ratio(figures.warm_ms, baseline.warm_ms)} |",
        f"| cold, baseline | {spread(baseline.cold_ms)} | {ratio(figures.cold_ms, baseline.cold_ms)} |",
        "",
        "| baseline | " + " | ".join(PHASES.values()) + " | today's list shown |",
        "|---|" + "---:|" * (len(PHASES) + 1),
        "| warm | "
        + " | ".join(median_of(baseline.warm_timeline, key) for key in PHASES)
        + f" | {statistics.median(baseline.warm_ms):.0f} |",
        "| cold | "
        + " | ".join(median_of(baseline.cold_timeline, key) for key in PHASES)
        + f" | {statistics.median(baseline.cold_ms):.0f} |",
    ]


def markdown(figures: Figures, meta: str, baseline: Figures | None = None, ref: str = "") -> str:
    first_load = max(figures.first_load_bytes)
    shell_requests = sorted({url for visit in figures.warm_network for url in visit if is_shell(url)})
    data_requests = sorted({url for visit in figures.warm_network for url in visit if not is_shell(url)})
    lines = [
        meta,
        "",
        f"Today's list visible, ms from navigation start, CPU throttled {THROTTLING}× "
        f"({len(figures.warm_ms)} rounds, warm and cold interleaved):",
        "",
        f"| variant | median | p90 | min | max | rounds within {TARGET_MS:.0f} ms |",
        "|---|---:|---:|---:|---:|---:|",
        f"| warm (installed app, shell from the service worker) | {spread(figures.warm_ms)} |",
        f"| cold (no service worker, nothing cached) | {spread(figures.cold_ms)} |",
        "",
        "Where the time goes (medians, ms from navigation start; from the page's Navigation and Resource Timing):",
        "",
        "| variant | " + " | ".join(PHASES.values()) + " | today's list shown |",
        "|---|" + "---:|" * (len(PHASES) + 1),
        "| warm | "
        + " | ".join(median_of(figures.warm_timeline, key) for key in PHASES)
        + f" | {statistics.median(figures.warm_ms):.0f} |",
        "| cold | "
        + " | ".join(median_of(figures.cold_timeline, key) for key in PHASES)
        + f" | {statistics.median(figures.cold_ms):.0f} |",
        "",
        f"First load: **{first_load:,} bytes** compressed, exercise pictures excluded "
        f"({first_load / 1024:.1f} KiB of the {FIRST_LOAD_BUDGET // 1024} KiB budget; "
        f"{'within' if first_load <= FIRST_LOAD_BUDGET else 'NOT within'} it).",
        "",
        "Repeat visits (warm): requests for the shell that reached the network: "
        + (", ".join(f"`{noted}`" for noted in shell_requests) or "**none**")
        + "; data requests: "
        + (", ".join(f"`{noted}`" for noted in data_requests) or "none")
        + ".",
    ]
    if baseline is not None:
        lines += ratios(figures, baseline, ref)
    return "\n".join(lines)


def baseline_tree(ref: str, into: Path) -> Path:
    """This repository's files as of ``ref``, unpacked into ``into`` (the repository itself is not touched)."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", ref], cwd=ROOT, capture_output=True, timeout=300)
    if archive.returncode != 0:
        raise SystemExit(f"git archive {ref} failed: {archive.stderr.decode()}")
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True, timeout=300)
    return into


def write_readme(text: str) -> None:
    content = README.read_text()
    start, end = content.index(SECTION_BEGIN) + len(SECTION_BEGIN), content.index(SECTION_END)
    README.write_text(content[:start] + "\n" + text + "\n" + content[end:])


def embedded_env(**extra: str) -> dict[str, str]:
    """The environment of a throw-away embedded setup: this one without a database or Redis URL (SQLite and the
    in-memory layer), DEBUG on (the demo logins are refused with it off)."""
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", DEBUG="1", **extra)
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.app_today", description=(__doc__ or "").splitlines()[1])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument(
        "--baseline", metavar="GIT-REF", help="also measure the app as of this commit, interleaved, for ratios"
    )
    parser.add_argument("--write-readme", action="store_true")
    arguments = parser.parse_args(argv)
    if arguments.rounds < 1:
        parser.error("--rounds must be at least 1")
    if not CHROMIUM.exists():
        parser.error(f"needs {CHROMIUM} (apt-get install chromium)")

    started = datetime.now(UTC)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="mestring-bench-app-today-") as scratch:
        env = embedded_env()
        roots = [("this tree", ROOT)]
        if arguments.baseline:
            roots.append(("baseline", baseline_tree(arguments.baseline, Path(scratch) / "baseline")))
        try:
            with ExitStack() as stack:
                targets: list[Target] = []
                for name, root in roots:
                    var_dir = Path(scratch) / f"var-{len(targets)}"
                    var_dir.mkdir()
                    tree_env = {**env, "VAR_DIR": str(var_dir)}
                    run_step(f"{name}: migrate", [sys.executable, "manage.py", "migrate", "--noinput"], tree_env, root)
                    run_step(f"{name}: seed_demo", [sys.executable, "manage.py", "seed_demo"], tree_env, root)
                    login = json.loads(
                        run_step(
                            f"{name}: borger1's training today",
                            [sys.executable, "-m", "bench.app_today.seed"],
                            tree_env,
                            root,
                        )
                    )
                    base = stack.enter_context(serving(tree_env, root))
                    say(f"-- {name}: serving on {base}")
                    targets.append(Target(name, base, login))
                measure_interleaved(targets, arguments.rounds)
        except Failed as failure:
            say(f"!! FAILED: {failure}")
            return 1
    figures = targets[0].figures
    load_after = os.getloadavg()[0]
    meta = (
        f"{started:%Y-%m-%d %H:%M} UTC, embedded mode (`manage.py serve`, SQLite, DEBUG on), "
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, Chromium via Playwright; "
        f"load average {load_before:.1f} before, {load_after:.1f} after."
    )
    baseline = targets[1].figures if len(targets) > 1 else None
    text = markdown(figures, meta, baseline, arguments.baseline or "")
    say(text)
    say("first load, per response:\n" + figures.first_load_listing)
    if arguments.write_readme:
        write_readme(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
