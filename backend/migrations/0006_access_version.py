"""The access version: raised by the database itself, in the changing transaction, whenever access can end.

``ACCESS_TRIGGERS`` names, per table, what raises it: a token's or session's validity changing or the row
going, a user deactivated, a staff member's user changed, a membership made, changed or ended. Columns that
change on every use (``last_used_at``, a refresh token's ``used_at``) do not raise it.
"""

from django.db import migrations, models

VERSION_TABLE = "backend_accessversion"

# table → (the trigger's events on PostgreSQL, the same events one per SQLite trigger)
ACCESS_TRIGGERS: dict[str, tuple[str, list[str]]] = {
    "backend_token": (
        "UPDATE OF session_id, kind, token_hash, expires_at OR DELETE",
        ["UPDATE OF session_id, kind, token_hash, expires_at", "DELETE"],
    ),
    "backend_appsession": (
        "UPDATE OF user_id, audience, expires_at, revoked_at OR DELETE",
        ["UPDATE OF user_id, audience, expires_at, revoked_at", "DELETE"],
    ),
    "backend_user": ("UPDATE OF is_active OR DELETE", ["UPDATE OF is_active", "DELETE"]),
    "backend_staff": ("UPDATE OF user_id OR DELETE", ["UPDATE OF user_id", "DELETE"]),
    "backend_membership": ("INSERT OR UPDATE OR DELETE", ["INSERT", "UPDATE", "DELETE"]),
}

RAISE = (
    f"INSERT INTO {VERSION_TABLE} (id, value) VALUES (1, 1) "
    f"ON CONFLICT (id) DO UPDATE SET value = {VERSION_TABLE}.value + 1"
)


def _sqlite_name(table: str, event: str) -> str:
    return f"{table}_access_changed_{event.split()[0].lower()}"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            f"""
            CREATE OR REPLACE FUNCTION mestring_access_changed() RETURNS trigger AS $$
            BEGIN
                {RAISE};
                RETURN NULL;
            END;
            $$ LANGUAGE plpgsql;
            """
        )
        for table, (events, _) in ACCESS_TRIGGERS.items():
            schema_editor.execute(
                f"CREATE TRIGGER {table}_access_changed AFTER {events} ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION mestring_access_changed();"
            )
    elif vendor == "sqlite":
        for table, (_, events) in ACCESS_TRIGGERS.items():
            for event in events:
                schema_editor.execute(
                    f"CREATE TRIGGER {_sqlite_name(table, event)} AFTER {event} ON {table} "
                    f"BEGIN INSERT OR IGNORE INTO {VERSION_TABLE} (id, value) VALUES (1, 0); "
                    f"UPDATE {VERSION_TABLE} SET value = value + 1 WHERE id = 1; END;"
                )


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for table in ACCESS_TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_access_changed ON {table};")
        schema_editor.execute("DROP FUNCTION IF EXISTS mestring_access_changed();")
    elif vendor == "sqlite":
        for table, (_, events) in ACCESS_TRIGGERS.items():
            for event in events:
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {_sqlite_name(table, event)};")


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
