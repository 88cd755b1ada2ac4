from django.core.management.base import BaseCommand

from backend.task_worker import task_running_lease, tasks_requeue_abandoned


class Command(BaseCommand):
    help = (
        "Queue again the background tasks running for longer than TASK_RUNNING_LEASE_SECONDS (their worker was "
        "killed). Safe to run any number of times; run it every minute."
    )

    def handle(self, *args: object, **options: object) -> None:
        requeued = tasks_requeue_abandoned()
        self.stdout.write(
            f"{requeued} tasks running past the {task_running_lease().total_seconds():.0f} s lease queued again."
        )
