"""Seed the growth benchmark on PostgreSQL: a base of citizens made by the existing seeders, then copies of it.

    python -m bench.growth.seed --out DIR --citizens 1000            # the base, in the run's DATABASE_URL
    python -m bench.growth.seed --copies 9                           # 9 more copies of the base in it

**The base** (``seed_base``): ``bench.today.seed`` (one municipality, four teams, 20 staff with logins, the
citizens with logins, an active training plan each with slots for two weeks and their session logs), then
one fall detector for every other citizen with two days of hourly heartbeats and a battery reading a day
(the first ``PROBE_DEVICES`` get a token), and 20 access-log rows per citizen over the last 30 days.
Tokens and ids go to ``DIR`` (``citizen_tokens.txt``, ``staff_tokens.txt``, ``devices.json``).

**Copies** (``clone``): every table that holds the base's rows is copied ``--copies`` times by one
``INSERT … SELECT … FROM table, generate_series(1, copies)`` per table, inside PostgreSQL, in one
transaction (Django's foreign keys are deferred, so the order of tables does not matter). Copy ``k`` maps
every primary key and every foreign key into the copied tables: a UUID to ``md5(id || ':' || k)::uuid``,
an integer to ``id + k × span`` (span above the base's largest id). Text in a unique constraint that no
mapped key covers gets the suffix ``~k``; the municipality's three-digit code becomes ``k`` itself. So a
copy is a municipality of its own, with its own organisation, staff, citizens and history, as a national
deployment holds them; the tokens in ``DIR`` stay those of the base (the first municipality). Tables
shared by all municipalities (the exercise library, device categories, tables of codes keyed by the code,
Django's own) are not copied.
"""

import argparse
import json
import os
import sys
from pathlib import Path

PROBE_DEVICES = 20
ACCESS_LOG_ROWS_PER_CITIZEN = 20
READING_HOURS = 48
# Models whose rows every municipality shares: never copied.
SHARED = {
    "contenttypes.ContentType",
    "auth.Permission",
    "backend.AccessVersion",
    "auth.Group",
    "sessions.Session",
    "selvbetjening.Exercise",
    "selvbetjening.ExerciseImage",
    "velfaerdsteknologi.DeviceCategory",
}


def seed_base(*, out: Path, citizen_count: int) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from backend.models import Citizen, Municipality
    from bench.today.seed import seed as seed_today
    from bench.velfaerdsteknologi.seed import install_devices

    seed_today(out=out, citizen_count=citizen_count)
    now = timezone.now()
    with transaction.atomic():
        municipality = Municipality.objects.get(code="999")
        citizens = list(Citizen.objects.filter(municipality=municipality).order_by("user__username"))
        devices = install_devices(
            municipality,
            citizens[::2],
            serial_prefix="GROWTH",
            heartbeat_interval_seconds=3600,
            installed_days_ago=3,
            with_tokens=PROBE_DEVICES,
        )
        with connection.cursor() as cursor:
            # History in SQL: two days of hourly heartbeats and a daily battery reading per device.
            cursor.execute(
                """
                INSERT INTO velfaerdsteknologi_reading
                    (device_id, sequence, kind, value, numeric_value, measured_at, received_at)
                SELECT d.id, h, CASE WHEN h %% 24 = 0 THEN 'battery' ELSE 'heartbeat' END,
                       CASE WHEN h %% 24 = 0 THEN '80'::jsonb ELSE NULL END,
                       CASE WHEN h %% 24 = 0 THEN 80.0 ELSE NULL END,
                       %s - make_interval(hours => %s - h), %s - make_interval(hours => %s - h)
                FROM velfaerdsteknologi_device d, generate_series(1, %s) h
                """,
                [now, READING_HOURS, now, READING_HOURS, READING_HOURS],
            )
            # Access-log history: reads by the citizen and by staff over the last 30 days.
            cursor.execute(
                """
                INSERT INTO backend_accesslogentry
                    (at, actor_id, actor_name, actor_role, citizen_id, resource_type, resource_id, action,
                     purpose, request_id)
                SELECT %s - make_interval(hours => g * 36), c.user_id, 'Growth bench', 'citizen', c.id,
                       'training', c.id::text, 'read', 'own_use', ''
                FROM backend_citizen c, generate_series(1, %s) g
                """,
                [now, ACCESS_LOG_ROWS_PER_CITIZEN],
            )
    (out / "devices.json").write_text(json.dumps(devices, indent=1))


class Column:
    def __init__(self, name: str, expression: str) -> None:
        self.name = name
        self.expression = expression


