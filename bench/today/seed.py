"""Seed the /me/today benchmark's database: citizens with logins, each training on an active plan.

Run by ``python -m bench.today`` in a subprocess with the run's environment::

    python -m bench.today.seed --out DIR --citizens 1000

On top of ``bench.seed`` (one municipality, four teams, ``--citizens`` citizens each with a login made by
``session_start``, 20 staff): a shared library of 36 exercises, three in four with one to three pictures
(rows with file names only: the endpoint builds URLs, it never opens the files); per citizen a running
episode and an active plan with four to six exercises (dosage, some with load and individual
instructions), and slots twice a day for the seven days before and after today. The two daily times
are six hours from the seed's "now" on either side, so a run of less than five hours never sees a
pending slot pass: the next reminder, and with it every answer, stays the same throughout the run.
Past slots are done (a session log fills them) or missed; slots still within their grace are pending.
One citizen in four had their plan changed today: version 1's slots from today on are cancelled and
made again from version 2, as a real change does. One in five also has an ended plan whose slots
today must be left out.

Writes ``day.txt`` (today in Europe/Copenhagen, ISO) to ``--out``; the tokens are written by
``bench.seed``.
"""

import argparse
import os
import sys
import uuid
from pathlib import Path

DAYS_AROUND = 7
EXERCISE_COUNT = 36
BATCH = 2000
BODY_AREAS = ["lower_body", "upper_body", "trunk", "balance", "hand", "whole_body", "endurance"]
EXERCISE_NAMES = [
    ("Rejse-sætte-sig", "Sit-to-stand"),
    ("Hælløft", "Heel raises"),
    ("Tåløft", "Toe raises"),
    ("Rækkeøvelse", "Reaching"),
    ("Trappegang", "Stair climbing"),
    ("Stå på ét ben", "Standing on one leg"),
    ("Knæstræk", "Knee extension"),
    ("Armstræk med elastik", "Band arm extension"),
    ("Skulderløft", "Shoulder raises"),
    ("Gang på stedet", "Marching on the spot"),
    ("Hofteløft", "Hip lift"),
    ("Sideløft af ben", "Side leg raise"),
]


