"""POST /api/v1/me/session-logs/batch: an offline phone's queue of 100 sessions, against the same sessions
sent one by one.

    .venv/bin/python -m bench.offline_batch [--rounds 5] [--items 100] [--database-url URL]

Reuses the main harness (``bench/__main__.py``) for the production environment, the database of its own
(a new SQLite file under ``var/bench/<run>/``, or ``mestring_bench_batch`` on the PostgreSQL server of
``--database-url``, dropped at the end) and gunicorn with ``deploy/systemd/mestring-web.service``'s flags.
Seeds ``3 × rounds`` citizens as ``bench.today`` does (each with an active plan of four to six exercises with
progression rules, slots twice a day, a login). Each round takes two fresh citizens whose plan has one
version; each phone first syncs (``GET /me/sync``) and builds its queue from what it got, as the app does:
``--items`` sessions, its open past slots filled first, the rest done ad hoc since its plan's current version
was made. Then one citizen's queue goes up as one batch and the other's one request at a time (sequentially,
one connection), in alternating order from round to round; every item must answer 201. Reported: the wall-
clock time of each, per round, and the ratio one-by-one ÷ batch. See bench/README.md, section "Offline batch".
"""

import argparse
import http.client
import json
import platform
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.__main__ import (
    HOST,
    ROOT,
    RunDatabase,
    Scenario,
    ScenarioFailed,
    cpu_model,
    git_revision,
    gunicorn_command,
    run_environment,
    run_step,
    say,
    serving,
)

ENDPOINT = "/api/v1/me/session-logs"
SCENARIO = Scenario(
    "mestring-wsgi",
    "gunicorn gthread 2x8, config.wsgi",
    lambda port, log: gunicorn_command("config.wsgi:application", port, log),
)


class BatchDatabase(RunDatabase):
    name = "mestring_bench_batch"


def call(port: int, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    connection = http.client.HTTPConnection(HOST, port, timeout=120)
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        connection.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def queue_for(port: int, token: str, items: int) -> list[dict[str, Any]]:
    """The phone's queue, built from its sync: open past slots first, then ad hoc sessions."""
    status, sync = call(port, "GET", "/api/v1/me/sync", token)
    if status != 200:
        raise ScenarioFailed(f"sync answered {status}: {sync}")
    [plan] = [plan for plan in sync["plans"] if plan["status"] == "active"]
    if plan["current_version"]["number"] != 1:
        return []  # slots of two versions: the phone would need both versions' exercises
    exercises = [
        {"exercise_id": item["exercise_id"], "sets": item["sets"], "repetitions": item["repetitions"]}
        for item in plan["current_version"]["exercises"]
    ]
    now = datetime.now(UTC)
    open_slots = [
        slot
        for slot in sync["slots"]
        if slot["training_plan_id"] == plan["id"]
        and slot["status"] in ("pending", "missed")
        and datetime.fromisoformat(slot["scheduled_at"]) < now - timedelta(minutes=30)
    ]
    queue = []
    for index in range(items):
        body: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "training_plan_id": plan["id"],
            "pain_before": index % 4,
            "pain_after": (index + 1) % 4,
            "effort": 3 + index % 4,
            "note": "",
            "exercises": exercises,
        }
        if index < len(open_slots):
            slot = open_slots[index]
            body["slot_id"] = slot["id"]
            body["performed_at"] = (datetime.fromisoformat(slot["scheduled_at"]) + timedelta(minutes=20)).isoformat()
        else:
            # After the current version was made, so that its exercises are the ones the session is checked
            # against (a session is checked against the version in force when it was done).
            made = datetime.fromisoformat(plan["current_version"]["created_at"])
            body["performed_at"] = (made + (now - made) * (index + 1) / (items + 1)).isoformat()
        queue.append(body)
    return queue


