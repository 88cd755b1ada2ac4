"""Seed a freshly migrated database for the benchmark and write the access tokens to files.

Run by the harness in a subprocess with the run's environment (DATABASE_URL, DEBUG=0, keys)::

    python -m bench.seed --out DIR --citizens 1000 --staff 20

Creates one municipality with four teams; ``--citizens`` citizens, each with a care relation and a
logged-in app session made by ``backend.services.identity.session_start`` (so tokens are issued
and stored exactly as a real login stores them); and ``--staff`` staff members with team
memberships and a staff session. Writes ``citizen_tokens.txt`` and ``staff_tokens.txt`` (one
access token a line) to ``--out``.
"""

import argparse
import os
import sys
from pathlib import Path
from typing import Any

CITIZEN_ACR = "https://data.gov.dk/concept/core/nsis/loa/Substantial"
GIVEN_NAMES = ["Anna", "Bent", "Birthe", "Erik", "Grethe", "Hans", "Inge", "Jens", "Karen", "Niels", "Ole", "Ruth"]
FAMILY_NAMES = ["Hansen", "Jensen", "Nielsen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen"]
STREETS = ["Vestergade", "Østergade", "Søndergade", "Nørregade", "Kongensgade", "Skolevej"]


def cpr_digits(index: int) -> str:
    """A valid, distinct CPR number for each index below 600,000."""
    day, month = index % 28 + 1, (index // 28) % 12 + 1
    year = 30 + (index // 10_000) % 60
    return f"{day:02d}{month:02d}{year:02d}{index % 10_000:04d}"


def citizen_of(user: Any, municipality: Any, cpr_index: int, **address: str) -> Any:
    """An unsaved citizen for ``user`` (display name "Given Family"), with the CPR number ``cpr_digits(cpr_index)``
    encrypted and hashed as the register stores it, living at ``address`` (address_line, postcode, city, …)."""
    from backend import cpr
    from backend.models import Citizen

    number = cpr.CprNumber.parse(cpr_digits(cpr_index))
    given_name, family_name = user.display_name.split(" ", 1)
    return Citizen(
        municipality=municipality,
        user=user,
        given_name=given_name,
        family_name=family_name,
        cpr_ciphertext=cpr.encrypt(number),
        cpr_hash=cpr.keyed_hash(number),
        **address,
    )


def seed(*, out: Path, citizen_count: int, staff_count: int) -> None:
    from django.db import transaction

    from backend.models import (
        AppSession,
        CareRelation,
        Citizen,
        Membership,
        Municipality,
        OrganisationUnit,
        Staff,
        StaffRole,
        Team,
        User,
    )
    from backend.services.identity import ClientInfo, session_start

    client = ClientInfo(ip_address="127.0.0.1", user_agent="mestring-bench")
    with transaction.atomic():
        municipality = Municipality.objects.create(code="999", name="Benchmark Kommune")
        unit = OrganisationUnit.objects.create(municipality=municipality, name="Ældre og Sundhed")
        teams = [
            Team.objects.create(unit=unit, name=name, kind=kind)
            for name, kind in (
                ("Hjemmepleje Nord", Team.Kind.HOME_CARE),
                ("Rehabilitering", Team.Kind.REHABILITATION),
                ("Træning", Team.Kind.THERAPY),
                ("Velfærdsteknologi", Team.Kind.WELFARE_TECHNOLOGY),
            )
        ]

        citizen_users = []
        for index in range(citizen_count):
            user = User(
                username=f"bench-citizen-{index}",
                display_name=f"{GIVEN_NAMES[index % len(GIVEN_NAMES)]} {FAMILY_NAMES[index % len(FAMILY_NAMES)]}",
            )
            user.set_unusable_password()
            citizen_users.append(user)
        User.objects.bulk_create(citizen_users, batch_size=500)

        citizens = [
            citizen_of(
                user,
                municipality,
                index,
                address_line=f"{STREETS[index % len(STREETS)]} {index % 97 + 1}",
                postcode=f"{5000 + index % 300}",
                city="Odense",
                phone=f"+45 20{index:06d}",
            )
            for index, user in enumerate(citizen_users)
        ]
        Citizen.objects.bulk_create(citizens, batch_size=500)
        CareRelation.objects.bulk_create(
            [
                CareRelation(citizen=citizen, team=teams[index % 3], purpose=CareRelation.Purpose.REHABILITATION)
                for index, citizen in enumerate(citizens)
            ],
            batch_size=500,
        )

        staff_users = []
        care_roles = [StaffRole.CARE_WORKER, StaffRole.THERAPIST, StaffRole.TEAM_LEAD]
        for index in range(staff_count):
            user = User(username=f"bench-staff-{index}", display_name=f"Medarbejder {index}")
            user.set_unusable_password()
            user.save()
            staff = Staff.objects.create(user=user, municipality=municipality, title="Terapeut")
            Membership.objects.create(staff=staff, team=teams[index % 3], role=care_roles[index % 3])
            staff_users.append(user)

        citizen_tokens = [
            session_start(
                user=user,
                audience=AppSession.Audience.CITIZEN,
                client=client,
                install_id=f"bench-install-{index}",
                device_name="Benchmark",
                acr=CITIZEN_ACR,
            ).access_token
            for index, user in enumerate(citizen_users)
        ]
        staff_tokens = [
            session_start(user=user, audience=AppSession.Audience.STAFF, client=client).access_token
            for user in staff_users
        ]

    out.mkdir(parents=True, exist_ok=True)
    (out / "citizen_tokens.txt").write_text("\n".join(citizen_tokens) + "\n")
    (out / "staff_tokens.txt").write_text("\n".join(staff_tokens) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for the token files")
    parser.add_argument("--citizens", type=int, default=1000)
    parser.add_argument("--staff", type=int, default=20)
    arguments = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    seed(out=arguments.out, citizen_count=arguments.citizens, staff_count=arguments.staff)
    print(f"seeded {arguments.citizens} citizens and {arguments.staff} staff, tokens in {arguments.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
