from django.core.management.base import BaseCommand

from selvbetjening.services.questionnaires import shipped_data_load


class Command(BaseCommand):
    help = "Create or refresh the follow-up result code list and the shipped questionnaires (idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        shipped_data_load()
        self.stdout.write("Shipped self-service data is up to date.")
