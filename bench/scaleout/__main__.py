"""Scale-out proof: two web and two websocket processes behind nginx lose no event when one of each is killed.

    .venv/bin/python -m bench.scaleout [--short] [--staff 24] [--events 20] [--port-base 27450]

PostgreSQL and Redis only (``$DATABASE_URL``, ``$REDIS_URL``; the replica from ``$DATABASE_REPLICA_URL`` or
``$TEST_REPLICA_URL`` when one runs). Creates ``mestring_bench_scaleout`` (dropped at the end), migrates it,
seeds one team with ``--staff`` staff members who follow its live stream and 20 citizens who write to it
(``bench.realtime.seed``), and starts the layout of ``bench/scaleout/layout.py``: nginx with the deploy site,
two gunicorn, two uvicorn, two task workers, two reminder dispatchers. Then:

1. every staff member opens a socket through nginx following the team (``bench/scaleout/clients.py``); the
   sockets must be spread over both websocket processes (established connections on each one's port);
2. a citizen writes a request (``POST /api/v1/me/requests``, which raises a team event and one personal event
   per staff member) through each web process directly: every socket, on either websocket process, must get
   both processes' events;
3. ``--events`` requests through nginx; then ``--events`` more from a second thread, and once the first of
   them has gone out web-1 and ws-1 are killed (SIGKILL to the process group), so that requests are in
   flight and the sockets of ws-1 reconnect through nginx to ws-2 while events are made; and ``--events``
   more once every socket is open again. A request that fails (nginx's 502 while web-1 dies) is sent again
   with the same id, as the app's queue does, so it is created once.

The truth is the database: every stream event after the start that is the team's or the staff member's own.
Passed when every socket got every one of its events exactly once (no event missing, none twice, none
foreign), no socket was told to resync, and the killed websocket process's sockets did reconnect. Waits are
on conditions with generous time limits; nothing is judged by the clock. ``--short`` is the form CI runs.
"""

import argparse
import contextlib
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench.__main__ import HOST, ROOT, RunDatabase, free_ports, run_environment, run_step, say, tail
from bench.scaleout.layout import Layout, LayoutError, established, running

WAIT_TIMEOUT = 300.0
POST_TIMEOUT = 120.0


class ScaleoutDatabase(RunDatabase):
    name = "mestring_bench_scaleout"
    postgresql_only = "the scale-out layout runs on PostgreSQL and Redis only (set DATABASE_URL and REDIS_URL)"


def replica_url(replica: str, database: str) -> str:
    """The replica's URL naming the run's database (a streaming replica has every database of its primary)."""
    return urlunsplit(urlsplit(replica)._replace(path=f"/{database}")) if replica else ""


def layout_environment(database: RunDatabase, directory: Path, redis_url: str, replica: str) -> dict[str, str]:
    environment = run_environment(database.url, directory) | {
        "REDIS_URL": redis_url,
        "ACCESS_TOKEN_TTL_SECONDS": str(24 * 3600),
        # On a machine whose CPUs other work holds, opening a PostgreSQL connection can take longer than
        # production's 3 s limit and the request would be answered 503. The runs wait for it instead: they
        # judge delivery and errors, and the latency figures include the wait.
        "DB_CONNECT_TIMEOUT": "30",
    }
    environment.pop("DATABASE_REPLICA_URL", None)
    if replica:
        environment["DATABASE_REPLICA_URL"] = replica_url(replica, database.name)
    return environment


