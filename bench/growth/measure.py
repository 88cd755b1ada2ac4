"""The growth benchmark's requests and plan checks, run in-process against the run's databases.

Run by ``python -m bench.growth`` in a subprocess with the run's environment (``DATABASE_URL`` naming the
smallest database); the request kinds and the plan check are also used by
``tests/bench/test_growth_plans.py``. Server time is the time Django takes to answer a request in-process
(``django.test.Client``: middleware, view, queries, rendering), without a network or an HTTP server.
"""

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
READINGS_PER_BATCH = 10
# A sequential scan of a table this large (rows by the planner's statistics) counts as a finding.
BIG_TABLE_ROWS = 5000
# A sequential scan run once per row of an outer query (a correlated subquery) grows with the square of the
# data: a finding from this many rows.
PER_ROW_TABLE_ROWS = 500


@dataclass
class Probe:
    """The base's logins the requests use: the same rows in every database of a run."""

    citizen_tokens: list[str]
    staff_token: str
    staff_cookie: str
    team_id: str
    devices: list[dict[str, str]]
    indicator: str


@dataclass
class Kind:
    name: str
    request: Callable[[Any, Probe, int], Any]


def _bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}", "HTTP_HOST": HOST}


def _today(client: Any, probe: Probe, number: int) -> Any:
    return client.get("/api/v1/me/today", **_bearer(probe.citizen_tokens[number % len(probe.citizen_tokens)]))


def _sync(client: Any, probe: Probe, number: int) -> Any:
    return client.get("/api/v1/me/sync", **_bearer(probe.citizen_tokens[number % len(probe.citizen_tokens)]))


def _caseload(client: Any, probe: Probe, number: int) -> Any:
    return client.get(f"/api/v1/teams/{probe.team_id}/caseload", **_bearer(probe.staff_token))


def _team_page(client: Any, probe: Probe, number: int) -> Any:
    return client.get("/staff/", HTTP_HOST=HOST, HTTP_COOKIE=probe.staff_cookie, secure=True)


_sequence = [int(time.time() * 1000)]


def _telemetry(client: Any, probe: Probe, number: int) -> Any:
    device = probe.devices[number % len(probe.devices)]
    now = datetime.now(UTC).isoformat()
    readings = []
    for _ in range(READINGS_PER_BATCH):
        _sequence[0] += 1
        readings.append({"sequence": _sequence[0], "kind": "heartbeat", "measured_at": now})
    return client.post(
        "/api/v1/telemetry",
        data=json.dumps({"readings": readings}),
        content_type="application/json",
        **_bearer(device["token"]),
    )


def _indicator(client: Any, probe: Probe, number: int) -> Any:
    return client.get(f"/api/v1/indicators/{probe.indicator}", **_bearer(probe.staff_token))


KINDS = [
    Kind("today", _today),
    Kind("sync", _sync),
    Kind("caseload API", _caseload),
    Kind("Mit team page", _team_page),
    Kind("telemetry ingest", _telemetry),
    Kind("indicator", _indicator),
]


def probe_from(out: Path) -> Probe:
    login = json.loads((out / "web_login.json").read_text())
    return Probe(
        citizen_tokens=[line for line in (out / "citizen_tokens.txt").read_text().splitlines() if line][:50],
        staff_token=login["token"],
        staff_cookie=login["cookie"],
        team_id=login["team_id"],
        devices=json.loads((out / "devices.json").read_text()),
        indicator=login["indicator"],
    )


def staff_login(out: Path, *, staff_index: int = 2) -> None:
    """A staff web login and the team and indicator the staff requests ask about, written to
    ``web_login.json``: the seed's staff member ``staff_index`` (2: the training team's lead)."""
    from importlib import import_module

    from django.conf import settings
    from django.test import Client

    from backend.models import AppSession, Membership, Token
    from backend.services.identity import ClientInfo, session_start
    from backend.tokens import hash_secret

    token = [line for line in (out / "staff_tokens.txt").read_text().splitlines() if line][staff_index]
    user = Token.objects.select_related("session__user").get(token_hash=hash_secret(token)).session.user
    pair = session_start(user=user, audience=AppSession.Audience.STAFF, client=ClientInfo(HOST, "mestring-bench"))
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[f"web_session:{AppSession.Audience.STAFF}"] = str(pair.session.pk)
    store.create()
    team_id = str(Membership.objects.filter(staff__user=user).values_list("team_id", flat=True).first())
    catalogue = Client().get("/api/v1/indicators", **_bearer(token))
    if catalogue.status_code != 200:
        raise SystemExit(f"the indicator catalogue answered {catalogue.status_code}: {catalogue.content[:300]!r}")
    body = catalogue.json()
    items = body.get("items", body.get("indicators", [])) if isinstance(body, dict) else body
    indicator = items[0]["key"]
    (out / "web_login.json").write_text(
        json.dumps(
            {
                "cookie": f"{settings.SESSION_COOKIE_NAME}={store.session_key}",
                "token": token,
                "team_id": team_id,
                "indicator": indicator,
            }
        )
    )


