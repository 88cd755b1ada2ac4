from django.core.management.base import BaseCommand

from notifications.tasks import deliver_due_push


class Command(BaseCommand):
    help = "Send every push delivery that is due, including retries and deliveries a dead worker held."

    def handle(self, *args: object, **options: object) -> None:
        counts = deliver_due_push.call()
        self.stdout.write(" ".join(f"{name}={count}" for name, count in counts.items()))
