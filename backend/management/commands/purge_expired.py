from django.core.management.base import BaseCommand

from backend.tasks import retention_purge


class Command(BaseCommand):
    help = (
        "Remove access-log rows past ACCESS_LOG_RETENTION_DAYS, telemetry readings past TELEMETRY_RETENTION_DAYS, "
        "spent idempotency keys and long-expired tokens (on PostgreSQL expired months are dropped whole)."
    )

    def handle(self, *args: object, **options: object) -> None:
        removed = retention_purge.call()
        self.stdout.write(
            f"Removed {removed['access_log']} access-log rows, {removed['readings']} readings, "
            f"{removed['idempotency_keys']} idempotency keys "
            f"and {removed['tokens']} expired tokens."
        )
