from django.core.management.base import BaseCommand

from notifications.tasks import purge_reminders


class Command(BaseCommand):
    help = "Remove reminders sent, suppressed or cancelled more than REMINDER_RETENTION_DAYS ago."

    def handle(self, *args: object, **options: object) -> None:
        self.stdout.write(f"Removed {purge_reminders.call()} reminders.")
