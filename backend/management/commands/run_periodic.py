"""Run the periodic commands in the foreground: the scheduler process where there are no systemd timers."""

import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from backend.management.commands.serve import EmbeddedScheduler


class Command(BaseCommand):
    help = (
        "Run settings.PERIODIC_COMMANDS on their intervals until stopped (SIGTERM or SIGINT finishes the "
        "command that is running, then exits). Every periodic command is safe to run in two places at once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--skip", action="append", default=[], metavar="COMMAND", help="Leave this command out (repeatable)."
        )

    def handle(self, *args: object, **options: Any) -> None:
        names = {name for name, _ in settings.PERIODIC_COMMANDS}
        unknown = sorted(set(options["skip"]) - names)
        if unknown:
            raise CommandError(f"Not periodic commands: {', '.join(unknown)}.")
        jobs = [(name, interval) for name, interval in settings.PERIODIC_COMMANDS if name not in options["skip"]]
        scheduler = EmbeddedScheduler(jobs, first_run_after=0)

        def stop(signum: int, frame: object) -> None:
            scheduler.stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write("Running " + ", ".join(f"{name} every {interval} s" for name, interval in jobs) + ".")
        scheduler.run()
