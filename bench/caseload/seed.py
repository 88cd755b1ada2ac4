"""Seed the caseload benchmark's database: teams of 1,000 citizens in training, 30 days of it, one team per
page shape.

Run by ``python -m bench.caseload`` (and ``bench.triage``) in a subprocess with the run's environment::

    python -m bench.caseload.seed --out DIR --citizens 1000 --days 30 [--shapes mixed,red,green,sparse]

One municipality, one rehabilitation team per shape (and a team with a few citizens of its own, so that
the caseload has something to leave out), ``--citizens`` citizens in each with an active care relation
to the team, a running episode, an active training plan (one version, two exercises) and a slot every
day at 10:00 local time for the last ``--days`` days and the next 7. Past slots are done (with a
session log in the slot) or missed; the last day's missed ones are left pending past their grace
period, as if the missed-slot sweep had not run yet. The shapes (``SHAPES``):

- ``mixed``: citizens differ in how faithfully they train (95 %, 85 %, 65 %, 35 % of slots), in ad hoc
  sessions and in pain (one in seven rising over the last week); one in twenty has an open pain alert,
  one in forty an acknowledged one: red, yellow and green lines on the first page;
- ``red``: everyone trains a third of the slots and has an open pain alert: every line red;
- ``green``: everyone trains nearly every slot with steady pain and no alert: mostly green;
- ``sparse``: plans started yesterday, half the slots trained, no pain reported, no alerts: a team with
  few signals (too few slots due for an adherence light at any time of day: yesterday's and today's, fewer
  than the light's 3; pain trend unknown, many equal figures).

Everything is written with ``bulk_create`` in one transaction. Five therapists, members of every team,
get a staff login each (``backend.services.identity.session_start``); their access tokens go to
``staff_tokens.txt`` and the teams' ids to ``caseload.json`` in ``--out`` (``team_id`` is the first
shape's team).
"""

import argparse
import json
import os
import random
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GIVEN_NAMES = ["Anna", "Bent", "Birthe", "Erik", "Grethe", "Hans", "Inge", "Jens", "Karen", "Niels", "Ole", "Ruth"]
FAMILY_NAMES = ["Hansen", "Jensen", "Nielsen", "Pedersen", "Andersen", "Christensen", "Larsen", "Sørensen", "Møller"]
STAFF_COUNT = 5
BATCH = 2000


@dataclass(frozen=True)
class Shape:
    """How a team's citizens train: the share of slots each trains (by index, in turn), whether pain is
    reported and one in seven has it rising, which unresolved pain alert a citizen has (by index), how
    many days ago the plans started (at most ``--days``) and whether ad hoc sessions happen."""

    team_name: str
    faithfulness: tuple[float, ...]
    pain: bool
    rising: bool
    alert: Callable[[int], str | None]
    days: int | None = None
    ad_hoc: bool = True


def _mixed_alert(index: int) -> str | None:
    return "open" if index % 20 == 3 else "acknowledged" if index % 40 == 11 else None


SHAPES = {
    "mixed": Shape("Rehabilitering Øst", (0.95, 0.85, 0.65, 0.35), pain=True, rising=True, alert=_mixed_alert),
    "red": Shape("Rehabilitering Syd", (0.33,), pain=True, rising=False, alert=lambda index: "open"),
    "green": Shape("Rehabilitering Nord", (0.99,), pain=True, rising=False, alert=lambda index: None),
    "sparse": Shape(
        "Rehabilitering Midt", (0.5,), pain=False, rising=False, alert=lambda index: None, days=1, ad_hoc=False
    ),
}


