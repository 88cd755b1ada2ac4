"""Seed the caseload benchmark's database: one team with 1,000 citizens in training, 30 days of it.

Run by ``python -m bench.caseload`` in a subprocess with the run's environment::

    python -m bench.caseload.seed --out DIR --citizens 1000 --days 30

One municipality, one rehabilitation team (and a second team with a few citizens of its own, so that
the caseload has something to leave out), ``--citizens`` citizens each with an active care relation
to the team, a running episode, an active training plan (one version, two exercises) and a slot every
day at 10:00 local time for the last ``--days`` days and the next 7. Past slots are done (with a
session log in the slot) or missed; the last day's missed ones are left pending past their grace
period, as if the missed-slot sweep had not run yet. Citizens differ in how faithfully they train
(95 %, 85 %, 65 %, 35 % of slots), in ad hoc sessions, and in pain (one in seven rising over the last
week); one in twenty has an open pain alert, one in forty an acknowledged one. Everything is written
with ``bulk_create`` in one transaction. Five therapists of the team get a staff login each
(``backend.services.identity.session_start``); their access tokens go to ``staff_tokens.txt`` and the
team's id to ``caseload.json`` in ``--out``.
"""

import argparse
import json
import os
import random
import sys
import uuid
from pathlib import Path

GIVEN_NAMES = ["Anna", "Bent", "Birthe", "Erik", "Grethe", "Hans", "Inge", "Jens", "Karen", "Niels", "Ole", "Ruth"]
FAMILY_NAMES = ["Hansen", "Jensen", "Nielsen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen", "Møller"]
FAITHFULNESS = (0.95, 0.85, 0.65, 0.35)
STAFF_COUNT = 5
BATCH = 2000


