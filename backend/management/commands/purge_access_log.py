from django.core.management.base import BaseCommand

from backend.tasks import access_log_purge


class Command(BaseCommand):
    help = "Remove access-log rows older than the retention period (ACCESS_LOG_RETENTION_DAYS)."

    def handle(self, *args: object, **options: object) -> None:
        removed = access_log_purge.call()
        self.stdout.write(f"Removed {removed} access-log rows past retention.")
