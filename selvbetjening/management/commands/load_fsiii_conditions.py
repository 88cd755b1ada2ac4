"""Load or update the municipality's FSIII condition code list from its CSV file (``code;display;area``)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext

from selvbetjening.services.conditions import ConditionFileError, condition_rows_parse, conditions_load


class Command(BaseCommand):
    help = (
        "Load the FSIII condition code list from a CSV file: code;display;area a line (semicolons, UTF-8, an "
        "optional header line). All or nothing; codes not in the file are marked inactive. Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="The municipality's CSV file.")

    def handle(self, *args: object, **options: object) -> None:
        path = options["path"]
        assert isinstance(path, Path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError as exc:
            raise CommandError(gettext("Filen %(path)s findes ikke.") % {"path": path}) from exc
        except UnicodeDecodeError as exc:
            raise CommandError(gettext("Filen %(path)s er ikke gemt som UTF-8.") % {"path": path}) from exc
        try:
            rows = condition_rows_parse(text)
        except ConditionFileError as error:
            raise CommandError(
                "\n".join([gettext("Kodelisten er ikke indlæst; intet er ændret."), *error.problems])
            ) from error
        result = conditions_load(rows, complete=True)
        self.stdout.write(
            gettext(
                "FSIII-kodelisten er indlæst: %(created)s nye, %(updated)s ændrede, %(deactivated)s gjort inaktive."
            )
            % {"created": result.created, "updated": result.updated, "deactivated": result.deactivated}
        )