def seed(*, out: Path, citizen_count: int) -> None:
    from datetime import datetime, time, timedelta
    from decimal import Decimal
    from zoneinfo import ZoneInfo

    from django.db import transaction
    from django.utils import timezone

    from backend.models import Citizen, Team, User
    from bench.seed import seed as seed_citizens
    from selvbetjening.models import (
        Episode,
        Exercise,
        ExerciseImage,
        PlanExercise,
        SessionLog,
        TrainingPlan,
        TrainingPlanVersion,
        TrainingSlot,
    )
    from selvbetjening.rules.slots import due_until as slot_due_until

    seed_citizens(out=out, citizen_count=citizen_count, staff_count=20)

    zone = ZoneInfo("Europe/Copenhagen")
    now = timezone.now()
    local_now = now.astimezone(zone)
    today = local_now.date()
    first_hour = (local_now.hour + 6) % 24
    daily_times = sorted({time(first_hour), time((first_hour + 12) % 24)})

    with transaction.atomic():
        team = Team.objects.get(name="Træning")
        therapist = User.objects.get(username="bench-staff-2")
        exercises = []
        for index in range(EXERCISE_COUNT):
            title_da, title_en = EXERCISE_NAMES[index % len(EXERCISE_NAMES)]
            variant = index // len(EXERCISE_NAMES)
            exercises.append(
                Exercise(
                    municipality=None,
                    title_da=f"{title_da} {variant + 1}" if variant else title_da,
                    title_en=f"{title_en} {variant + 1}" if variant else title_en,
                    instructions_da=f"Gør sådan: {title_da.lower()}, roligt og med god holdning. " * 3,
                    instructions_en=f"Do it like this: {title_en.lower()}, calmly and upright. " * 3,
                    body_area=BODY_AREAS[index % len(BODY_AREAS)],
                    video_url=f"https://video.example/exercises/{index}" if index % 3 == 0 else "",
                )
            )
        Exercise.objects.bulk_create(exercises)
        images = []
        for index, exercise in enumerate(exercises):
            for position in range(index % 4):
                name = f"exercises/{exercise.pk}/{position}"
                images.append(
                    ExerciseImage(
                        exercise=exercise,
                        position=position,
                        alt_text_da=f"{exercise.title_da}, billede {position + 1}",
                        alt_text_en=f"{exercise.title_en}, picture {position + 1}",
                        image=f"{name}-large.jpg",
                        medium=f"{name}-medium.jpg",
                        thumbnail=f"{name}-thumbnail.jpg",
                        width=1200,
                        height=900,
                    )
                )
        ExerciseImage.objects.bulk_create(images)

        citizens = list(Citizen.objects.filter(user__username__startswith="bench-citizen-").order_by("user__username"))
        episodes, plans, versions, plan_exercises, slots, logs = [], [], [], [], [], []

        def add_version(plan: TrainingPlan, number: int, start: object, index: int) -> TrainingPlanVersion:
            version = TrainingPlanVersion(
                plan=plan,
                number=number,
                recurrence_rule="FREQ=DAILY;BYHOUR=" + ",".join(str(moment.hour) for moment in daily_times),
                start_date=start,
                start_time=daily_times[0],
                end_date=today + timedelta(days=42),
                time_zone="Europe/Copenhagen",
                created_by=therapist,
            )
            versions.append(version)
            count = 4 + (index + number) % 3
            for position in range(count):
                exercise = exercises[(index * 5 + position * 7 + number) % EXERCISE_COUNT]
                plan_exercises.append(
                    PlanExercise(
                        version=version,
                        exercise=exercise,
                        position=position,
                        sets=2 + (index + position) % 2,
                        repetitions=8 + 2 * ((index + position + number) % 3),
                        hold_seconds=10 if position % 4 == 3 else None,
                        duration_seconds=120 if position % 5 == 4 else None,
                        load_kg=Decimal("1.5") * (1 + position % 2) if position % 3 == 1 else None,
                        instructions="Hold fast i stoleryggen." if (index + position) % 4 == 0 else "",
                        progression_after_sessions=6,
                    )
                )
            return version

        def add_slots(
            plan: TrainingPlan,
            version: TrainingPlanVersion,
            citizen: Citizen,
            days: range,
            *,
            cancelled: bool = False,
            salt: int = 0,
        ) -> None:
            for offset in days:
                day = today + timedelta(days=offset)
                for number, moment in enumerate(daily_times):
                    scheduled_at = datetime.combine(day, moment, tzinfo=zone).astimezone(now.tzinfo)
                    due_until = slot_due_until(scheduled_at, version.grace_minutes)
                    slot = TrainingSlot(
                        plan=plan,
                        version=version,
                        citizen=citizen,
                        scheduled_at=scheduled_at,
                        local_date=day,
                        due_until=due_until,
                    )
                    if cancelled:
                        slot.status = TrainingSlot.Status.CANCELLED
                    elif scheduled_at < now and (offset + number + salt) % 3 != 0:
                        slot.status = TrainingSlot.Status.DONE
                        logs.append(
                            SessionLog(
                                id=uuid.uuid4(),
                                citizen=citizen,
                                plan=plan,
                                plan_version=version,
                                slot=slot,
                                performed_at=scheduled_at + timedelta(minutes=20),
                                pain_before=(salt + offset) % 4,
                                pain_after=(salt + offset + 1) % 4,
                                effort=3 + (salt + number) % 4,
                                logged_by=citizen.user,
                                logged_by_role=SessionLog.LoggedByRole.CITIZEN,
                                logged_by_name=citizen.user.display_name,
                                fingerprint=uuid.uuid4().hex,
                            )
                        )
                    elif due_until < now:
                        slot.status = TrainingSlot.Status.MISSED
                    slots.append(slot)

        for index, citizen in enumerate(citizens):
            episode = Episode(
                citizen=citizen,
                team=team,
                kind=Episode.Kind.TRAINING,
                title="Træning derhjemme",
                start_date=today - timedelta(days=21),
                planned_end_date=today + timedelta(days=42),
                status=Episode.Status.ACTIVE,
                created_by=therapist,
            )
            episodes.append(episode)
            plan = TrainingPlan(
                episode=episode,
                citizen=citizen,
                title=f"Styrke og balance {index % 7 + 1}",
                status=TrainingPlan.Status.ACTIVE,
                created_by=therapist,
                slots_until=datetime.combine(today + timedelta(days=DAYS_AROUND + 1), time(), tzinfo=zone),
            )
            plans.append(plan)
            first = add_version(plan, 1, today - timedelta(days=DAYS_AROUND), index)
            if index % 4 == 0:
                second = add_version(plan, 2, today, index)
                add_slots(plan, first, citizen, range(-DAYS_AROUND, 0), salt=index)
                add_slots(plan, first, citizen, range(0, DAYS_AROUND + 1), cancelled=True)
                add_slots(plan, second, citizen, range(0, DAYS_AROUND + 1), salt=index)
                plan.current_version = second
            else:
                add_slots(plan, first, citizen, range(-DAYS_AROUND, DAYS_AROUND + 1), salt=index)
                plan.current_version = first
            if index % 5 == 0:
                ended = TrainingPlan(
                    episode=episode,
                    citizen=citizen,
                    title="Tidligere plan",
                    status=TrainingPlan.Status.ENDED,
                    created_by=therapist,
                )
                plans.append(ended)
                old = add_version(ended, 1, today - timedelta(days=DAYS_AROUND), index + 1)
                add_slots(ended, old, citizen, range(-1, 2), salt=index + 1)
                ended.current_version = old

        Episode.objects.bulk_create(episodes, batch_size=BATCH)
        current = {plan.pk: plan.current_version for plan in plans}
        for plan in plans:
            plan.current_version = None
        TrainingPlan.objects.bulk_create(plans, batch_size=BATCH)
        TrainingPlanVersion.objects.bulk_create(versions, batch_size=BATCH)
        for plan in plans:
            plan.current_version = current[plan.pk]
        TrainingPlan.objects.bulk_update(plans, ["current_version"], batch_size=BATCH)
        PlanExercise.objects.bulk_create(plan_exercises, batch_size=BATCH)
        TrainingSlot.objects.bulk_create(slots, batch_size=BATCH)
        SessionLog.objects.bulk_create(logs, batch_size=BATCH)

    (out / "day.txt").write_text(today.isoformat() + "\n")
    print(
        f"seeded {len(exercises)} exercises with {len(images)} pictures, {len(plans)} plans, "
        f"{len(versions)} versions, {len(plan_exercises)} plan exercises, {len(slots)} slots, {len(logs)} logs"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for the token and day files")
    parser.add_argument("--citizens", type=int, default=1000)
    arguments = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    seed(out=arguments.out, citizen_count=arguments.citizens)
    return 0


if __name__ == "__main__":
    sys.exit(main())
