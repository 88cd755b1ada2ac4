"""IT pages benchmark (issue 15), on PostgreSQL, in one run:

1. **Register page against the API list**: ``GET /staff/it/enheder/`` (the register, filtered, 25 a page, rendered
   with its layout) against ``GET /api/v1/devices`` with the same filters, at 50,000 devices. Both through the
   whole Django stack in this process (middleware, login, access checks, the access-log rules), timed around the
   handler: the server's time, no network. Rounds interleave the two request by request (page, API, API, page,
   ...), so both see the same machine; each round's ratio is its page median over its API median.
2. **CSV import, set-based against row by row**: 5,000 new devices from one CSV file through
   ``velfaerdsteknologi.transfer`` (checked as a whole, a few bulk inserts in one transaction) against the same
   rows imported one at a time with the ORM (each row checked by the API's ``DeviceIn``, its model looked up,
   registered by ``device_register``: the device, its first lifecycle step, its maintenance and reminders), in one
   transaction. Alternating order per round; after each import its devices are deleted again (not timed). Both
   must leave the same rows behind.

    .venv/bin/python -m bench.itpages --database-url postgres://mestring:mestring@127.0.0.1:25432/mestring \\
        [--devices 50000] [--rounds 5] [--requests 40] [--rows 5000] [--import-rounds 3] [--keep-database]

Creates ``mestring_bench_itpages`` on the server of the URL (a loopback host), migrates it with a production
environment (``DEBUG=0``, new keys), seeds it, measures, and drops it at the end.
"""

import argparse
import os
import secrets
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from cryptography.fernet import Fernet

BENCH_DATABASE = "mestring_bench_itpages"
FILTERS = {"status": "in_use", "category": "fall_detector"}
PAGE_PATH = "/staff/it/enheder/"
API_PATH = "/api/v1/devices"
STATUSES = ["in_use"] * 12 + ["in_stock"] * 5 + ["reserved", "in_repair", "cleaning"]


def say(text: str) -> None:
    print(text, flush=True)


def run_database(url: str, *, name: str) -> str:
    """Create the run's database on the URL's server (dropped first if a run left it) and return its URL."""
    import psycopg

    parts = urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("the PostgreSQL URL must name a loopback host")
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def drop_database(url: str, *, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def production_environment(database_url: str) -> None:
    for variable in ("REDIS_URL", "DJANGO_SETTINGS_MODULE"):
        os.environ.pop(variable, None)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database_url,
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        CPR_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        CPR_HASH_KEY=secrets.token_urlsafe(32),
        ALLOWED_HOSTS="testserver,127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        PASSWORD_LOGIN_ENABLED="0",
        EMBEDDED_WORKER="0",
        LOG_LEVEL="WARNING",
    )


@dataclass
class World:
    municipality: Any
    it_user: Any
    models: list[Any]


def seed(device_count: int) -> World:
    """One municipality, an IT member of its welfare-technology team, ten catalogue models in four categories and
    ``device_count`` devices spread over them, their statuses and twenty depots (bulk inserts)."""
    from django.db import transaction
    from django.utils import timezone

    from backend.models import Membership, Municipality, OrganisationUnit, Staff, StaffRole, Team, User
    from velfaerdsteknologi.models import Device, DeviceCategory
    from velfaerdsteknologi.services.alerts import device_model_create

    with transaction.atomic():
        municipality = Municipality.objects.create(code="998", name="Benchmark Kommune")
        unit = OrganisationUnit.objects.create(municipality=municipality, name="Velfærdsteknologi")
        team = Team.objects.create(unit=unit, name="Velfærdsteknologi", kind=Team.Kind.WELFARE_TECHNOLOGY)
        user = User.objects.create(username="bench-it", display_name="IT Bench")
        staff = Staff.objects.create(user=user, municipality=municipality, title="IT")
        Membership.objects.create(staff=staff, team=team, role=StaffRole.IT)
        models = [
            device_model_create(
                manufacturer="Bench",
                model_number=f"{code.upper()}-{number}",
                name=f"{code} {number}",
                category=DeviceCategory.objects.get(code=code),
                telemetry_kinds=["heartbeat", "battery"],
                heartbeat_interval_seconds=300,
                is_battery_powered=True,
                service_interval_days=365,
                test_call_interval_days=30,
            )
            for code, count in (("fall_detector", 4), ("bed_sensor", 2), ("medicine_dispenser", 2), ("lift", 2))
            for number in range(count)
        ]
        now = timezone.now()
        Device.objects.bulk_create(
            (
                Device(
                    municipality=municipality,
                    model=models[index % len(models)],
                    serial_number=f"SN-{index:06d}",
                    status=STATUSES[index % len(STATUSES)],
                    status_changed_at=now,
                    location=f"Depot {index % 20}",
                    battery_level=index % 100,
                    last_seen_at=now,
                )
                for index in range(device_count)
            ),
            batch_size=5000,
        )
    return World(municipality, user, models)


