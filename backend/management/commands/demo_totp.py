import pyotp
from django.core.management.base import BaseCommand, CommandError, CommandParser

from backend.models import User


class Command(BaseCommand):
    help = "Print the current one-time code of a demo login (embedded and demo mode only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: object, **options: object) -> None:
        user = User.objects.filter(username=options["username"], is_demo=True, is_active=True).first()
        if user is None or not user.totp_secret:
            raise CommandError("No active demo login with that username.")
        self.stdout.write(pyotp.TOTP(user.totp_secret).now())
