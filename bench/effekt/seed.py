"""Seed the effect benchmark: one municipality with 4 units of 5 teams, and N completed episodes spread
evenly over the last three calendar years, each with 1–2 goals (baseline and follow-up ratings of GAS
and FSIII), a training plan with 4 slots and 2 logged sessions (pain, effort), and for some of them two
scored answers to a questionnaire, a request, or an installed fall detector serving the episode. The
episodes are written by ``effekt.history`` (as the demo's are); run as ``python -m bench.effekt.seed N``
with the bench's DATABASE_URL.
"""

import os
import random
import sys
import uuid
from datetime import UTC, date, datetime, time, timedelta

import django

BATCH = 5000
NAMES = ["Gå", "Lave mad", "Vaske sig", "Tage tøj på"]
CONDITIONS = [(uuid.UUID(int=index + 1), name) for index, name in enumerate(NAMES)]


def main(episodes: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    from django.db import connection, transaction

    from backend import cpr
    from backend.models import Citizen, Membership, Municipality, OrganisationUnit, Staff, StaffRole, Team, User
    from backend.timeutil import municipal_today
    from effekt.history import (
        DeviceHistory,
        EpisodeHistory,
        GoalHistory,
        RequestHistory,
        SessionHistory,
        SlotHistory,
        histories_write,
    )
    from selvbetjening.models import QuestionnaireAssignment, QuestionnaireVersion
    from velfaerdsteknologi.models import DeviceCategory, DeviceModel

    rng = random.Random(17)
    this_year = municipal_today().year
    years = [this_year - 3, this_year - 2, this_year - 1]

    with transaction.atomic():
        municipality = Municipality.objects.create(code="999", name="Benchkommune")
        staff_user = User.objects.create(username="bench-analyst", display_name="Bench Analytiker")
        staff = Staff.objects.create(user=staff_user, municipality=municipality)
        teams = []
        for unit_index in range(4):
            unit = OrganisationUnit.objects.create(municipality=municipality, name=f"Område {unit_index + 1}")
            for team_index in range(5):
                teams.append(Team.objects.create(unit=unit, name=f"Område {unit_index + 1} team {team_index + 1}"))
        Membership.objects.create(staff=staff, team=teams[0], role=StaffRole.ANALYST)
        version = QuestionnaireVersion.objects.filter(is_current=True, scoring__isnull=False).first()
        fall = DeviceCategory.objects.get(code="fall_detector")
        device_model = DeviceModel.objects.create(
            manufacturer="Bench", model_number="B-1", name="Faldalarm", category=fall, telemetry_kinds=[]
        )

        citizen_count = max(1, episodes * 3 // 5)
        citizens = []
        for index in range(citizen_count):
            digits = f"{index % 28 + 1:02d}{index % 12 + 1:02d}{30 + index % 60:02d}{index % 10000:04d}"
            number = cpr.CprNumber.parse(digits)
            citizens.append(
                Citizen(
                    municipality=municipality,
                    given_name="Borger",
                    family_name=f"{index}",
                    cpr_ciphertext=cpr.encrypt(number),
                    cpr_hash=uuid.uuid4().hex,  # the look-up hash is not read by the indicators
                )
            )
        Citizen.objects.bulk_create(citizens, batch_size=BATCH)

        histories = []
        for index in range(episodes):
            year = years[index % 3]
            ended_on = date(year, 1, 1) + timedelta(days=rng.randrange(0, 365))
            start = ended_on - timedelta(days=rng.randrange(20, 70))
            planned_end = start + timedelta(days=42)
            citizen = citizens[index % citizen_count]
            team = teams[rng.randrange(len(teams))]
            result = rng.choice(["E1", "E1", "E2", "E2", "E3", "E4"])
            registered = datetime.combine(start - timedelta(days=rng.randrange(0, 15)), time(12), UTC)
            goals = []
            for _ in range(1 + index % 2):
                condition = CONDITIONS[rng.randrange(len(CONDITIONS))]
                baseline = rng.randrange(1, 5)
                follow_up = (ended_on, rng.randrange(-2, 3), max(0, baseline - rng.randrange(0, 3)))
                goals.append(GoalHistory(condition, baseline, [(start, -1, baseline), follow_up]))
            slots = [
                SlotHistory(datetime.combine(start + timedelta(days=7 * number), time(9), UTC), rng.random() < 0.75)
                for number in range(4)
            ]
            sessions = [
                SessionHistory(
                    datetime.combine(start + timedelta(days=1 + 20 * number), time(10), UTC),
                    pain_before=rng.randrange(0, 9),
                    pain_after=rng.randrange(0, 9),
                    effort=rng.randrange(1, 9),
                )
                for number in range(2)
            ]
            history = EpisodeHistory(
                citizen,
                team,
                start,
                planned_end,
                ended_on,
                result,
                registered,
                goals=goals,
                slots=slots,
                sessions=sessions,
            )
            if version is not None and index % 5 == 0:
                first, last = rng.randrange(0, 40), rng.randrange(0, 40)
                history.answers = [
                    (QuestionnaireAssignment.Occasion.EPISODE_START, start, first),
                    (QuestionnaireAssignment.Occasion.EPISODE_END, ended_on, last),
                ]
            if index % 4 == 0:
                made = datetime.combine(start + timedelta(days=3), time(8), UTC)
                answered = made + timedelta(hours=rng.randrange(1, 96))
                history.requests = [RequestHistory(made, made + timedelta(hours=48), answered)]
            if index % 20 == 0:
                installed = datetime.combine(start + timedelta(days=5), time(12), UTC)
                history.devices = [DeviceHistory(device_model, f"B-{index}", installed, address="Benchvej 1")]
            histories.append(history)
        written = histories_write(histories, by=staff_user, questionnaire=version)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"  {len(citizens):,} citizens, " + ", ".join(f"{count:,} {name}" for name, count in written.items()))


if __name__ == "__main__":
    main(int(sys.argv[1]))
