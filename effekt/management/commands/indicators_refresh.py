from django.core.management.base import BaseCommand

from effekt.aggregates import tables_refresh


class Command(BaseCommand):
    help = (
        "Recompute the precomputed indicator tables whose rows changed since they were computed (and compute "
        "the missing ones), for every municipality. Safe to run any number of times; run it every five minutes."
    )

    def handle(self, *args: object, **options: object) -> None:
        report = tables_refresh()
        self.stdout.write(f"{report.computed} indicator tables computed, {report.unchanged} unchanged.")
