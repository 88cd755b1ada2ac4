"""Seed the realtime benchmark's database: many logins at once, with tokens stored as a login stores them.

Run by the harness in a subprocess with the run's environment::

    python -m bench.realtime.seed --out DIR --citizens 10000 --staff 1000

One municipality and one team. ``--staff`` staff members with a care role in that team (the fan-out
audience: every one of them follows the team's live stream) and ``--citizens`` citizens with a care
relation to it (the personal-push audience). Each has an app session and an access token made the way
``backend.services.identity._tokens_issue`` makes them (``new_secret`` + ``hash_secret``), but written
with ``bulk_create`` and valid for ``--token-hours`` so that a long run does not outlive them. Writes
``team.txt`` and ``staff.txt`` / ``citizens.txt`` (``user_id token`` a line) to ``--out``.
"""

import argparse
import os
import sys
from datetime import timedelta
from pathlib import Path

BATCH = 2000


def seed(*, out: Path, citizen_count: int, staff_count: int, token_hours: int) -> None:
    from django.db import transaction
    from django.utils import timezone

    from backend import cpr
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
        Token,
        User,
    )
    from backend.tokens import ACCESS_PREFIX, hash_secret, new_secret
    from bench.seed import CITIZEN_ACR, cpr_digits

    now = timezone.now()
    expires_at = now + timedelta(hours=token_hours)

    def logins(users: list[User], audience: str, acr: str = "") -> list[str]:
        sessions = [
            AppSession(
                user=user,
                audience=audience,
                install_id=f"bench-realtime-{user.username}",
                device_name="Benchmark",
                acr=acr,
                ip_address="127.0.0.1",
                user_agent="mestring-bench-realtime",
                expires_at=expires_at,
                last_used_at=now,
            )
            for user in users
        ]
        AppSession.objects.bulk_create(sessions, batch_size=BATCH)
        raw_tokens = [new_secret(ACCESS_PREFIX) for _ in sessions]
        Token.objects.bulk_create(
            [
                Token(session=session, kind=Token.Kind.ACCESS, token_hash=hash_secret(raw), expires_at=expires_at)
                for session, raw in zip(sessions, raw_tokens, strict=True)
            ],
            batch_size=BATCH,
        )
        return raw_tokens

    def users(prefix: str, count: int) -> list[User]:
        made = []
        for index in range(count):
            user = User(username=f"{prefix}-{index}", display_name=f"Bruger {index}")
            user.set_unusable_password()
            made.append(user)
        User.objects.bulk_create(made, batch_size=BATCH)
        return made

    with transaction.atomic():
        municipality = Municipality.objects.create(code="998", name="Realtid Kommune")
        unit = OrganisationUnit.objects.create(municipality=municipality, name="Ældre og Sundhed")
        team = Team.objects.create(unit=unit, name="Rehabilitering Fan-out", kind=Team.Kind.REHABILITATION)

        staff_users = users("bench-rt-staff", staff_count)
        staff = Staff.objects.bulk_create(
            [Staff(user=user, municipality=municipality, title="Terapeut") for user in staff_users], batch_size=BATCH
        )
        Membership.objects.bulk_create(
            [Membership(staff=member, team=team, role=StaffRole.THERAPIST) for member in staff], batch_size=BATCH
        )
        staff_tokens = logins(staff_users, AppSession.Audience.STAFF)

        citizen_users = users("bench-rt-citizen", citizen_count)
        citizens = []
        for index, user in enumerate(citizen_users):
            number = cpr.CprNumber.parse(cpr_digits(index))
            citizens.append(
                Citizen(
                    municipality=municipality,
                    user=user,
                    given_name="Borger",
                    family_name=str(index),
                    address_line=f"Vestergade {index % 97 + 1}",
                    postcode="5000",
                    city="Odense",
                    cpr_ciphertext=cpr.encrypt(number),
                    cpr_hash=cpr.keyed_hash(number),
                )
            )
        Citizen.objects.bulk_create(citizens, batch_size=BATCH)
        CareRelation.objects.bulk_create(
            [
                CareRelation(citizen=citizen, team=team, purpose=CareRelation.Purpose.REHABILITATION)
                for citizen in citizens
            ],
            batch_size=BATCH,
        )
        citizen_tokens = logins(citizen_users, AppSession.Audience.CITIZEN, acr=CITIZEN_ACR)

    out.mkdir(parents=True, exist_ok=True)
    (out / "team.txt").write_text(f"{team.pk}\n")
    for name, people, tokens in (("staff", staff_users, staff_tokens), ("citizens", citizen_users, citizen_tokens)):
        (out / f"{name}.txt").write_text(
            "".join(f"{user.pk} {token}\n" for user, token in zip(people, tokens, strict=True))
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--citizens", type=int, default=10_000)
    parser.add_argument("--staff", type=int, default=1000)
    parser.add_argument("--token-hours", type=int, default=12)
    arguments = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    seed(
        out=arguments.out,
        citizen_count=arguments.citizens,
        staff_count=arguments.staff,
        token_hours=arguments.token_hours,
    )
    print(f"seeded {arguments.citizens} citizens and {arguments.staff} staff of one team, tokens in {arguments.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