def send_batch(port: int, token: str, queue: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    status, answer = call(port, "POST", f"{ENDPOINT}/batch", token, {"items": queue})
    elapsed = time.perf_counter() - started
    if status != 200 or [item["http_status"] for item in answer["results"]] != [201] * len(queue):
        raise ScenarioFailed(f"the batch answered {status}: {json.dumps(answer)[:2000]}")
    return elapsed


def send_one_by_one(port: int, token: str, queue: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    for body in queue:
        status, answer = call(port, "POST", ENDPOINT, token, body)
        if status != 201:
            raise ScenarioFailed(f"an upload answered {status}: {answer}")
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--keep-database", action="store_true")
    arguments = parser.parse_args(argv)
    import os

    base_url = arguments.database_url or os.environ.get("DATABASE_URL") or "sqlite:///"
    started = datetime.now(UTC)
    kind = "sqlite" if base_url.startswith("sqlite:") else "postgresql"
    run_id = f"{started:%Y%m%d-%H%M%S}-offline-batch-{kind}"
    run_directory = ROOT / "var" / "bench" / run_id
    run_directory.mkdir(parents=True, exist_ok=True)
    database = BatchDatabase(base_url, run_directory)
    environment = run_environment(database.url, run_directory)
    setup_log = run_directory / "setup.log"
    say(f"== offline batch benchmark {run_id}, logs in {run_directory.relative_to(ROOT)}")
    database.create()
    database_version = database.version()
    rows: list[tuple[int, str, float, float]] = []
    try:
        run_step(
            f"migrate a new {kind} database",
            [sys.executable, "manage.py", "migrate", "--noinput"],
            environment,
            setup_log,
            timeout=600,
        )
        citizens = 3 * arguments.rounds  # one in four has a revised plan and is not used
        run_step(
            f"seed {citizens} citizens with logins and training plans",
            [sys.executable, "-m", "bench.today.seed", "--out", str(run_directory), "--citizens", str(citizens)],
            environment | {"ACCESS_TOKEN_TTL_SECONDS": str(24 * 3600)},
            setup_log,
            timeout=900,
        )
        database.analyze()
        tokens = (run_directory / "citizen_tokens.txt").read_text().split()
        with serving(SCENARIO, environment, run_directory / "server.log") as server:
            server.wait_ready(tokens[0])
            phones = [(token, queue_for(server.port, token, arguments.items)) for token in tokens]
            phones = [(token, queue) for token, queue in phones if queue]
            for round_number in range(arguments.rounds):
                (batch_token, batch_queue), (single_token, single_queue) = phones[
                    2 * round_number : 2 * round_number + 2
                ]
                slotted = sum("slot_id" in body for body in batch_queue)
                if round_number % 2 == 0:
                    batch_time = send_batch(server.port, batch_token, batch_queue)
                    single_time = send_one_by_one(server.port, single_token, single_queue)
                    order = "batch first"
                else:
                    single_time = send_one_by_one(server.port, single_token, single_queue)
                    batch_time = send_batch(server.port, batch_token, batch_queue)
                    order = "one by one first"
                rows.append((round_number + 1, order, batch_time, single_time))
                say(
                    f"   round {round_number + 1} ({order}, {slotted} items fill slots): batch {batch_time:.2f} s, "
                    f"one by one {single_time:.2f} s, ratio {single_time / batch_time:.1f}"
                )
    finally:
        if not arguments.keep_database:
            database.drop()
    batches = [row[2] for row in rows]
    singles = [row[3] for row in rows]
    lines = [
        f"{arguments.items} sessions, {database_version}, {cpu_model()} ({platform.machine()}), "
        f"revision {git_revision()}, {started:%Y-%m-%d %H:%M} UTC",
        "",
        "| round | order | batch (s) | one by one (s) | one by one ÷ batch |",
        "|---|---|---:|---:|---:|",
        *(
            f"| {number} | {order} | {batch:.2f} | {single:.2f} | {single / batch:.1f} |"
            for number, order, batch, single in rows
        ),
        f"| median | | {statistics.median(batches):.2f} | {statistics.median(singles):.2f} | "
        f"{statistics.median(singles) / statistics.median(batches):.1f} |",
    ]
    say("\n".join(lines))
    (run_directory / "result.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
