"""Bytes per row (table, TOAST and indexes) of the history tables on PostgreSQL, for the capacity model.

Creates ``mestring_bench_rows`` on the loopback server, migrates it (the shipped schema, partitions
included), fills each table with ``--rows`` rows of representative values — sizes as the platform writes
them: UUIDs, a staff member's name, ``training`` as resource type, a reading's small JSON value, a stream
event's payload of two ids, a notification's Danish and English texts of ~80 characters — through
``session_replication_role = replica`` (as the ``postgres`` superuser: foreign keys and triggers are not
what is measured), runs ``VACUUM ANALYZE`` and reports ``pg_total_relation_size`` over the table and its
partitions divided by the rows. Drops the database at the end.

    .venv/bin/python -m bench.row_sizes --database-url "$DATABASE_URL" --rows 200000
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg

ROOT = Path(__file__).resolve().parents[2]
DATABASE = "mestring_bench_rows"
UUID = "gen_random_uuid()"
PAST = "now() - random() * interval '20 days'"
TEXT_80 = "repeat('Husk din træning i dag kl. 10 ', 3)"

# Column → SQL expression; columns not named take their default or NULL.
TABLES: dict[str, dict[str, str]] = {
    "backend_accesslogentry": {
        "at": PAST,
        "actor_id": UUID,
        "actor_name": "'Anne Marie Hansen'",
        "actor_role": "'therapist'",
        "citizen_id": UUID,
        "resource_type": "'training'",
        "resource_id": f"{UUID}::text",
        "action": "'read'",
        "purpose": "'care'",
        "request_id": "md5(random()::text)",
    },
    "velfaerdsteknologi_reading": {
        "device_id": UUID,
        "sequence": "n",
        "kind": "'heartbeat'",
        "value": "NULL",
        "numeric_value": "NULL",
        "measured_at": PAST,
        "received_at": "now()",
    },
    "notifications_streamevent": {
        "user_id": UUID,
        "type": "'notification.created'",
        "payload": f"jsonb_build_object('id', {UUID}, 'notification_id', {UUID})",
        "dedupe_key": "''",
        "created_at": PAST,
    },
    "notifications_notification": {
        "id": UUID,
        "recipient_id": UUID,
        "kind": "'reminder.training'",
        "text_da": TEXT_80,
        "text_en": TEXT_80,
        "push_text_da": "'Husk din træning'",
        "push_text_en": "'Time to train'",
        "refs": f"jsonb_build_object('slot', {UUID})",
        "dedupe_key": f"{UUID}::text",
        "created_at": PAST,
    },
    "notifications_pushdelivery": {
        "notification_id": UUID,
        "install_id": UUID,
        "status": "'sent'",
        "attempts": "1",
        "next_attempt_at": PAST,
        "claim": "''",
        "sent_at": PAST,
        "message_id": "'projects/mestring/messages/' || md5(random()::text)",
        "last_error": "''",
        "created_at": PAST,
    },
    "notifications_reminderoccurrence": {
        "id": UUID,
        "recipient_id": UUID,
        "audience": "''",
        "kind": "'reminder.training'",
        "source_key": f"'slot:' || {UUID}::text",
        "subject_key": "''",
        "due_at": PAST,
        "refs": f"jsonb_build_object('slot', {UUID})",
        "params": "'{}'::jsonb",
        "status": "'sent'",
        "suppressed_reason": "''",
        "claimed_by": "''",
        "notification_id": UUID,
        "created_at": PAST,
        "updated_at": PAST,
    },
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--rows", type=int, default=200_000)
    arguments = parser.parse_args()
    url = urlparse(arguments.database_url)
    if url.scheme not in ("postgres", "postgresql") or url.hostname not in ("127.0.0.1", "localhost"):
        parser.error("--database-url must name PostgreSQL on loopback")
    admin = f"host={url.hostname} port={url.port} user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        connection.execute(f"CREATE DATABASE {DATABASE} OWNER {url.username}")
    try:
        bench_url = urlunparse(url._replace(path=f"/{DATABASE}"))
        environment = {**os.environ, "DATABASE_URL": bench_url, "EMBEDDED_WORKER": "0"}
        subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=environment,
            check=True,
            capture_output=True,
        )
        print(f"{arguments.rows:,} rows per table; bytes per row = table + TOAST + indexes (all partitions) / rows")
        print(f"{'table':34} {'bytes/row':>10} {'of which indexes':>17}")
        with psycopg.connect(f"host={url.hostname} port={url.port} user=postgres dbname={DATABASE}") as connection:
            connection.execute("SET session_replication_role = replica")
            for table, values in TABLES.items():
                columns = ", ".join(values)
                expressions = ", ".join(values.values())
                connection.execute(
                    f"INSERT INTO {table} ({columns}) SELECT {expressions} FROM generate_series(1, %s) AS n",  # noqa: S608
                    [arguments.rows],
                )
            connection.commit()
            connection.autocommit = True
            for table in TABLES:
                connection.execute(f"VACUUM ANALYZE {table}")
                total, indexes = connection.execute(
                    "WITH parts AS (SELECT to_regclass(%s) AS oid UNION ALL "
                    "SELECT inhrelid FROM pg_inherits WHERE inhparent = to_regclass(%s)) "
                    "SELECT sum(pg_total_relation_size(oid)), sum(pg_indexes_size(oid)) FROM parts",
                    [table, table],
                ).fetchone()
                print(f"{table:34} {total / arguments.rows:10.0f} {indexes / arguments.rows:17.0f}", flush=True)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


if __name__ == "__main__":
    main()
