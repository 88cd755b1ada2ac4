"""Write contention in the embedded mode: a connection per request against a connection kept per thread,
interleaved in one run.

Two processes of eight threads each (gunicorn's 2 × 8) run what a logged read does to the database: a read
(the citizen's latest access-log rows), then one access-log row inserted under autocommit, the shortest
write transaction there is, before the answer would leave. The table has the access log's columns and
indexes and starts with ``--rows`` rows. Modes:

- ``per request``: what Django did with ``CONN_MAX_AGE = 0``: every operation opens a connection, runs the
  embedded mode's ``init_command`` (``PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL``), reads,
  inserts and closes it (and the last connection closed checkpoints the log and removes it).
- ``kept``: what ``config/settings.py`` does now: each thread opens its connection once and keeps it.

Both wait for the writer lock in SQLite's busy handler (the 20 s ``timeout``). Each thread paces itself to
``--rate`` operations a second in all (open loop: an operation's time counts from when it was due).
Reported per mode and round: p50, p99 and max of the operation time, and p99 and max of the insert alone.

    .venv/bin/python -m bench.sqlite_writers --rate 150 --seconds 10 --rounds 3
"""

import argparse
import multiprocessing
import sqlite3
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

PROCESSES = 2
THREADS = 8
CITIZENS = 1000
TIMEOUT_SECONDS = 20.0
MODES = ("per request", "kept")
SCHEMA = """
CREATE TABLE log (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor_id TEXT, actor_name TEXT NOT NULL,
    actor_role TEXT NOT NULL, citizen_id TEXT NOT NULL, resource_type TEXT NOT NULL, resource_id TEXT NOT NULL,
    action TEXT NOT NULL, purpose TEXT NOT NULL, request_id TEXT NOT NULL
);
CREATE INDEX log_at ON log (at);
CREATE INDEX log_citizen_at ON log (citizen_id, at DESC, id DESC);
"""
INSERT = (
    "INSERT INTO log (at, actor_id, actor_name, actor_role, citizen_id, resource_type, resource_id, action, "
    "purpose, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
READ = "SELECT id, at, actor_name FROM log WHERE citizen_id = ? ORDER BY at DESC, id DESC LIMIT 20"


def connect(path: str) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False)
    connection.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
    return connection


def citizen_id(index: int) -> str:
    return uuid.UUID(int=index % CITIZENS + 1).hex


def row(index: int) -> tuple:
    citizen = citizen_id(index)
    return (
        time.strftime("%Y-%m-%d %H:%M:%S"),
        citizen,
        "Bench Borger",
        "citizen",
        citizen,
        "training",
        citizen,
        "read",
        "own_use",
        uuid.uuid4().hex,
    )


def worker(
    number: int, path: str, mode: str, rate: float, seconds: float, start: float, out: "multiprocessing.Queue"
) -> None:
    per_thread = rate / (PROCESSES * THREADS)
    results: list[tuple[float, float]] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        due = start + index / rate
        mine: list[tuple[float, float]] = []
        kept = connect(path) if mode == "kept" else None
        operation = 0
        while due < start + seconds:
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            connection = kept or connect(path)
            operation += 1
            connection.execute(READ, (citizen_id(index * 7919 + operation),)).fetchall()
            write_started = time.monotonic()
            connection.execute(INSERT, row(index * 7919 + operation))
            done = time.monotonic()
            if kept is None:
                connection.close()
            mine.append((done - due, done - write_started))
            due += 1 / per_thread
        if kept is not None:
            kept.close()
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=run, args=(number * THREADS + n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put(results)


def pick(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(share * len(values)))]


def measure(path: str, mode: str, rate: float, seconds: float) -> dict[str, float]:
    out: multiprocessing.Queue = multiprocessing.Queue()
    start = time.monotonic() + 0.5
    processes = [
        multiprocessing.Process(target=worker, args=(number, path, mode, rate, seconds, start, out))
        for number in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    results = [item for _ in processes for item in out.get()]
    for process in processes:
        process.join()
    total = sorted(item[0] * 1000 for item in results)
    write = sorted(item[1] * 1000 for item in results)
    return {
        "operations": len(results),
        "p50": statistics.median(total),
        "p99": pick(total, 0.99),
        "max": total[-1],
        "write_p99": pick(write, 0.99),
        "write_max": write[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=150.0, help="operations a second, all threads together")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=50_000, help="access-log rows in the table at the start")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = str(Path(directory) / "writers.sqlite3")
        setup = connect(path)
        setup.executescript(SCHEMA)
        setup.execute("BEGIN")
        setup.executemany(INSERT, (row(index) for index in range(arguments.rows)))
        setup.execute("COMMIT")
        setup.close()
        print(
            f"{PROCESSES} processes x {THREADS} threads, {arguments.rate:g} operations/s, "
            f"{arguments.seconds:g} s/round, {arguments.rows} rows to start; SQLite {sqlite3.sqlite_version}"
        )
        print("round  mode          ops    p50 ms   p99 ms   max ms   insert p99 ms   insert max ms")
        figures: dict[str, list[float]] = {mode: [] for mode in MODES}
        for number in range(1, arguments.rounds + 1):
            # Interleaved, the order turned each round.
            for mode in MODES if number % 2 else MODES[::-1]:
                result = measure(path, mode, arguments.rate, arguments.seconds)
                figures[mode].append(result["p99"])
                print(
                    f"{number:5}  {mode:11}  {result['operations']:5}  {result['p50']:7.1f}  {result['p99']:7.1f}  "
                    f"{result['max']:7.1f}  {result['write_p99']:14.1f}  {result['write_max']:14.1f}",
                    flush=True,
                )
        for mode, values in figures.items():
            print(f"{mode}: p99 median of rounds {statistics.median(values):.1f} ms")


if __name__ == "__main__":
    main()
