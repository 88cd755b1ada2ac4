"""Telemetry readings are stored once per (device, sequence, measured_at), and on PostgreSQL partitioned by
month of ``measured_at`` (``backend.partitions``): PostgreSQL requires the partition column in every unique
constraint. A device that sends a reading again sends its measured moment again, so a resend is still
recognised. SQLite keeps the plain table."""

from django.db import migrations, models

from backend.partitions import READINGS, partition_table

forwards, backwards = partition_table(READINGS)


class Migration(migrations.Migration):
    dependencies = [
        ("backend", "0007_access_log_partitioned"),
        ("velfaerdsteknologi", "0006_assignment_care_references"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="reading", name="reading_unique_sequence"),
        migrations.AddConstraint(
            model_name="reading",
            constraint=models.UniqueConstraint(
                fields=("device", "sequence", "measured_at"), name="reading_unique_sequence"
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
