"""The task worker as the project runs it: django-tasks-db's worker, kept alive across a lost database, and
the leases that give a task left running by a dead worker to another. The one module that knows the worker
and its task rows from the inside, written against django-tasks-db 0.13.0 (the version constraints.txt pins).

django-tasks-db's ``db_worker`` exits on the first database error outside a task (a restarted or failed-over
PostgreSQL, a connection cut by a firewall) and a task it was running when it died stays ``RUNNING`` for
ever. So:

- ``ReconnectingWorker`` (``manage.py run_worker``) closes its connections after such an error, waits (1 s,
  doubling up to 30 s while the database stays away) and goes on. Each time it (re)starts, the tasks its own
  worker id had left running are queued again: with that id it cannot be running them any more.
- ``tasks_requeue_abandoned`` (``manage.py requeue_abandoned_tasks``, every minute) queues again the tasks
  running for longer than ``TASK_RUNNING_LEASE_SECONDS``: their worker was killed (or its host lost). A task
  that really runs longer than the lease is run a second time beside it, so every task is safe to run twice
  (push deliveries are claimed row by row and sent once, ``notifications.push``).
"""

import logging
import time
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db import DatabaseError, connections
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)

RECONNECT_FIRST_WAIT_SECONDS = 1.0
RECONNECT_MAX_WAIT_SECONDS = 30.0


def task_running_lease() -> timedelta:
    """How long a task may run before another worker may take it up again."""
    return timedelta(seconds=int(getattr(settings, "TASK_RUNNING_LEASE_SECONDS", 600)))


def _requeue(task_ids: list[UUID]) -> int:
    if not task_ids:
        return 0
    return DBTaskResult.objects.filter(pk__in=task_ids, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.READY, started_at=None
    )


def tasks_requeue_abandoned(*, now: datetime | None = None) -> int:
    """Queue again every task running for longer than the lease; returns how many."""
    started_before = (now or timezone.now()) - task_running_lease()
    stale = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=started_before)
    requeued = _requeue(list(stale.values_list("pk", flat=True)))
    if requeued:
        logger.warning("%d tasks running past their lease were queued again", requeued)
    return requeued


def tasks_requeue_left_by(worker_id: str) -> int:
    """Queue again the tasks the worker with this id was running when it last stopped; returns how many."""
    running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).values_list("pk", "worker_ids")
    ours = [pk for pk, worker_ids in running if worker_ids and worker_ids[-1] == worker_id]
    requeued = _requeue(ours)
    if requeued:
        logger.warning("%d tasks left running by worker %s were queued again", requeued, worker_id)
    return requeued


class ReconnectingWorker(Worker):
    """django-tasks-db's worker that survives a lost database connection; see the module docstring."""

    def run(self) -> None:
        wait = RECONNECT_FIRST_WAIT_SECONDS
        while self.running:
            try:
                tasks_requeue_left_by(self.worker_id)
            except DatabaseError as error:
                wait = self._wait_for_database(error, wait)
                continue
            wait = RECONNECT_FIRST_WAIT_SECONDS
            try:
                super().run()
                return
            except DatabaseError as error:
                wait = self._wait_for_database(error, wait)

    def _wait_for_database(self, error: DatabaseError, wait: float) -> float:
        if any(connection.in_atomic_block for connection in connections.all(initialized_only=True)):
            raise error  # run inside a transaction (a test's): a new connection cannot be had in it
        logger.warning(
            "worker %s lost the database (%s: %s); trying again in %.0f s",
            self.worker_id,
            type(error).__name__,
            str(error).strip().splitlines()[0] if str(error).strip() else "",
            wait,
        )
        try:
            connections.close_all()
        except DatabaseError:
            logger.debug("closing a broken database connection failed", exc_info=True)
        if self.running:
            time.sleep(wait)
        return min(wait * 2, RECONNECT_MAX_WAIT_SECONDS)
