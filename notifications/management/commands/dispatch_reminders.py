import logging
import os
import socket
import time

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from notifications.reminders import BATCH_SIZE, reminder_pushes_send, reminders_dispatch_due

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Send every reminder that is due, and the pushes that fell due (those no open app received over the "
        "websocket first): one pass, or with --loop a pass every few seconds for a dedicated worker process. "
        "Safe to run in several processes at once: each reminder is claimed by one of them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="Keep running, a pass every --sleep seconds.")
        parser.add_argument("--sleep", type=float, default=2.0, help="Seconds between passes with --loop.")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
        parser.add_argument("--worker-id", default="", help="Names the claims in the table (default host:pid).")

    def handle(self, *args: object, **options: object) -> None:
        batch_size, sleep = options["batch_size"], options["sleep"]
        assert isinstance(batch_size, int) and isinstance(sleep, float)
        worker_id = str(options["worker_id"] or f"{socket.gethostname()}:{os.getpid()}")
        if not options["loop"]:
            sent = reminders_dispatch_due(batch_size=batch_size, worker_id=worker_id)
            pushed = reminder_pushes_send()
            self.stdout.write(f"{sent} reminders sent, {pushed} pushes.")
            return
        while True:
            try:
                sent = reminders_dispatch_due(batch_size=batch_size, worker_id=worker_id)
                sent += reminder_pushes_send()
            except Exception:
                # A database that went away: the claims run out and the next pass (here or elsewhere) takes over.
                logger.exception("reminder dispatch failed; the next pass tries again")
                sent = 0
            finally:
                close_old_connections()
            if sent:
                self.stdout.write(f"{sent} reminders sent.")
            else:
                time.sleep(sleep)
