from django.core.management.base import BaseCommand

from backend.partitions import MONTHS_AHEAD, partitions_ensure


class Command(BaseCommand):
    help = (
        "Make the monthly partitions of the history tables (the access log, telemetry readings, stream events, "
        "reminders, push deliveries) for this month and the next "
        f"{MONTHS_AHEAD} (PostgreSQL; nothing on SQLite). Safe to run any time."
    )

    def handle(self, *args: object, **options: object) -> None:
        made = partitions_ensure()
        self.stdout.write(f"Made {len(made)} partitions{': ' + ', '.join(made) if made else ''}.")
