"""Demo data for the embedded mode: one municipality, its teams, staff in every role, citizens and a
relative. Safe to run any number of times: it updates what is there and creates what is missing.

Every demo login has the password below and a fixed TOTP secret, so any authenticator app (or
``manage.py demo_totp USERNAME``) gives the one-time code. With DEBUG off the service refuses to start
while demo logins exist; ``seed_demo --remove`` deactivates them.
"""

from datetime import date
from typing import Any

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from backend import cpr
from backend.models import (
    CareRelation,
    Citizen,
    Membership,
    Municipality,
    OrganisationUnit,
    Relative,
    Staff,
    StaffRole,
    Team,
    User,
)

DEMO_PASSWORD = "mestring-demo-2026"  # noqa: S105 — documented demo login, refused with DEBUG off

# username, display name, TOTP secret (base32), team, role
DEMO_STAFF = [
    (
        "terapeut",
        "Tove Terapeut",
        "MESTRINGDEMOSTAFFAAAQQQQQQQQQQQQ",
        "Hverdagsrehabilitering Syd",
        StaffRole.THERAPIST,
    ),
    ("plejer", "Peter Plejer", "MESTRINGDEMOSTAFFBBBQQQQQQQQQQQQ", "Hjemmepleje Nord", StaffRole.CARE_WORKER),
    (
        "teamleder",
        "Tina Teamleder",
        "MESTRINGDEMOSTAFFCCCQQQQQQQQQQQQ",
        "Hverdagsrehabilitering Syd",
        StaffRole.TEAM_LEAD,
    ),
    ("it", "Ib IT", "MESTRINGDEMOSTAFFDDDQQQQQQQQQQQQ", "Velfærdsteknologi", StaffRole.IT),
    ("analytiker", "Anna Analytiker", "MESTRINGDEMOSTAFFEEEQQQQQQQQQQQQ", "Ledelsesinformation", StaffRole.ANALYST),
]

# username, given name, family name, CPR (fictitious), address, TOTP secret, team
DEMO_CITIZENS = [
    (
        "borger1",
        "Birthe",
        "Borgersen",
        "0101401234",
        "Vestergade 12",
        "MESTRINGDEMOBORGERAAQQQQQQQQQQQQ",
        "Hverdagsrehabilitering Syd",
    ),
    (
        "borger2",
        "Bent",
        "Hansen",
        "1502381236",
        "Nørregade 4, 2. tv.",
        "MESTRINGDEMOBORGERBBQQQQQQQQQQQQ",
        "Hverdagsrehabilitering Syd",
    ),
    (
        "borger3",
        "Grethe",
        "Jensen",
        "2303451238",
        "Kongensgade 40",
        "MESTRINGDEMOBORGERCCQQQQQQQQQQQQ",
        "Hjemmepleje Nord",
    ),
]

DEMO_RELATIVE = ("paaroerende", "Palle Pårørende", "MESTRINGDEMORELATIVEQQQQQQQQQQQQ")
DEMO_ADMIN = ("admin", "Administrator", "MESTRINGDEMOADMINAAAQQQQQQQQQQQQ")

TEAMS = [
    ("Hverdagsrehabilitering Syd", Team.Kind.REHABILITATION),
    ("Hjemmepleje Nord", Team.Kind.HOME_CARE),
    ("Velfærdsteknologi", Team.Kind.WELFARE_TECHNOLOGY),
    ("Ledelsesinformation", Team.Kind.MANAGEMENT),
]


def demo_user(username: str, display_name: str, totp_secret: str, password_hash: str, **extra: Any) -> User:
    user, _ = User.objects.update_or_create(
        username=username,
        defaults={
            "display_name": display_name,
            "totp_secret": totp_secret,
            "password": password_hash,
            "is_demo": True,
            "is_active": True,
            **extra,
        },
    )
    return user


class Command(BaseCommand):
    # The demo-login check refuses to serve while demo logins exist; this command is how they go.
    requires_system_checks: list[str] = []
    help = "Load the demo municipality, staff, citizens and relative (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--remove", action="store_true", help="Deactivate every demo login instead.")

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        if options["remove"]:
            count = User.objects.filter(is_demo=True, is_active=True).update(is_active=False)
            self.stdout.write(f"Deactivated {count} demo logins.")
            return
        # One (deliberately slow) password hash for every demo login per run.
        password_hash = make_password(DEMO_PASSWORD)
        municipality, _ = Municipality.objects.update_or_create(code="461", defaults={"name": "Odense Kommune"})
        unit, _ = OrganisationUnit.objects.get_or_create(
            municipality=municipality, parent=None, name="Ældre og Handicap"
        )
        teams = {
            name: Team.objects.update_or_create(unit=unit, name=name, defaults={"kind": kind})[0]
            for name, kind in TEAMS
        }
        for username, display_name, secret, team_name, role in DEMO_STAFF:
            user = demo_user(username, display_name, secret, password_hash)
            staff, _ = Staff.objects.get_or_create(user=user, defaults={"municipality": municipality})
            Membership.objects.get_or_create(staff=staff, team=teams[team_name], role=role, valid_from=date(2026, 1, 1))
        for username, given, family, cpr_digits, address, secret, team_name in DEMO_CITIZENS:
            user = demo_user(username, f"{given} {family}", secret, password_hash)
            number = cpr.CprNumber.parse(cpr_digits)
            profile = {
                "municipality": municipality,
                "user": user,
                "given_name": given,
                "family_name": family,
                "address_line": address,
                "postcode": "5000",
                "city": "Odense C",
                "phone": "+4566131372",
            }
            citizen, _ = Citizen.objects.update_or_create(
                cpr_hash=cpr.keyed_hash(number),
                defaults=profile,
                create_defaults={**profile, "cpr_ciphertext": cpr.encrypt(number)},
            )
            CareRelation.objects.get_or_create(
                citizen=citizen,
                team=teams[team_name],
                defaults={"valid_from": date(2026, 1, 1), "purpose": CareRelation.Purpose.REHABILITATION},
            )
        relative_user = demo_user(*DEMO_RELATIVE, password_hash)
        Relative.objects.get_or_create(user=relative_user)
        demo_user(*DEMO_ADMIN, password_hash, is_staff=True, is_superuser=True)
        # Each app adds its own demo data with a `seed_<app>_demo` command, run here in app order.
        commands = get_commands()
        for app_config in apps.get_app_configs():
            name = f"seed_{app_config.label}_demo"
            if commands.get(name) == app_config.name:
                call_command(name, stdout=self.stdout)
        self.stdout.write(
            f"Demo data ready: {len(DEMO_STAFF)} staff, {len(DEMO_CITIZENS)} citizens, 1 relative, 1 administrator. "
            f"Password for every demo login: {DEMO_PASSWORD}; one-time code: manage.py demo_totp USERNAME"
        )