def seed(*, out: Path, citizen_count: int, days: int) -> None:
    from datetime import UTC, datetime, time, timedelta
    from zoneinfo import ZoneInfo

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
        User,
    )
    from backend.services.identity import ClientInfo, session_start
    from backend.timeutil import municipal_today
    from bench.caseload import hand_sql
    from bench.seed import cpr_digits
    from selvbetjening.models import (
        Episode,
        Exercise,
        PlanExercise,
        SessionLog,
        TrainingAlert,
        TrainingPlan,
        TrainingPlanVersion,
        TrainingSlot,
    )

    rng = random.Random(4)  # noqa: S311 (test data)
    zone = ZoneInfo("Europe/Copenhagen")
    today = municipal_today()
    now = timezone.now()
    first_day = today - timedelta(days=days)
    with transaction.atomic():
        municipality = Municipality.objects.create(code="998", name="Træningskommune")
        unit = OrganisationUnit.objects.create(municipality=municipality, name="Sundhed og Omsorg")
        team = Team.objects.create(unit=unit, name="Rehabilitering Øst", kind=Team.Kind.REHABILITATION)
        other_team = Team.objects.create(unit=unit, name="Rehabilitering Vest", kind=Team.Kind.REHABILITATION)
        staff_users = []
        for index in range(STAFF_COUNT):
            user = User(username=f"caseload-staff-{index}", display_name=f"Terapeut {index}")
            user.set_unusable_password()
            user.save()
            staff = Staff.objects.create(user=user, municipality=municipality, title="Fysioterapeut")
            Membership.objects.create(staff=staff, team=team, role=StaffRole.THERAPIST)
            staff_users.append(user)
        creator = staff_users[0]
        exercises = [
            Exercise.objects.create(
                title_da=title,
                title_en=title,
                instructions_da="Langsomt.",
                instructions_en="Slowly.",
                body_area=Exercise.BodyArea.LOWER_BODY,
                equipment=Exercise.Equipment.CHAIR,
                difficulty=Exercise.Difficulty.EASY,
            )
            for title in ("Rejse-sætte-sig", "Tåhævninger")
        ]

        total = citizen_count + citizen_count // 20
        users = [
            User(
                username=f"caseload-citizen-{index}",
                display_name=f"{GIVEN_NAMES[index % 12]} {FAMILY_NAMES[(index * 7) % 9]}",
            )
            for index in range(total)
        ]
        for user in users:
            user.set_unusable_password()
        User.objects.bulk_create(users, batch_size=BATCH)
        citizens = []
        for index, user in enumerate(users):
            number = cpr.CprNumber.parse(cpr_digits(index + 200_000))
            given_name, family_name = user.display_name.split(" ", 1)
            citizens.append(
                Citizen(
                    municipality=municipality,
                    user=user,
                    given_name=given_name,
                    family_name=family_name,
                    address_line=f"Skolevej {index % 97 + 1}",
                    postcode="5000",
                    city="Odense",
                    cpr_ciphertext=cpr.encrypt(number),
                    cpr_hash=cpr.keyed_hash(number),
                )
            )
        Citizen.objects.bulk_create(citizens, batch_size=BATCH)
        teams = [team if index < citizen_count else other_team for index in range(total)]
        CareRelation.objects.bulk_create(
            [
                CareRelation(citizen=citizen, team=teams[index], valid_from=first_day - timedelta(days=30))
                for index, citizen in enumerate(citizens)
            ],
            batch_size=BATCH,
        )
        episodes = [
            Episode(
                citizen=citizen,
                team=teams[index],
                kind=Episode.Kind.TRAINING,
                title="Træningsforløb",
                start_date=first_day,
                planned_end_date=today + timedelta(days=60),
                status=Episode.Status.ACTIVE,
                created_by=creator,
            )
            for index, citizen in enumerate(citizens)
        ]
        Episode.objects.bulk_create(episodes, batch_size=BATCH)
        plans = [
            TrainingPlan(episode=episode, citizen=episode.citizen, title="Træning derhjemme", created_by=creator)
            for episode in episodes
        ]
        TrainingPlan.objects.bulk_create(plans, batch_size=BATCH)
        versions = [
            TrainingPlanVersion(
                plan=plan,
                number=1,
                recurrence_rule="FREQ=DAILY",
                start_date=first_day,
                start_time=time(10, 0),
                end_date=today + timedelta(days=60),
                time_zone="Europe/Copenhagen",
                created_by=creator,
            )
            for plan in plans
        ]
        TrainingPlanVersion.objects.bulk_create(versions, batch_size=BATCH)
        for plan, version in zip(plans, versions, strict=True):
            plan.current_version = version
            plan.slots_until = datetime.combine(today + timedelta(days=8), time.min, tzinfo=zone)
        TrainingPlan.objects.bulk_update(plans, ["current_version", "slots_until"], batch_size=BATCH)
        PlanExercise.objects.bulk_create(
            [
                PlanExercise(version=version, exercise=exercise, position=position, sets=2, repetitions=10)
                for version in versions
                for position, exercise in enumerate(exercises)
            ],
            batch_size=BATCH,
        )

        slots, logs, alerts = [], [], []
        for index, (plan, version) in enumerate(zip(plans, versions, strict=True)):
            citizen, user = plan.citizen, users[index]
            faithful = FAITHFULNESS[index % len(FAITHFULNESS)]
            base_pain = rng.randint(0, 4)
            rising = index % 7 == 0
            citizen_logs = []
            for offset in range(-days, 8):
                local_date = today + timedelta(days=offset)
                scheduled_at = datetime.combine(local_date, time(10, 0), tzinfo=zone).astimezone(UTC)
                due_until = scheduled_at + timedelta(minutes=version.grace_minutes)
                slot = TrainingSlot(
                    plan=plan,
                    version=version,
                    citizen=citizen,
                    scheduled_at=scheduled_at,
                    local_date=local_date,
                    due_until=due_until,
                    status=TrainingSlot.Status.PENDING,
                )
                slots.append(slot)
                if due_until >= now:
                    continue
                pain = min(10, base_pain + (3 if rising and offset >= -7 else 0) + rng.randint(0, 1))
                if rng.random() < faithful:
                    slot.status = TrainingSlot.Status.DONE
                    citizen_logs.append(
                        SessionLog(
                            id=uuid.UUID(int=rng.getrandbits(128)),
                            citizen=citizen,
                            plan=plan,
                            plan_version=version,
                            slot=slot,
                            performed_at=scheduled_at + timedelta(minutes=rng.randint(0, 300)),
                            pain_before=max(0, pain - 1),
                            pain_after=pain,
                            effort=rng.randint(2, 7),
                            logged_by=user,
                            logged_by_role=SessionLog.LoggedByRole.CITIZEN,
                            logged_by_name=user.display_name,
                            fingerprint=f"{rng.getrandbits(128):032x}",
                        )
                    )
                elif offset < -1:
                    slot.status = TrainingSlot.Status.MISSED
                if rng.random() < 0.1:
                    citizen_logs.append(
                        SessionLog(
                            id=uuid.UUID(int=rng.getrandbits(128)),
                            citizen=citizen,
                            plan=plan,
                            plan_version=version,
                            slot=None,
                            performed_at=scheduled_at + timedelta(hours=7),
                            pain_before=pain,
                            pain_after=pain,
                            effort=rng.randint(2, 7),
                            logged_by=user,
                            logged_by_role=SessionLog.LoggedByRole.CITIZEN,
                            logged_by_name=user.display_name,
                            fingerprint=f"{rng.getrandbits(128):032x}",
                        )
                    )
            logs.extend(citizen_logs)
            alert_status = (
                TrainingAlert.Status.OPEN
                if index % 20 == 3
                else TrainingAlert.Status.ACKNOWLEDGED
                if index % 40 == 11
                else None
            )
            if alert_status and citizen_logs:
                alerts.append(
                    TrainingAlert(
                        citizen=citizen,
                        episode=plan.episode,
                        plan=plan,
                        session_log=citizen_logs[-1],
                        kind=TrainingAlert.Kind.PAIN_STOP,
                        pain=8,
                        status=alert_status,
                    )
                )
        TrainingSlot.objects.bulk_create(slots, batch_size=BATCH)
        SessionLog.objects.bulk_create(logs, batch_size=BATCH)
        TrainingAlert.objects.bulk_create(alerts, batch_size=BATCH)

        client = ClientInfo(ip_address="127.0.0.1", user_agent="mestring-bench")
        tokens = [
            session_start(user=user, audience=AppSession.Audience.STAFF, client=client).access_token
            for user in staff_users
        ]

    out.mkdir(parents=True, exist_ok=True)
    (out / "staff_tokens.txt").write_text("\n".join(tokens) + "\n")
    (out / "caseload.json").write_text(
        json.dumps(
            {
                "team_id": str(team.pk),
                "citizens": citizen_count,
                "slots": len(slots),
                "session_logs": len(logs),
                "alerts": len(alerts),
                "rules": hand_sql.rules(),
            }
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for staff_tokens.txt and caseload.json")
    parser.add_argument("--citizens", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    arguments = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    seed(out=arguments.out, citizen_count=arguments.citizens, days=arguments.days)
    summary = json.loads((arguments.out / "caseload.json").read_text())
    print(f"seeded {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
