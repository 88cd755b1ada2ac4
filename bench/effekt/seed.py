"""Seed the effect benchmark: one municipality with 4 units of 5 teams, and N completed episodes spread
evenly over the last three calendar years, each with 1–2 goals (baseline and follow-up ratings of GAS
and FSIII), a training plan with 4 slots and 2 logged sessions (pain, effort), and for some of them two
scored answers to a questionnaire, a request, or an installed fall detector serving the episode. Written
with ``bulk_create`` in batches; run as ``python -m bench.effekt.seed N`` with the bench's DATABASE_URL.
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
    from selvbetjening.models import (
        CitizenRequest,
        Episode,
        Goal,
        GoalRating,
        QuestionnaireAssignment,
        QuestionnaireResponse,
        QuestionnaireVersion,
        SessionLog,
        TrainingPlan,
        TrainingPlanVersion,
        TrainingSlot,
    )
    from velfaerdsteknologi.models import Assignment, Device, DeviceCategory, DeviceModel, DeviceStatus

    rng = random.Random(17)
    this_year = municipal_today().year
    years = [this_year - 3, this_year - 2, this_year - 1]

    def batches(objects, model):  # type: ignore[no-untyped-def]
        for start in range(0, len(objects), BATCH):
            model.objects.bulk_create(objects[start : start + BATCH])

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
        batches(citizens, Citizen)

        episode_rows, goal_rows, rating_rows = [], [], []
        plan_rows, version_rows, slot_rows, session_rows = [], [], [], []
        assignment_rows, response_rows, request_rows, device_rows = [], [], [], []
        assignment_questionnaires = []
        created_at = []
        for index in range(episodes):
            year = years[index % 3]
            ended_on = date(year, 1, 1) + timedelta(days=rng.randrange(0, 365))
            start = ended_on - timedelta(days=rng.randrange(20, 70))
            planned_end = start + timedelta(days=42)
            citizen = citizens[index % citizen_count]
            team = teams[rng.randrange(len(teams))]
            episode = Episode(
                id=uuid.uuid4(),
                citizen=citizen,
                team=team,
                kind=Episode.Kind.EVERYDAY_REHABILITATION,
                start_date=start,
                planned_end_date=planned_end,
                ended_on=ended_on,
                status=Episode.Status.COMPLETED,
                follow_up_result_id=rng.choice(["E1", "E1", "E2", "E2", "E3", "E4"]),
                created_by=staff_user,
            )
            episode_rows.append(episode)
            registered = datetime.combine(start - timedelta(days=rng.randrange(0, 15)), time(12), UTC)
            created_at.append((registered, episode.id))
            for rank in range(1 + index % 2):
                condition = CONDITIONS[rng.randrange(len(CONDITIONS))]
                baseline = rng.randrange(1, 5)
                goal = Goal(
                    id=uuid.uuid4(),
                    episode=episode,
                    description="Mål",
                    rank=rank + 1,
                    area=Goal.Area.MOBILITY,
                    condition_code=condition[0],
                    condition_display=condition[1],
                    baseline_level=baseline,
                    target_level=max(0, baseline - 1),
                    due_date=planned_end,
                    lifecycle_status=Goal.LifecycleStatus.COMPLETED,
                    gas_minus_2="a",
                    gas_minus_1="b",
                    gas_0="c",
                    gas_plus_1="d",
                    gas_plus_2="e",
                    created_by=staff_user,
                )
                goal_rows.append(goal)
                for rated_on, gas, level in (
                    (start, -1, baseline),
                    (ended_on, rng.randrange(-2, 3), max(0, baseline - rng.randrange(0, 3))),
                ):
                    rating_rows.append(
                        GoalRating(
                            goal=goal,
                            rated_on=rated_on,
                            rater_role=GoalRating.RaterRole.STAFF,
                            rated_by=staff_user,
                            rated_by_name="Terapeut",
                            gas_score=gas,
                            function_level=level,
                        )
                    )
            plan = TrainingPlan(
                id=uuid.uuid4(), episode=episode, citizen=citizen, title="Træning", created_by=staff_user
            )
            plan_version = TrainingPlanVersion(
                id=uuid.uuid4(),
                plan=plan,
                number=1,
                recurrence_rule="FREQ=WEEKLY;BYDAY=MO",
                start_date=start,
                start_time=time(10),
                end_date=planned_end,
                time_zone="Europe/Copenhagen",
            )
            plan_rows.append(plan)
            version_rows.append(plan_version)
            for slot_index in range(4):
                at = datetime.combine(start + timedelta(days=7 * slot_index), time(9), UTC)
                slot_rows.append(
                    TrainingSlot(
                        plan=plan,
                        version=plan_version,
                        citizen=citizen,
                        scheduled_at=at,
                        local_date=at.date(),
                        due_until=at + timedelta(hours=12),
                        status=TrainingSlot.Status.DONE if rng.random() < 0.75 else TrainingSlot.Status.MISSED,
                    )
                )
            for session_index in range(2):
                session_rows.append(
                    SessionLog(
                        id=uuid.uuid4(),
                        citizen=citizen,
                        plan=plan,
                        plan_version=plan_version,
                        performed_at=datetime.combine(start + timedelta(days=1 + 20 * session_index), time(10), UTC),
                        pain_before=rng.randrange(0, 9),
                        pain_after=rng.randrange(0, 9),
                        effort=rng.randrange(1, 9),
                        logged_by=staff_user,
                        logged_by_role=SessionLog.LoggedByRole.CITIZEN,
                        logged_by_name="Borger",
                        fingerprint=uuid.uuid4().hex,
                    )
                )
            if version is not None and index % 5 == 0:
                for occasion, score in (
                    (QuestionnaireAssignment.Occasion.EPISODE_START, rng.randrange(0, 40)),
                    (QuestionnaireAssignment.Occasion.EPISODE_END, rng.randrange(0, 40)),
                ):
                    assignment = QuestionnaireAssignment(
                        id=uuid.uuid4(),
                        citizen=citizen,
                        episode=episode,
                        version=version,
                        occasion=occasion,
                        due_on=start,
                        status=QuestionnaireAssignment.Status.ANSWERED,
                    )
                    assignment_questionnaires.append(assignment)
                    response_rows.append(
                        QuestionnaireResponse(
                            assignment=assignment, version=version, answers=[], score=score, submitted_by=staff_user
                        )
                    )
            if index % 4 == 0:
                made = datetime.combine(start + timedelta(days=3), time(8), UTC)
                answered = made + timedelta(hours=rng.randrange(1, 96))
                request_rows.append(
                    CitizenRequest(
                        citizen=citizen,
                        episode=episode,
                        team=team,
                        category=CitizenRequest.Category.HELP,
                        text="Hjælp",
                        respond_by=made + timedelta(hours=48),
                        answered_at=answered,
                        status=CitizenRequest.Status.ANSWERED,
                        created_by=staff_user,
                        created_by_role="citizen",
                    )
                )
                created_at_request = made
                request_rows[-1]._bench_created_at = created_at_request  # type: ignore[attr-defined]
            if index % 20 == 0:
                device = Device(
                    id=uuid.uuid4(),
                    municipality=municipality,
                    model=device_model,
                    serial_number=f"B-{index}",
                    status=DeviceStatus.IN_USE,
                )
                device_rows.append(device)
                assignment_rows.append(
                    Assignment(
                        device=device,
                        citizen=citizen,
                        episode_id=episode.id,
                        installation_address="Benchvej 1",
                        installed_at=datetime.combine(start + timedelta(days=5), time(12), UTC),
                        consent_basis="consent",
                        consent_reference="bench",
                        consent_review_on=ended_on + timedelta(days=365),
                    )
                )

        for rows, model in (
            (episode_rows, Episode),
            (goal_rows, Goal),
            (rating_rows, GoalRating),
            (plan_rows, TrainingPlan),
            (version_rows, TrainingPlanVersion),
            (slot_rows, TrainingSlot),
            (session_rows, SessionLog),
            (assignment_questionnaires, QuestionnaireAssignment),
            (response_rows, QuestionnaireResponse),
            (request_rows, CitizenRequest),
            (device_rows, Device),
            (assignment_rows, Assignment),
        ):
            batches(rows, model)
        # Registration before the start (the referral), and requests made when they were: auto_now_add
        # set both to now on insert.
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {Episode._meta.db_table} SET created_at = %s WHERE id = %s",
                [
                    (connection.ops.adapt_datetimefield_value(when), Episode._meta.pk.get_db_prep_value(pk, connection))
                    for when, pk in created_at
                ],
            )
            cursor.executemany(
                f"UPDATE {CitizenRequest._meta.db_table} SET created_at = %s WHERE id = %s",
                [
                    (
                        connection.ops.adapt_datetimefield_value(row._bench_created_at),
                        CitizenRequest._meta.pk.get_db_prep_value(row.pk, connection),
                    )
                    for row in request_rows
                ],
            )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(
        f"  {len(citizens):,} citizens, {len(episode_rows):,} episodes, {len(goal_rows):,} goals, "
        f"{len(rating_rows):,} ratings, {len(slot_rows):,} slots, {len(session_rows):,} sessions, "
        f"{len(response_rows):,} questionnaire answers, {len(request_rows):,} requests, "
        f"{len(assignment_rows):,} devices"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]))