def check(response: Any, kind: Kind) -> None:
    if response.status_code != 200:
        raise SystemExit(f"{kind.name} answered {response.status_code}: {response.content[:500]!r}")
    if kind.name == "telemetry ingest" and response.json()["stored"] != READINGS_PER_BATCH:
        raise SystemExit(f"telemetry ingest stored not all readings: {response.content[:300]!r}")


@dataclass
class Finding:
    kind: str
    table: str
    rows: float
    statement: str


def _scans(plan: dict[str, Any], per_row: bool = False) -> Iterator[tuple[dict[str, Any], bool]]:
    """Every node of a plan, with whether it runs once per row of an outer node: under a SubPlan that its
    parent does not use hashed (a hashed SubPlan runs once and is looked up per row)."""
    yield plan, per_row
    conditions = json.dumps({key: value for key, value in plan.items() if key != "Plans"})
    for child in plan.get("Plans", []):
        correlated = child.get("Parent Relationship") == "SubPlan" and (
            f"hashed {child.get('Subplan Name', '')}" not in conditions
        )
        yield from _scans(child, per_row or correlated)


def sequential_scans(kind: Kind, client: Any, probe: Probe, *, big_table_rows: float = BIG_TABLE_ROWS) -> list[Finding]:
    """Run one request of ``kind``, ``EXPLAIN`` every statement it ran, and list the sequential scans of
    tables the planner thinks hold at least ``big_table_rows`` rows (``PER_ROW_TABLE_ROWS`` for a scan
    run once per row of an outer query)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        check(kind.request(client, probe, 0), kind)
    findings = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            statement = query["sql"]
            verb = statement.lstrip().split(None, 1)[0].upper()
            if verb not in {"SELECT", "UPDATE", "DELETE", "INSERT", "WITH"}:
                continue
            cursor.execute("EXPLAIN (FORMAT JSON) " + statement)
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            for node, per_row in _scans(plan[0]["Plan"]):
                if node.get("Node Type") != "Seq Scan":
                    continue
                table = node["Relation Name"]
                cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
                rows = float(cursor.fetchone()[0])
                if rows >= (PER_ROW_TABLE_ROWS if per_row else big_table_rows):
                    findings.append(Finding(kind.name, table, rows, statement))
    return findings


def use_database(name: str) -> None:
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = name


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(share * len(ordered) + 0.5)) - 1))]


def run(databases: list[str], out: Path, requests: int, rounds: int) -> dict[str, Any]:
    from django.test import Client

    probe = probe_from(out)
    client = Client()
    times: dict[str, dict[str, list[float]]] = {db: {kind.name: [] for kind in KINDS} for db in databases}
    per_round: list[dict[str, dict[str, float]]] = []
    for number in range(rounds):
        medians: dict[str, dict[str, float]] = {}
        # Interleaved: every size in every round, the order turned each round.
        order = databases[number % len(databases) :] + databases[: number % len(databases)]
        for database in order:
            use_database(database)
            for kind in KINDS:
                check(kind.request(client, probe, 0), kind)  # a warm connection and caches
            medians[database] = {}
            for kind in KINDS:
                samples = []
                for index in range(requests):
                    started = time.perf_counter()
                    response = kind.request(client, probe, index)
                    samples.append((time.perf_counter() - started) * 1000)
                    check(response, kind)
                times[database][kind.name] += samples
                medians[database][kind.name] = statistics.median(samples)
        per_round.append(medians)
        print(f"round {number + 1} of {rounds} done", flush=True)
    findings: dict[str, list[dict[str, Any]]] = {}
    for database in databases:
        use_database(database)
        findings[database] = [vars(finding) for kind in KINDS for finding in sequential_scans(kind, client, probe)]
    return {
        "figures": {
            database: {
                kind: {"median": statistics.median(values), "p90": percentile(values, 0.9), "n": len(values)}
                for kind, values in by_kind.items()
            }
            for database, by_kind in times.items()
        },
        "per_round": per_round,
        "findings": findings,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--databases", nargs="+", required=True)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--login", action="store_true", help="make the staff login in the first database and stop")
    arguments = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    use_database(arguments.databases[0])
    if arguments.login:
        staff_login(arguments.out)
        return 0
    result = run(arguments.databases, arguments.out, arguments.requests, arguments.rounds)
    (arguments.out / "growth.json").write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
