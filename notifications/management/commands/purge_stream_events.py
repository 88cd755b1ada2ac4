from django.core.management.base import BaseCommand

from notifications.tasks import purge_stream_events


class Command(BaseCommand):
    help = "Remove websocket stream events older than the replay window."

    def handle(self, *args: object, **options: object) -> None:
        self.stdout.write(f"Removed {purge_stream_events.call()} stream events.")