def clone(copies: int) -> dict[str, int]:
    """Copy every table holding the base's rows ``copies`` times; the rows added per table."""
    from django.apps import apps
    from django.db import connection, models, transaction

    if copies < 1:
        return {}
    if copies > 998:
        raise SystemExit("at most 998 copies: each copy is a municipality with a three-digit code")
    quote = connection.ops.quote_name
    counted: dict[type[models.Model], int] = {}
    with connection.cursor() as cursor:
        for model in apps.get_models():
            if model._meta.label in SHARED or not model._meta.managed or model._meta.proxy:
                continue
            if not isinstance(model._meta.pk, models.UUIDField | models.AutoField | models.BigAutoField):
                continue  # a table of codes (a natural key), shared like the library
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {quote(model._meta.db_table)})")  # noqa: S608
            if cursor.fetchone()[0]:
                counted[model] = 0
        spans: dict[type[models.Model], int] = {}
        for model in counted:
            pk = model._meta.pk
            if isinstance(pk, models.AutoField | models.BigAutoField):
                cursor.execute(f"SELECT coalesce(max({quote(pk.column)}), 0) FROM {quote(model._meta.db_table)}")  # noqa: S608
                spans[model] = int(cursor.fetchone()[0]) + 1

    def mapped(field: models.Field, target: type[models.Model], column: str) -> str:
        if target in spans:
            return f"{column} + k::bigint * {spans[target]}"
        if isinstance(target._meta.pk, models.UUIDField):
            return f"md5({column}::text || ':' || k)::uuid"
        raise SystemExit(f"cannot map the key {field} of {target._meta.label}")

    def unique_sets(model: type[models.Model]) -> list[list[str]]:
        sets = [[field.name] for field in model._meta.local_concrete_fields if field.unique and not field.primary_key]
        sets += [list(names) for names in model._meta.unique_together]
        sets += [
            list(constraint.fields)
            for constraint in model._meta.constraints
            if isinstance(constraint, models.UniqueConstraint) and constraint.fields
        ]
        return sets

    statements = []
    for model in counted:
        table = quote(model._meta.db_table)
        remapped: set[str] = set()
        expressions: dict[str, str] = {}
        for field in model._meta.local_concrete_fields:
            column = f"t.{quote(field.column)}"
            if field.primary_key:
                expressions[field.name] = mapped(field, model, column)
                remapped.add(field.name)
            elif field.is_relation and field.related_model in counted:
                expressions[field.name] = mapped(field, field.related_model, column)
                remapped.add(field.name)
            else:
                expressions[field.name] = column
        for names in unique_sets(model):
            if remapped.intersection(names):
                continue
            for name in names:
                field = model._meta.get_field(name)
                column = f"t.{quote(field.column)}"
                if model._meta.label == "backend.Municipality" and name == "code":
                    expressions[name] = "lpad(k::text, 3, '0')"
                elif isinstance(field, models.CharField | models.TextField):
                    room = (field.max_length or 200) - 4
                    expressions[name] = f"left({column}, {room}) || '~' || k"
                elif isinstance(field, models.UUIDField):
                    expressions[name] = f"md5({column}::text || ':' || k)::uuid"
                else:
                    continue
                remapped.add(name)
        fields = model._meta.local_concrete_fields
        columns = ", ".join(quote(field.column) for field in fields)
        values = ", ".join(expressions[field.name] for field in fields)
        # Names from the models' metadata; the copy count is an int.
        statements.append(
            (
                model,
                f"INSERT INTO {table} ({columns}) SELECT {values} FROM {table} t, generate_series(1, {int(copies)}) k",  # noqa: S608
            )
        )
    tables = [model._meta.db_table for model in counted]
    with transaction.atomic(), connection.cursor() as cursor:
        # Checks still deferred in an enclosing transaction (a test's seed) would block the ALTER TABLEs.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # Row by row, the deferred foreign-key checks and the user triggers (the access version's) cost
        # more than the copy: the foreign keys are dropped and made again (one validating scan each),
        # the user triggers are off while the copies go in. The copied rows are the base's, already valid.
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conparentid = 0 AND conrelid::regclass::text = ANY(%s)",
            [[quote(table) for table in tables] + tables],
        )
        foreign_keys = cursor.fetchall()
        for table, name, _ in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
        for table in tables:
            cursor.execute(f"ALTER TABLE {quote(table)} DISABLE TRIGGER USER")
        for model, statement in statements:
            cursor.execute(statement)
            counted[model] = cursor.rowcount
        for table in tables:
            cursor.execute(f"ALTER TABLE {quote(table)} ENABLE TRIGGER USER")
        for table, name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")
        for model in spans:
            pk = model._meta.pk
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, %s), (SELECT max("
                + quote(pk.column)
                + ") FROM "  # noqa: S608
                + quote(model._meta.db_table)
                + "))",
                [model._meta.db_table, pk.column],
            )
    return {model._meta.label: rows for model, rows in counted.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="directory for the tokens (with --citizens)")
    parser.add_argument("--citizens", type=int, help="seed the base with this many citizens")
    parser.add_argument("--copies", type=int, default=0, help="copies of the base to add")
    arguments = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    if arguments.citizens:
        if arguments.out is None:
            parser.error("--citizens needs --out")
        seed_base(out=arguments.out, citizen_count=arguments.citizens)
        print(f"seeded a base of {arguments.citizens} citizens, tokens in {arguments.out}")
    if arguments.copies:
        rows = clone(arguments.copies)
        print(f"added {arguments.copies} copies: {sum(rows.values())} rows in {len(rows)} tables")
    return 0


if __name__ == "__main__":
    sys.exit(main())
