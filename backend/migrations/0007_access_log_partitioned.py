"""On PostgreSQL the access log becomes partitioned by month of ``at`` (``backend.partitions``), with every
row it holds, its indexes and its append-only and delete-floor triggers. SQLite keeps the plain table."""

from django.db import migrations

from backend.partitions import ACCESS_LOG, partition_table

forwards, backwards = partition_table(ACCESS_LOG)


class Migration(migrations.Migration):
    dependencies = [("backend", "0006_access_version")]

    operations = [migrations.RunPython(forwards, backwards)]
