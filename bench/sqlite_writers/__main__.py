"""Write contention in the embedded mode: SQLite's busy handler against the queued writers of
``backend.dbengines.sqlite``, interleaved in one run.

Two processes of eight threads each (gunicorn's 2 × 8) run what a logged read does to the database: open a
connection with the embedded mode's pragmas (WAL, synchronous NORMAL), read (a query over the table), insert
one access-log-sized row under autocommit, close. Each thread paces itself to ``--rate`` operations a second
in all (open loop: an operation's time counts from when it was due). Reported per mode: p50, p99 and max of
the operation time, and of the insert alone.

    .venv/bin/python -m bench.sqlite_writers --rate 150 --seconds 10 --rounds 3
"""

import argparse
import multiprocessing
import sqlite3
import statistics
import tempfile
import threading
import time
from pathlib import Path

from backend.dbengines.sqlite.base import WriteQueue

PROCESSES = 2
THREADS = 8
TIMEOUT_SECONDS = 20.0


def connect(path: str) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


def worker(
    number: int, path: str, queued: bool, rate: float, seconds: float, start: float, out: "multiprocessing.Queue"
) -> None:
    per_thread = rate / (PROCESSES * THREADS)
    results: list[tuple[float, float]] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        due = start + index / rate
        mine: list[tuple[float, float]] = []
        while due < start + seconds:
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            connection = connect(path)
            queue = WriteQueue(path, TIMEOUT_SECONDS) if queued else None
            connection.execute("SELECT count(*), max(at) FROM log WHERE citizen = ?", (index,)).fetchone()
            write_started = time.monotonic()
            if queue is not None:
                queue.acquire()
            try:
                connection.execute(
                    "INSERT INTO log (at, citizen, actor, resource) VALUES (?, ?, ?, ?)",
                    (time.time(), index, "bench actor name", "training"),
                )
            finally:
                if queue is not None:
                    queue.close()
            done = time.monotonic()
            connection.close()
            mine.append((done - due, done - write_started))
            due += 1 / per_thread
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=run, args=(number * THREADS + n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put(results)


def measure(path: str, queued: bool, rate: float, seconds: float) -> dict[str, float]:
    out: multiprocessing.Queue = multiprocessing.Queue()
    start = time.monotonic() + 0.5
    processes = [
        multiprocessing.Process(target=worker, args=(number, path, queued, rate, seconds, start, out))
        for number in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    results = [item for _ in processes for item in out.get()]
    for process in processes:
        process.join()
    total = sorted(item[0] * 1000 for item in results)
    write = sorted(item[1] * 1000 for item in results)

    def pick(values: list[float], share: float) -> float:
        return values[min(len(values) - 1, int(share * len(values)))]

    return {
        "operations": len(results),
        "p50": statistics.median(total),
        "p99": pick(total, 0.99),
        "max": total[-1],
        "write_p50": statistics.median(write),
        "write_p99": pick(write, 0.99),
        "write_max": write[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=150.0, help="operations a second, all threads together")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = str(Path(directory) / "writers.sqlite3")
        setup = connect(path)
        setup.execute("CREATE TABLE log (id INTEGER PRIMARY KEY, at REAL, citizen INTEGER, actor TEXT, resource TEXT)")
        setup.execute("CREATE INDEX log_citizen ON log (citizen, at)")
        setup.close()
        print(
            f"{PROCESSES} processes x {THREADS} threads, {arguments.rate:g} operations/s, {arguments.seconds:g} s/round"
        )
        print("round  mode            ops    p50 ms   p99 ms   max ms   insert p99 ms   insert max ms")
        for number in range(1, arguments.rounds + 1):
            for queued in (False, True):
                result = measure(path, queued, arguments.rate, arguments.seconds)
                mode = "queued writers" if queued else "busy handler"
                print(
                    f"{number:5}  {mode:14}  {result['operations']:5}  {result['p50']:7.1f}  {result['p99']:7.1f}  "
                    f"{result['max']:7.1f}  {result['write_p99']:14.1f}  {result['write_max']:14.1f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