def clients(world: World) -> tuple[Any, Any]:
    """A browser logged in to the staff pages, and an API client with a bearer token, both as the IT member."""
    from django.conf import settings
    from django.test import Client

    from backend.models import AppSession
    from backend.services.identity import ClientInfo, session_start

    info = ClientInfo("127.0.0.1", "mestring-bench")
    browser = Client()
    pair = session_start(user=world.it_user, audience=AppSession.Audience.STAFF, client=info)
    session = browser.session
    session[f"web_session:{AppSession.Audience.STAFF}"] = str(pair.session.pk)
    session.save()
    browser.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    token = session_start(user=world.it_user, audience=AppSession.Audience.STAFF, client=info).access_token
    api = Client(headers={"Authorization": f"Bearer {token}"})
    return browser, api


def query_count(client: Any, path: str, params: dict[str, str]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, params)
    assert response.status_code == 200, response.status_code
    return len(queries)


def register_against_api(world: World, *, rounds: int, requests: int) -> dict[str, Any]:
    browser, api = clients(world)
    page_params = {**FILTERS, "sort": "serial"}
    api_params = {**FILTERS, "limit": "25"}
    first_page = browser.get(PAGE_PATH, page_params).content.decode()
    first_api = api.get(API_PATH, api_params).json()
    serials = [item["serial_number"] for item in first_api["items"]]
    assert len(serials) == 25 and all(serial in first_page for serial in serials), "the page and API differ"
    counts = {"page": query_count(browser, PAGE_PATH, page_params), "api": query_count(api, API_PATH, api_params)}
    for _ in range(20):  # warm-up: templates, connections, caches
        browser.get(PAGE_PATH, page_params)
        api.get(API_PATH, api_params)
    results: list[dict[str, float]] = []
    for round_number in range(rounds):
        page_times, api_times = [], []
        for index in range(requests):
            order = ("page", "api") if (index + round_number) % 2 == 0 else ("api", "page")
            for which in order:
                client, path, params = (
                    (browser, PAGE_PATH, page_params) if which == "page" else (api, API_PATH, api_params)
                )
                started = time.perf_counter()
                response = client.get(path, params)
                elapsed = time.perf_counter() - started
                assert response.status_code == 200
                (page_times if which == "page" else api_times).append(elapsed)
        page_median, api_median = statistics.median(page_times), statistics.median(api_times)
        results.append({"page_ms": page_median * 1000, "api_ms": api_median * 1000, "ratio": page_median / api_median})
        say(
            f"  round {round_number + 1}: page {page_median * 1000:.2f} ms, API {api_median * 1000:.2f} ms, "
            f"ratio {page_median / api_median:.3f}"
        )
    return {"counts": counts, "rounds": results}


def csv_rows(world: World, prefix: str, rows: int) -> str:
    lines = ["serial_number,manufacturer,model_number,firmware_version,purchase_date,location"]
    for index in range(rows):
        model = world.models[index % len(world.models)]
        lines.append(
            f"{prefix}-{index:05d},{model.manufacturer},{model.model_number},2.1,2026-01-15,Depot {index % 20}"
        )
    return "\n".join(lines) + "\n"


def import_set_based(world: World, text: str) -> int:
    from velfaerdsteknologi.transfer import DEVICES, csv_import

    report = csv_import(DEVICES, municipality=world.municipality, by=world.it_user, csv_text=text, dry_run=False)
    assert not report.errors, report.errors[:3]
    return report.created


def import_row_by_row(world: World, text: str) -> int:
    """The same file one row at a time with the ORM: each row checked by the API's schema, its model looked up
    and registered by the service, all in one transaction (any error rolls everything back)."""
    import csv
    import io

    from django.db import transaction

    from velfaerdsteknologi.models import DeviceModel
    from velfaerdsteknologi.schemas import DeviceIn
    from velfaerdsteknologi.services.devices import device_register

    created = 0
    with transaction.atomic():
        for row in csv.DictReader(io.StringIO(text)):
            model = DeviceModel.objects.get(manufacturer=row["manufacturer"], model_number=row["model_number"])
            device_in = DeviceIn.model_validate(
                {
                    "model_id": model.pk,
                    "serial_number": row["serial_number"],
                    "firmware_version": row["firmware_version"],
                    "purchase_date": row["purchase_date"],
                    "location": row["location"],
                }
            )
            device_register(
                municipality=world.municipality,
                device_model=model,
                by=world.it_user,
                **device_in.model_dump(exclude={"model_id"}),
            )
            created += 1
    return created


