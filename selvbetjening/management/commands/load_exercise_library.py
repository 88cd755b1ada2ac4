from django.core.management.base import BaseCommand

from selvbetjening.services.exercises import exercise_library_load


class Command(BaseCommand):
    help = "Create or refresh the shipped starter exercise library by slug (idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        changed = exercise_library_load()
        self.stdout.write(f"Exercise library is up to date ({changed} exercises created or changed).")