class ClientProcess:
    """bench/scaleout/clients.py in a process of its own, one JSON command and answer a line."""

    def __init__(self, environment: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("ab") as errors:
            self.process = subprocess.Popen(  # noqa: S603 — our interpreter, our client
                [sys.executable, "-m", "bench.scaleout.clients"], cwd=ROOT, env=environment,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, text=True, bufsize=1,
            )  # fmt: skip

    def ask(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            sys.stderr.write(tail(self.log))
            raise SystemExit(f"the client process died (log: {self.log})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(BrokenPipeError, SystemExit):
                self.ask({"op": "quit"})
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Poster:
    """Citizens' requests, each sent until it is stored; a failed send is repeated with the same id."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.sent = 0
        self.statuses: Counter[str] = Counter()

    def post(self, port: int) -> None:
        request_id = str(uuid.uuid4())
        token = self.tokens[self.sent % len(self.tokens)]
        body = json.dumps({"id": request_id, "category": "help", "text": f"Hjælp, tak ({self.sent})"})
        self.sent += 1
        deadline = time.monotonic() + POST_TIMEOUT
        while True:
            connection = http.client.HTTPConnection(HOST, port, timeout=30)
            try:
                connection.request(
                    "POST", "/api/v1/me/requests", body,
                    {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                )  # fmt: skip
                status = connection.getresponse().status
                self.statuses[str(status)] += 1
                if status in (200, 201):
                    return
            except (OSError, http.client.HTTPException) as error:
                self.statuses[type(error).__name__] += 1
            finally:
                connection.close()
            if time.monotonic() > deadline:
                raise SystemExit(f"a request could not be stored within {POST_TIMEOUT:.0f} s: {dict(self.statuses)}")
            time.sleep(0.3)


def expected_events(database: RunDatabase, after: int, subscriptions: list[tuple[str, str]]) -> list[list[int]]:
    """Per socket (``user_id``, followed ``team_id`` or ""), the stream events after ``after`` that are the
    user's own or the followed team's, from the database."""
    import psycopg

    with psycopg.connect(database.url, autocommit=True, connect_timeout=10) as connection:
        rows = connection.execute(
            'SELECT id, team_id::text, user_id::text FROM "notifications_streamevent" WHERE id > %s ORDER BY id',
            [after],
        ).fetchall()
    return [
        [event_id for event_id, team, user in rows if user == user_id or (team_id and team == team_id)]
        for user_id, team_id in subscriptions
    ]


def wait_until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.2)


def judge(expected: list[list[int]], clients: list[dict[str, Any]]) -> dict[str, int]:
    totals: Counter[str] = Counter()
    for wanted, client in zip(expected, clients, strict=True):
        got = client["events"]
        counts = Counter(got)
        totals["expected"] += len(wanted)
        totals["received"] += len(got)
        totals["missing"] += len(set(wanted) - set(got))
        totals["duplicated"] += sum(count - 1 for count in counts.values() if count > 1)
        totals["foreign"] += len(set(got) - set(wanted))
        totals["resyncs"] += client["resyncs"]
        totals["reconnects"] += client["reconnects"]
        totals["clients reconnected"] += client["reconnects"] > 0
    return dict(totals)


def prove(layout: Layout, database: RunDatabase, directory: Path, arguments: argparse.Namespace) -> bool:
    team_id = (directory / "team.txt").read_text().strip()
    staff = [line.split() for line in (directory / "staff.txt").read_text().splitlines() if line.strip()]
    citizens = [line.split()[1] for line in (directory / "citizens.txt").read_text().splitlines() if line.strip()]
    subscriptions = [(user_id, team_id) for user_id, _ in staff]
    after = int(database.scalar('SELECT COALESCE(MAX(id), 0) FROM "notifications_streamevent"'))
    poster = Poster(citizens)
    clients = ClientProcess(layout.environment, directory / "clients.log")
    ok = True
    try:
        say(f"-- {len(staff)} staff sockets through nginx :{layout.port}, following team {team_id}")
        opened = clients.ask({"op": "start", "port": layout.port, "after": after,
                              "clients": [[token, team_id] for _, token in staff]})  # fmt: skip
        if opened["open"] != len(staff):
            raise SystemExit(f"only {opened['open']} of {len(staff)} sockets opened")
        wait_until(lambda: all(established(ws.port or 0) > 0 for ws in layout.ws), 60, "sockets on both ws processes")
        spread = {ws.name: established(ws.port or 0) for ws in layout.ws}
        say(f"   sockets per websocket process: {spread}")

        say("-- one request through each web process directly (not through nginx)")
        for web in layout.web:
            assert web.port is not None
            poster.post(web.port)
        expected = expected_events(database, after, subscriptions)
        answer = clients.ask({"op": "wait", "expect": expected, "timeout": WAIT_TIMEOUT})
        first = judge(expected, answer["clients"])
        say(f"   {first}")
        if not answer["complete"] or first["duplicated"] or first["foreign"]:
            say("!! an event raised through one web process did not reach every socket on both websocket processes")
            ok = False

        say(f"-- {arguments.events} requests through nginx before the kill")
        for _ in range(arguments.events):
            poster.post(layout.port)
        victims = [layout.web[0], layout.ws[0]]
        say(f"-- SIGKILL {', '.join(victim.name for victim in victims)} while {arguments.events} requests go out")
        before_kill = poster.sent

        def post_during() -> None:
            for _ in range(arguments.events):
                poster.post(layout.port)
                time.sleep(0.05)

        during = threading.Thread(target=post_during)
        during.start()
        wait_until(lambda: poster.sent > before_kill, POST_TIMEOUT, "the first request during the kill")
        for victim in victims:
            victim.kill()
        during.join()
        wait_until(lambda: all(c["open"] for c in clients.ask({"op": "report"})["clients"]), WAIT_TIMEOUT,
                   "every socket open again")  # fmt: skip
        say(f"   every socket open again; sockets on {layout.ws[1].name}: {established(layout.ws[1].port or 0)}")
        say(f"-- {arguments.events} requests through nginx after the kill")
        for _ in range(arguments.events):
            poster.post(layout.port)

        expected = expected_events(database, after, subscriptions)
        answer = clients.ask({"op": "wait", "expect": expected, "timeout": WAIT_TIMEOUT})
        totals = judge(expected, answer["clients"])
        say(f"   requests: {poster.sent} stored; answers seen: {dict(poster.statuses)}")
        say(f"   events per socket, all sockets: {totals}")
        failures = Counter(reason for client in answer["clients"] for reason in client["failures"])
        say(f"   reconnect causes: {dict(failures)}")
        (directory / "result.json").write_text(json.dumps({"spread": spread, "first": first, "totals": totals,
                                                           "statuses": poster.statuses}, indent=1))  # fmt: skip
        checks = {
            "every event at every socket": answer["complete"] and totals["missing"] == 0,
            "no event twice": totals["duplicated"] == 0,
            "no foreign event": totals["foreign"] == 0,
            "no resync asked": totals["resyncs"] == 0,
            "the killed websocket process's sockets reconnected": totals["clients reconnected"] >= spread["ws-1"],
        }
        for name, passed in checks.items():
            say(f"   {'ok  ' if passed else 'FAIL'} {name}")
        ok = ok and all(checks.values())
    finally:
        clients.stop()
    return ok


def layout_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of every benchmark run through the scale-out layout (this one and ``bench.mixed``)."""
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""))
    parser.add_argument(
        "--replica-url", default=os.environ.get("DATABASE_REPLICA_URL") or os.environ.get("TEST_REPLICA_URL", "")
    )
    parser.add_argument("--port-base", type=int, default=None, help="first of five loopback ports (else any free)")


@contextlib.contextmanager
def layout_run(
    title: str,
    name: str,
    database_class: type[RunDatabase],
    arguments: argparse.Namespace,
    seed: tuple[str, list[str]],
    *,
    analyze: bool,
) -> Iterator[tuple[Layout, RunDatabase, Path]]:
    """A run of the scale-out layout: its own database, migrated and seeded (``seed``: what the step is called
    and its command, given ``--out DIR``), the two of each behind nginx; the database dropped at the end."""
    if not arguments.database_url.startswith(("postgres://", "postgresql://")) or not arguments.redis_url:
        raise SystemExit(database_class.postgresql_only)
    started = datetime.now(UTC)
    directory = ROOT / "var" / "bench" / f"{started:%Y%m%d-%H%M%S}-{name}"
    directory.mkdir(parents=True, exist_ok=True)
    database = database_class(arguments.database_url, directory)
    environment = layout_environment(database, directory, arguments.redis_url, arguments.replica_url)
    say(f"{title}, run directory {directory}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    say(f"replica: {environment.get('DATABASE_REPLICA_URL') or 'none'}")
    database.create()
    try:
        log = directory / "setup.log"
        run_step("migrate", [sys.executable, "manage.py", "migrate", "--noinput"], environment, log, timeout=900)
        seed_title, seed_command = seed
        run_step(seed_title, [*seed_command, "--out", str(directory)], environment, log, timeout=900)
        if analyze:
            database.analyze()
        ports = free_ports(5, arguments.port_base)
        say(f"-- layout: nginx :{ports[0]}, web :{ports[1]} :{ports[2]}, ws :{ports[3]} :{ports[4]}, 2 workers, "
            "2 dispatchers")  # fmt: skip
        try:
            with running(environment, directory, ports) as layout:
                yield layout, database, directory
        except LayoutError as error:
            raise SystemExit(f"the layout did not start: {error}") from None
    finally:
        database.drop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    layout_arguments(parser)
    parser.add_argument("--staff", type=int, default=24, help="staff sockets following the team")
    parser.add_argument("--events", type=int, default=20, help="requests before, during and after the kill, each")
    parser.add_argument("--short", action="store_true", help="the CI form: 6 sockets, 4 requests a phase")
    arguments = parser.parse_args(argv)
    if arguments.short:
        arguments.staff, arguments.events = 6, 4
    seed = (
        f"seed one team, {arguments.staff} staff, 20 citizens",
        [sys.executable, "-m", "bench.realtime.seed", "--citizens", "20", "--staff", str(arguments.staff)],
    )
    with layout_run("scale-out proof", "scaleout", ScaleoutDatabase, arguments, seed, analyze=False) as (
        layout,
        database,
        directory,
    ):
        ok = prove(layout, database, directory, arguments)
    say(f"scale-out proof: {'PASSED' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
