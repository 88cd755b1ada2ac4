from django.core.management.base import BaseCommand

from velfaerdsteknologi.services.alerts import missing_heartbeats_detect
from velfaerdsteknologi.services.assignments import return_tasks_detect


class Command(BaseCommand):
    help = (
        "Raise missing-data alerts for silent devices and open return tasks for citizens who moved or died. "
        "Safe to run any number of times; run it every minute."
    )

    def handle(self, *args: object, **options: object) -> None:
        alerts = missing_heartbeats_detect()
        returns = return_tasks_detect()
        self.stdout.write(f"{alerts} missing-data alerts raised, {returns} return tasks opened.")
