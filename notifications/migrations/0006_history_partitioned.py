"""On PostgreSQL stream events, reminders and push deliveries become partitioned by month of ``created_at``
(``notifications.partitioning``, ``backend.partitions``), with every row they hold, their indexes and
constraints; their unique keys get ``created_at`` last. A snoozed reminder's pointer to the first one is
no longer a foreign key (none can point into a partitioned table by id alone). SQLite keeps plain tables."""

import django.db.models.deletion
from django.db import migrations, models

from backend.partitions import partition_table
from notifications.partitioning import PUSH_DELIVERIES, REMINDERS, STREAM_EVENTS

conversions = [migrations.RunPython(*partition_table(spec)) for spec in (STREAM_EVENTS, REMINDERS, PUSH_DELIVERIES)]


class Migration(migrations.Migration):
    dependencies = [
        ("backend", "0007_access_log_partitioned"),
        ("notifications", "0005_foreign_keys_indexed_by_composites"),
    ]

    operations = [
        migrations.AlterField(
            model_name="reminderoccurrence",
            name="snoozed_from",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="snoozes",
                to="notifications.reminderoccurrence",
            ),
        ),
        *conversions,
    ]
