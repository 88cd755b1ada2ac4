from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from selvbetjening.services.slots import slots_mark_missed, slots_materialise_ahead

BATCH_SIZE = 500


class Command(BaseCommand):
    help = (
        "Make the training slots of active plans for the next 14 days and mark slots whose grace period "
        "passed unfilled as missed. Safe to run any number of times; run it every few minutes."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)

    def handle(self, *args: object, **options: object) -> None:
        batch_size = options["batch_size"]
        assert isinstance(batch_size, int)
        now = timezone.now()
        made = slots_materialise_ahead(now=now, batch_size=batch_size)
        missed = 0
        while True:
            marked = slots_mark_missed(now=now, batch_size=batch_size)
            missed += marked
            if marked < batch_size:
                break
        self.stdout.write(f"{made} training slots made, {missed} marked missed.")
