"""Serve the whole platform in one process: HTTP API, websockets and the task worker.

This is the embedded mode (``make run``): uvicorn serves the ASGI application, and a database task
worker runs in a thread of the same process, so that tasks reach websockets on the in-memory channel
layer. Production runs these as separate processes (see deploy/).
"""

import logging
import os
import threading
from datetime import timedelta

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from backend.tasks import retention_purge

logger = logging.getLogger(__name__)
PURGE_DELAY = timedelta(minutes=1)


class EmbeddedWorker:
    def __init__(self, interval: float = 0.5) -> None:
        self.worker = Worker(
            queue_names=["*"],
            interval=interval,
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=f"embedded-{os.getpid()}",
            excluded_queue_names=[],
        )
        self.thread = threading.Thread(target=self._run, name="embedded-task-worker", daemon=True)

    def _run(self) -> None:
        try:
            self.worker.run()
        except Exception:
            logger.exception("the embedded task worker stopped")

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.worker.running = False
        self.thread.join(timeout=5)


def schedule_retention_purge() -> None:
    """The embedded mode has no timer unit: queue one purge unless one is already waiting."""
    if settings.TASKS["default"]["BACKEND"] != "django_tasks_db.DatabaseBackend":
        return
    waiting = DBTaskResult.objects.filter(status=TaskResultStatus.READY, task_path=retention_purge.module_path)
    if not waiting.exists():
        retention_purge.using(run_after=timezone.now() + PURGE_DELAY).enqueue()


class Command(BaseCommand):
    help = "Serve HTTP, websockets and the task worker on one port (the embedded mode)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-worker", action="store_true", help="Do not run the task worker in-process.")

    def handle(self, *args: object, **options: object) -> None:
        worker = None
        if settings.EMBEDDED_WORKER and not options["no_worker"]:
            worker = EmbeddedWorker()
            worker.start()
            schedule_retention_purge()
        self.stdout.write(f"Mestring on http://{options['host']}:{options['port']}/ (API docs at /api/v1/docs)")
        try:
            uvicorn.run(
                "backend.asgi:application",
                host=str(options["host"]),
                port=int(options["port"]),  # type: ignore[call-overload]
                lifespan="off",
                log_level=settings.LOG_LEVEL.lower(),
                ws_ping_interval=20,
                ws_ping_timeout=20,
            )
        finally:
            if worker is not None:
                worker.stop()