def seed(*, out: Path, citizen_count: int, days: int, shapes: Sequence[str] = ("mixed",)) -> dict[str, Any]:
    """Seed the teams of ``shapes`` (names of ``SHAPES``) and write the run's files; returns ``caseload.json``."""
    from django.db import transaction

    from backend import sql
    from backend.models import AppSession, Membership, Municipality, OrganisationUnit, Staff, StaffRole, Team, User
    from backend.services.identity import ClientInfo, session_start
    from selvbetjening.models import Exercise

    rng = random.Random(4)  # noqa: S311 (test data)
    with transaction.atomic():
        municipality = Municipality.objects.create(code="998", name="Træningskommune")
        unit = OrganisationUnit.objects.create(municipality=municipality, name="Sundhed og Omsorg")
        teams = {
            shape: Team.objects.create(unit=unit, name=SHAPES[shape].team_name, kind=Team.Kind.REHABILITATION)
            for shape in shapes
        }
        other_team = Team.objects.create(unit=unit, name="Rehabilitering Vest", kind=Team.Kind.REHABILITATION)
        staff_users = []
        for index in range(STAFF_COUNT):
            user = User(username=f"caseload-staff-{index}", display_name=f"Terapeut {index}")
            user.set_unusable_password()
            user.save()
            staff = Staff.objects.create(user=user, municipality=municipality, title="Fysioterapeut")
            Membership.objects.bulk_create(
                [Membership(staff=staff, team=team, role=StaffRole.THERAPIST) for team in teams.values()]
            )
            staff_users.append(user)
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
        counts = {"slots": 0, "session_logs": 0, "alerts": 0}
        first = 0
        for number, (shape, team) in enumerate(teams.items()):
            # The citizens the caseload must leave out belong to the first shape's run of numbers.
            extra = citizen_count // 20 if number == 0 else 0
            written = _team(
                rng=rng,
                municipality=municipality,
                teams=[team] * citizen_count + [other_team] * extra,
                first=first,
                shape=SHAPES[shape],
                days=min(days, SHAPES[shape].days or days),
                creator=staff_users[0],
                exercises=exercises,
            )
            first += citizen_count + extra
            for name, value in written.items():
                counts[name] += value

        client = ClientInfo(ip_address="127.0.0.1", user_agent="mestring-bench")
        tokens = [
            session_start(user=user, audience=AppSession.Audience.STAFF, client=client).access_token
            for user in staff_users
        ]
        sql.analyze()

    out.mkdir(parents=True, exist_ok=True)
    (out / "staff_tokens.txt").write_text("\n".join(tokens) + "\n")
    summary = {
        "team_id": str(next(iter(teams.values())).pk),
        "teams": {shape: str(team.pk) for shape, team in teams.items()},
        "citizens": citizen_count,
        **counts,
    }
    (out / "caseload.json").write_text(json.dumps(summary))
    return summary


