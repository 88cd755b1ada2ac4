from django.core.management.base import BaseCommand

from backend.tasks import retention_purge


class Command(BaseCommand):
    help = "Remove access-log rows past ACCESS_LOG_RETENTION_DAYS and spent idempotency keys."

    def handle(self, *args: object, **options: object) -> None:
        removed = retention_purge.call()
        self.stdout.write(
            f"Removed {removed['access_log']} access-log rows and {removed['idempotency_keys']} idempotency keys."
        )
