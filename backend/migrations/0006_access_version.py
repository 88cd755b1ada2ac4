"""The access version: raised by the database itself, in the changing transaction, whenever access can end.

``ACCESS_CHANGES`` names, per table, the columns whose change can end a login's access or a care role:
an update raises the version when one of them really changes, a delete (or TRUNCATE) when a row goes, and
for memberships an insert too. Columns that change on every use (``last_used_at``, a refresh token's
``used_at``) do not raise it, and neither does a statement that touches no row. The first raise starts the
counter at the clock's microseconds, so that a counter made again (after a TRUNCATE of its own table)
never repeats a value a process still holds.
"""

from django.db import NotSupportedError, migrations, models

VERSION_TABLE = "backend_accessversion"

# table → (columns an update must change, whether an insert raises the version)
ACCESS_CHANGES: dict[str, tuple[list[str], bool]] = {
    "backend_token": (["session_id", "kind", "token_hash", "expires_at"], False),
    "backend_appsession": (["user_id", "audience", "expires_at", "revoked_at"], False),
    "backend_user": (["is_active"], False),
    "backend_staff": (["user_id"], False),
    "backend_membership": (["staff_id", "team_id", "role", "valid_from", "valid_to"], True),
}

PG_START = "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint"
SQLITE_START = "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)"


def _changed(columns: list[str], distinct: str) -> str:
    return " OR ".join(f"OLD.{column} {distinct} NEW.{column}" for column in columns)


def _postgresql(schema_editor) -> None:
    raise_version = (
        f"INSERT INTO {VERSION_TABLE} (id, value) VALUES (1, {PG_START}) "
        f"ON CONFLICT (id) DO UPDATE SET value = {VERSION_TABLE}.value + 1"
    )
    schema_editor.execute(
        f"""
        CREATE OR REPLACE FUNCTION mestring_access_changed() RETURNS trigger AS $$
        BEGIN
            {raise_version};
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql;
        """
    )
    # Statement triggers see the rows a statement inserted or deleted: a statement that touched none
    # raises nothing.
    schema_editor.execute(
        f"""
        CREATE OR REPLACE FUNCTION mestring_access_rows_changed() RETURNS trigger AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM changed_rows) THEN
                {raise_version};
            END IF;
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql;
        """
    )
    for table, (columns, insert_raises) in ACCESS_CHANGES.items():
        schema_editor.execute(
            f"CREATE TRIGGER {table}_access_changed_update AFTER UPDATE ON {table} FOR EACH ROW "
            f"WHEN ({_changed(columns, 'IS DISTINCT FROM')}) EXECUTE FUNCTION mestring_access_changed();"
        )
        schema_editor.execute(
            f"CREATE TRIGGER {table}_access_changed_delete AFTER DELETE ON {table} "
            "REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION mestring_access_rows_changed();"
        )
        schema_editor.execute(
            f"CREATE TRIGGER {table}_access_changed_truncate AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION mestring_access_changed();"
        )
        if insert_raises:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_access_changed_insert AFTER INSERT ON {table} "
                "REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT "
                "EXECUTE FUNCTION mestring_access_rows_changed();"
            )


def _sqlite(schema_editor) -> None:
    raise_version = (
        f"INSERT OR IGNORE INTO {VERSION_TABLE} (id, value) VALUES (1, {SQLITE_START}); "
        f"UPDATE {VERSION_TABLE} SET value = value + 1 WHERE id = 1;"
    )
    for table, (columns, insert_raises) in ACCESS_CHANGES.items():
        schema_editor.execute(
            f"CREATE TRIGGER {table}_access_changed_update AFTER UPDATE ON {table} FOR EACH ROW "
            f"WHEN {_changed(columns, 'IS NOT')} BEGIN {raise_version} END;"
        )
        schema_editor.execute(
            f"CREATE TRIGGER {table}_access_changed_delete AFTER DELETE ON {table} FOR EACH ROW "
            f"BEGIN {raise_version} END;"
        )
        if insert_raises:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_access_changed_insert AFTER INSERT ON {table} FOR EACH ROW "
                f"BEGIN {raise_version} END;"
            )


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _postgresql(schema_editor)
    elif vendor == "sqlite":
        _sqlite(schema_editor)
    else:
        # Without the triggers the version would never move and the websocket hub would keep checks that
        # a change has ended: refuse rather than run open.
        raise NotSupportedError(f"The access version triggers are written for PostgreSQL and SQLite, not {vendor}.")


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    events = ["update", "delete", "truncate", "insert"]
    for table in ACCESS_CHANGES:
        for event in events:
            name = f"{table}_access_changed_{event}"
            if vendor == "postgresql":
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table};")
            else:
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name};")
    if vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS mestring_access_rows_changed();")
        schema_editor.execute("DROP FUNCTION IF EXISTS mestring_access_changed();")


class Migration(migrations.Migration):
    dependencies = [
        ("backend", "0005_duty"),
    ]

    operations = [
        migrations.CreateModel(
            name="AccessVersion",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("value", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
