"""The database itself refuses updates of access-log rows, whatever code asks."""

from django.db import migrations

TABLE = "backend_accesslogentry"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            """
            CREATE OR REPLACE FUNCTION mestring_access_log_no_update() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'the access log is append-only';
            END;
            $$ LANGUAGE plpgsql;
            """
        )
        schema_editor.execute(
            f"CREATE TRIGGER access_log_no_update BEFORE UPDATE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION mestring_access_log_no_update();"
        )
    elif vendor == "sqlite":
        schema_editor.execute(
            f"CREATE TRIGGER access_log_no_update BEFORE UPDATE ON {TABLE} "
            "BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;"
        )


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS access_log_no_update ON {TABLE};")
        schema_editor.execute("DROP FUNCTION IF EXISTS mestring_access_log_no_update();")
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS access_log_no_update;")


class Migration(migrations.Migration):
    dependencies = [("backend", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