def imported_rows(prefix: str) -> tuple[int, int, int, int]:
    from notifications.models import ReminderOccurrence
    from velfaerdsteknologi.models import Device, DeviceTransition, MaintenanceTask

    devices = Device.objects.filter(serial_number__startswith=f"{prefix}-")
    tasks = MaintenanceTask.objects.filter(device__in=devices)
    keys = [f"maintenance:{pk}" for pk in tasks.values_list("pk", flat=True)]
    return (
        devices.count(),
        DeviceTransition.objects.filter(device__in=devices).count(),
        tasks.count(),
        ReminderOccurrence.objects.filter(source_key__in=keys).count(),
    )


def remove_imported(prefix: str) -> None:
    from django.db import transaction

    from notifications.models import ReminderOccurrence
    from velfaerdsteknologi.models import Device, MaintenanceTask

    with transaction.atomic():
        devices = Device.objects.filter(serial_number__startswith=f"{prefix}-")
        keys = [
            f"maintenance:{pk}"
            for pk in MaintenanceTask.objects.filter(device__in=devices).values_list("pk", flat=True)
        ]
        ReminderOccurrence.objects.filter(source_key__in=keys).delete()
        devices.delete()


def import_side_by_side(world: World, *, rounds: int, rows: int) -> list[dict[str, float]]:
    ways = {"set": import_set_based, "row": import_row_by_row}
    results = []
    for round_number in range(rounds):
        seconds: dict[str, float] = {}
        left: dict[str, tuple[int, int, int, int]] = {}
        order = ("set", "row") if round_number % 2 == 0 else ("row", "set")
        for way in order:
            prefix = f"IMP{round_number}{way.upper()}"
            text = csv_rows(world, prefix, rows)
            started = time.perf_counter()
            created = ways[way](world, text)
            seconds[way] = time.perf_counter() - started
            assert created == rows
            left[way] = imported_rows(prefix)
            remove_imported(prefix)
        assert left["set"] == left["row"], left
        results.append({"set_s": seconds["set"], "row_s": seconds["row"], "ratio": seconds["row"] / seconds["set"]})
        say(
            f"  round {round_number + 1}: set-based {seconds['set']:.3f} s, row by row {seconds['row']:.3f} s, "
            f"row by row / set-based {seconds['row'] / seconds['set']:.1f}; rows left by each: {left['set']}"
        )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--devices", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=40, help="requests of each kind per round")
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--import-rounds", type=int, default=3, help="0 leaves the import out")
    parser.add_argument("--keep-database", action="store_true")
    arguments = parser.parse_args(argv)
    if not arguments.database_url.startswith("postgres"):
        raise SystemExit("give a PostgreSQL URL (--database-url or DATABASE_URL)")
    url = run_database(arguments.database_url, name=BENCH_DATABASE)
    production_environment(url)
    import django

    django.setup()
    from django.core.management import call_command

    try:
        say(f"migrating {BENCH_DATABASE}")
        call_command("migrate", verbosity=0)
        say(f"seeding {arguments.devices} devices")
        world = seed(arguments.devices)
        call_command("migrate", verbosity=0)  # nothing to do; keeps the connection warm
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        say(f"register page against API list, {arguments.rounds} rounds × {arguments.requests} requests each")
        register = register_against_api(world, rounds=arguments.rounds, requests=arguments.requests)
        say(f"CSV import of {arguments.rows} rows, {arguments.import_rounds} rounds")
        imports = import_side_by_side(world, rounds=arguments.import_rounds, rows=arguments.rows)
    finally:
        from django.db import connections

        connections.close_all()
        if not arguments.keep_database:
            drop_database(arguments.database_url, name=BENCH_DATABASE)
    ratios = [item["ratio"] for item in register["rounds"]]
    import_ratios = [item["ratio"] for item in imports] or [float("nan")]
    say("")
    say(
        f"queries per request at {arguments.devices} devices: page {register['counts']['page']}, "
        f"API {register['counts']['api']}"
    )
    say(
        f"register page / API list, per round: median {statistics.median(ratios):.3f}, worst {max(ratios):.3f} "
        f"(page medians {', '.join(f'{item["page_ms"]:.2f}' for item in register['rounds'])} ms; "
        f"API medians {', '.join(f'{item["api_ms"]:.2f}' for item in register['rounds'])} ms)"
    )
    say(
        f"CSV import, row by row / set-based, per round: median {statistics.median(import_ratios):.1f}, "
        f"lowest {min(import_ratios):.1f} (set-based {', '.join(f'{item["set_s"]:.2f}' for item in imports)} s; "
        f"row by row {', '.join(f'{item["row_s"]:.2f}' for item in imports)} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