def _team(
    *,
    rng: random.Random,
    municipality: Any,
    teams: list[Any],
    first: int,
    shape: Shape,
    days: int,
    creator: Any,
    exercises: list[Any],
) -> dict[str, int]:
    """One team's citizens (``teams`` names each citizen's team, in order) with their plans and history."""
    from datetime import UTC, datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from backend.models import CareRelation, Citizen, User
    from backend.timeutil import municipal_today
    from bench.seed import citizen_of
    from selvbetjening.models import (
        Episode,
        PlanExercise,
        SessionLog,
        TrainingAlert,
        TrainingPlan,
        TrainingPlanVersion,
        TrainingSlot,
    )
    from selvbetjening.rules.slots import due_until as slot_due_until

    zone = ZoneInfo("Europe/Copenhagen")
    today = municipal_today()
    now = timezone.now()
    first_day = today - timedelta(days=days)
    numbers = range(first, first + len(teams))
    users = [
        User(
            username=f"caseload-citizen-{number}",
            display_name=f"{GIVEN_NAMES[number % 12]} {FAMILY_NAMES[(number * 7) % 9]}",
        )
        for number in numbers
    ]
    for user in users:
        user.set_unusable_password()
    User.objects.bulk_create(users, batch_size=BATCH)
    citizens = [
        citizen_of(
            user,
            municipality,
            number + 200_000,
            address_line=f"Skolevej {number % 97 + 1}",
            postcode="5000",
            city="Odense",
        )
        for number, user in zip(numbers, users, strict=True)
    ]
    Citizen.objects.bulk_create(citizens, batch_size=BATCH)
    CareRelation.objects.bulk_create(
        [
            CareRelation(citizen=citizen, team=team, valid_from=first_day - timedelta(days=30))
            for citizen, team in zip(citizens, teams, strict=True)
        ],
        batch_size=BATCH,
    )
    episodes = [
        Episode(
            citizen=citizen,
            team=team,
            kind=Episode.Kind.TRAINING,
            title="Træningsforløb",
            start_date=first_day,
            planned_end_date=today + timedelta(days=60),
            status=Episode.Status.ACTIVE,
            created_by=creator,
        )
        for citizen, team in zip(citizens, teams, strict=True)
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

    def session(user: Any, plan: Any, slot: Any, performed_at: datetime, pain: int | None, before: int | None) -> Any:
        return SessionLog(
            id=uuid.UUID(int=rng.getrandbits(128)),
            citizen=plan.citizen,
            plan=plan,
            plan_version=plan.current_version,
            slot=slot,
            performed_at=performed_at,
            pain_before=before,
            pain_after=pain,
            effort=rng.randint(2, 7),
            logged_by=user,
            logged_by_role=SessionLog.LoggedByRole.CITIZEN,
            logged_by_name=user.display_name,
            fingerprint=f"{rng.getrandbits(128):032x}",
        )

    slots, logs, alerts = [], [], []
    for index, (plan, version) in enumerate(zip(plans, versions, strict=True)):
        citizen, user = plan.citizen, users[index]
        faithful = shape.faithfulness[index % len(shape.faithfulness)]
        base_pain = rng.randint(0, 4)
        rising = shape.rising and index % 7 == 0
        citizen_logs = []
        for offset in range(-days, 8):
            local_date = today + timedelta(days=offset)
            scheduled_at = datetime.combine(local_date, time(10, 0), tzinfo=zone).astimezone(UTC)
            due_until = slot_due_until(scheduled_at, version.grace_minutes)
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
            reported = pain if shape.pain else None
            if rng.random() < faithful:
                slot.status = TrainingSlot.Status.DONE
                performed_at = scheduled_at + timedelta(minutes=rng.randint(0, 300))
                before = max(0, pain - 1) if shape.pain else None
                citizen_logs.append(session(user, plan, slot, performed_at, reported, before))
            elif offset < -1:
                slot.status = TrainingSlot.Status.MISSED
            if shape.ad_hoc and rng.random() < 0.1:
                citizen_logs.append(session(user, plan, None, scheduled_at + timedelta(hours=7), reported, reported))
        logs.extend(citizen_logs)
        alert_status = shape.alert(index)
        if alert_status:
            alerts.append(
                TrainingAlert(
                    citizen=citizen,
                    episode=plan.episode,
                    plan=plan,
                    session_log=citizen_logs[-1] if citizen_logs else None,
                    kind=TrainingAlert.Kind.PAIN_STOP,
                    pain=8,
                    status=alert_status,
                )
            )
    TrainingSlot.objects.bulk_create(slots, batch_size=BATCH)
    SessionLog.objects.bulk_create(logs, batch_size=BATCH)
    TrainingAlert.objects.bulk_create(alerts, batch_size=BATCH)
    return {"slots": len(slots), "session_logs": len(logs), "alerts": len(alerts)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for staff_tokens.txt and caseload.json")
    parser.add_argument("--citizens", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--shapes", default="mixed", help=f"comma-separated, of {', '.join(SHAPES)} (mixed)")
    arguments = parser.parse_args(argv)
    shapes = [shape for shape in arguments.shapes.split(",") if shape]
    if not shapes or set(shapes) - set(SHAPES):
        parser.error(f"--shapes takes names of {', '.join(SHAPES)}")

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    summary = seed(out=arguments.out, citizen_count=arguments.citizens, days=arguments.days, shapes=shapes)
    print(f"seeded {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
