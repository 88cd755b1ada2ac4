"""Serve the whole platform in one process: HTTP API, websockets and the task worker.

This is the embedded mode (``make run``): uvicorn serves the ASGI application, and a database task
worker runs in a thread of the same process, so that tasks reach websockets on the in-memory channel
layer. Production runs these as separate processes (see deploy/).
"""

import io
import logging
import os
import threading
import time

import uvicorn
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import DEFAULT_DB_ALIAS, close_old_connections, connections

from backend.task_worker import ReconnectingWorker

logger = logging.getLogger(__name__)


def connections_per_request() -> None:
    """SQLite under ASGI closes each connection when its request ends: every request runs in a context of
    its own there, so a kept connection would never be used again (gunicorn's threads keep theirs)."""
    database = connections.settings[DEFAULT_DB_ALIAS]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database["CONN_MAX_AGE"] = 0


class EmbeddedWorker:
    def __init__(self, interval: float = 0.5) -> None:
        self.worker = ReconnectingWorker(
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


class EmbeddedScheduler:
    """Runs settings.PERIODIC_COMMANDS on their intervals, as the systemd timers do in production."""

    def __init__(self, jobs: list[tuple[str, int]], first_run_after: float = 60.0) -> None:
        start = time.monotonic() + first_run_after
        self.due = {name: start for name, _ in jobs}
        self.intervals = dict(jobs)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="embedded-scheduler", daemon=True)

    def run_due(self, now: float) -> None:
        for name, due in self.due.items():
            if due <= now:
                self.due[name] = now + self.intervals[name]
                try:
                    call_command(name, stdout=io.StringIO())
                except Exception:
                    logger.exception("periodic command %s failed", name)
                finally:
                    close_old_connections()

    def run(self) -> None:
        """Run the jobs as they fall due until ``stop`` (from another thread or a signal handler)."""
        while not self.stopping.wait(1.0):
            self.run_due(time.monotonic())

    def _run(self) -> None:
        self.run()

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join(timeout=5)


class Command(BaseCommand):
    help = "Serve HTTP, websockets and the task worker on one port (the embedded mode)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-worker", action="store_true", help="Do not run the task worker in-process.")

    def handle(self, *args: object, **options: object) -> None:
        connections_per_request()
        worker = scheduler = None
        if settings.EMBEDDED_WORKER and not options["no_worker"]:
            worker = EmbeddedWorker()
            worker.start()
            scheduler = EmbeddedScheduler(settings.PERIODIC_COMMANDS)
            scheduler.start()
        self.stdout.write(f"Mestring on http://{options['host']}:{options['port']}/ (API docs at /api/v1/docs)")
        try:
            uvicorn.run(
                "config.asgi:application",
                host=str(options["host"]),
                port=int(options["port"]),  # type: ignore[call-overload]
                lifespan="off",
                log_level=settings.LOG_LEVEL.lower(),
                ws_ping_interval=20,
                ws_ping_timeout=20,
            )
        finally:
            if scheduler is not None:
                scheduler.stop()
            if worker is not None:
                worker.stop()
