"""The database refuses to delete access-log rows younger than a year, whatever code asks.

Retention (ACCESS_LOG_RETENTION_DAYS, at least 365) removes older rows; nothing removes newer ones.
"""

from django.db import migrations

TABLE = "backend_accesslogentry"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            """
            CREATE OR REPLACE FUNCTION mestring_access_log_no_early_delete() RETURNS trigger AS $$
            BEGIN
                IF OLD.at > now() - interval '365 days' THEN
                    RAISE EXCEPTION 'access-log rows are kept for at least a year';
                END IF;
                RETURN OLD;
            END;
            $$ LANGUAGE plpgsql;
            """
        )
        schema_editor.execute(
            f"CREATE TRIGGER access_log_no_early_delete BEFORE DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION mestring_access_log_no_early_delete();"
        )
    elif vendor == "sqlite":
        schema_editor.execute(
            f"CREATE TRIGGER access_log_no_early_delete BEFORE DELETE ON {TABLE} "
            "WHEN OLD.at > strftime('%Y-%m-%d %H:%M:%f', 'now', '-365 days') "
            "BEGIN SELECT RAISE(ABORT, 'access-log rows are kept for at least a year'); END;"
        )


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS access_log_no_early_delete ON {TABLE};")
        schema_editor.execute("DROP FUNCTION IF EXISTS mestring_access_log_no_early_delete();")
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS access_log_no_early_delete;")


class Migration(migrations.Migration):
    dependencies = [("backend", "0003_user_totp_last_step")]

    operations = [migrations.RunPython(forwards, backwards)]
