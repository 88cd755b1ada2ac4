"""The access version: raised by the database itself, in the changing transaction, whenever access can end.

The triggers that raise it are made from the access declaration by ``backend.access.triggers`` at the end
of every ``migrate`` (``BackendConfig.ready``), when every column the declaration names exists; going back
past this migration removes them.
"""

from django.db import migrations, models


def backwards(apps, schema_editor):
    from backend.access import triggers

    triggers.uninstall(schema_editor.connection)


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
        migrations.RunPython(migrations.RunPython.noop, backwards),
    ]
