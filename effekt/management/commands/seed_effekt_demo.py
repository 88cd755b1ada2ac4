"""Demo history for the effect indicators (run by seed_demo after the other apps' demo data): 28 episodes
finished last year (the indicators' default period) in Hverdagsrehabilitering Syd (16) and Hjemmepleje
Nord (12), with goals rated at start and follow-up, follow-up results, training slots and logged sessions,
confidence questionnaires at start and end, answered requests and fall detectors for some of Syd's
citizens. Enough for most cells to hold 5 citizens or more, and a few that do not and are suppressed,
with the cells beside them: the rarer follow-up results (E3 in Syd, E4 in Nord).

The episodes lie in the past, so they are written as history directly, not through the services that
run an episode as it happens. Safe to run any number of times: when the demo history exists, nothing
is added."""

import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from backend import cpr
from backend.models import CareRelation, Citizen, Municipality, Team, User
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
from velfaerdsteknologi.models import Assignment, Device, DeviceModel, DeviceStatus

DEMO_TITLE = "Demo: afsluttet hverdagsrehabilitering"
# Follow-up results per team, one per citizen.
TEAMS = [
    ("Hverdagsrehabilitering Syd", ["E1"] * 8 + ["E2"] * 6 + ["E3"] * 2),
    ("Hjemmepleje Nord", ["E1"] * 6 + ["E2"] * 5 + ["E4"]),
]
WALKING = (uuid.UUID("3f0a6a52-6f8e-4c8b-9a57-0d1c2b3a4e01"), "Gå")
COOKING = (uuid.UUID("3f0a6a52-6f8e-4c8b-9a57-0d1c2b3a4e02"), "Lave mad")
GIVEN_NAMES = ["Inge", "Poul", "Karen", "Jens", "Grethe", "Erik", "Ruth", "Hans", "Lis", "Aage", "Bodil", "Knud"]
FAMILY_NAMES = ["Madsen", "Holm", "Bech", "Dam", "Krogh", "Lund", "Skov", "Berg"]
# Follow-up GAS score and FSIII improvement by result.
OUTCOMES = {"E1": (1, 2), "E2": (0, 1), "E3": (-1, 0), "E4": (-2, 0)}
SLOTS = 15


class Command(BaseCommand):
    help = "Load a year of finished demo episodes for the effect indicators (idempotent)."

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        municipality = Municipality.objects.filter(code="461").first()
        teams = {team.name: team for team in Team.objects.filter(unit__municipality=municipality)}
        staff_user = User.objects.filter(username="terapeut").first()
        if municipality is None or staff_user is None or any(name not in teams for name, _ in TEAMS):
            raise CommandError("Run seed_demo first.")
        if Episode.objects.filter(title=DEMO_TITLE, team__unit__municipality=municipality).exists():
            self.stdout.write("Effect demo history already loaded.")
            return
        confidence = QuestionnaireVersion.objects.filter(questionnaire__key="confidence", is_current=True).first()
        fall_detector = DeviceModel.objects.filter(category_id="fall_detector").first()
        index = 0
        for team_name, results in TEAMS:
            for result in results:
                self._citizen_history(
                    index, municipality, teams[team_name], result, staff_user, confidence, fall_detector
                )
                index += 1
        self.stdout.write(f"Effect demo history: {index} finished episodes in {len(TEAMS)} teams.")

    def _citizen_history(
        self,
        index: int,
        municipality: Municipality,
        team: Team,
        result: str,
        staff_user: User,
        confidence: QuestionnaireVersion | None,
        fall_detector: DeviceModel | None,
    ) -> None:
        # The default period of the indicators is the last complete calendar year.
        ended_on = date(municipal_today().year - 1, 1, 20) + timedelta(days=(index * 13) % 330)
        start = ended_on - timedelta(days=35 + index % 15)
        planned_end = start + timedelta(days=42)
        citizen = _citizen(index, municipality)
        CareRelation.objects.create(citizen=citizen, team=team, valid_from=start, valid_to=ended_on)
        episode = Episode.objects.create(
            citizen=citizen,
            team=team,
            kind=Episode.Kind.EVERYDAY_REHABILITATION,
            title=DEMO_TITLE,
            start_date=start,
            planned_end_date=planned_end,
            ended_on=ended_on,
            status=Episode.Status.COMPLETED,
            follow_up_result_id=result,
            created_by=staff_user,
        )
        # Registered (the referral recorded) 2 to 17 days before the start.
        registered = datetime.combine(start - timedelta(days=2 + (index % 4) * 5), time(9), tzinfo=UTC)
        Episode.objects.filter(pk=episode.pk).update(created_at=registered)
        gas, improvement = OUTCOMES[result]
        goals = [_goal(episode, WALKING, 3, gas, improvement, staff_user)]
        if index % 3:
            goals.append(_goal(episode, COOKING, 2, min(gas + 1, 2), min(improvement, 2), staff_user))
        # Every other citizen trained in at least 80 % of the slots.
        done = SLOTS - index % 3 if index % 2 == 0 else SLOTS - 5 - index % 4
        plan = _training(episode, goals, citizen.user, done=done)
        if confidence is not None:
            for occasion, answered_on, value in (
                (QuestionnaireAssignment.Occasion.EPISODE_START, start, 3 + index % 3),
                (QuestionnaireAssignment.Occasion.EPISODE_END, ended_on, 5 + index % 4 + improvement),
            ):
                _answer(citizen, episode, confidence, occasion, answered_on, min(value, 10))
        _request(citizen, episode, team, start, hours=6 + (index % 6) * 12)
        if fall_detector is not None and team.name.startswith("Hverdagsrehabilitering") and index % 3 == 0:
            _device(index, municipality, fall_detector, citizen, episode, start, ended_on)
        TrainingPlan.objects.filter(pk=plan.pk).update(status=TrainingPlan.Status.ENDED)


def _citizen(index: int, municipality: Municipality) -> Citizen:
    # Born 1932–1955 (7th digit 2: the 1900s).
    number = cpr.CprNumber.parse(f"{index % 28 + 1:02d}{index % 12 + 1:02d}{32 + index:02d}{2100 + index:04d}")
    given, family = GIVEN_NAMES[index % len(GIVEN_NAMES)], FAMILY_NAMES[index % len(FAMILY_NAMES)]
    user = User.objects.create(
        username=f"effekt-demo-{index:02d}", display_name=f"{given} {family}", is_demo=True, is_active=False
    )
    user.set_unusable_password()
    user.save(update_fields=["password"])
    return Citizen.objects.create(
        municipality=municipality,
        user=user,
        given_name=given,
        family_name=family,
        postcode="5000",
        city="Odense C",
        cpr_ciphertext=cpr.encrypt(number),
        cpr_hash=cpr.keyed_hash(number),
    )


def _goal(
    episode: Episode, condition: tuple[uuid.UUID, str], baseline: int, gas: int, improvement: int, by: User
) -> Goal:
    goal = Goal.objects.create(
        episode=episode,
        description="Jeg vil selv kunne gå ned efter avisen" if condition == WALKING else "Jeg vil lave min egen mad",
        rank=1 if condition == WALKING else 2,
        area=Goal.Area.MOBILITY if condition == WALKING else Goal.Area.HOUSEHOLD,
        condition_code=condition[0],
        condition_display=condition[1],
        baseline_level=baseline,
        target_level=max(baseline - 2, 0),
        baseline_gas=-1,
        gas_minus_2="Meget mindre end forventet",
        gas_minus_1="Mindre end forventet",
        gas_0="Som forventet",
        gas_plus_1="Mere end forventet",
        gas_plus_2="Meget mere end forventet",
        due_date=episode.planned_end_date,
        lifecycle_status=Goal.LifecycleStatus.COMPLETED,
        achievement_status=Goal.AchievementStatus.ACHIEVED if gas >= 0 else Goal.AchievementStatus.NOT_ACHIEVED,
        created_by=by,
    )
    assert episode.ended_on is not None
    for rated_on, score, level in (
        (episode.start_date, -1, baseline),
        (episode.ended_on - timedelta(days=1), gas, baseline - improvement),
    ):
        GoalRating.objects.create(
            goal=goal,
            rated_on=rated_on,
            rater_role=GoalRating.RaterRole.STAFF,
            rated_by=by,
            rated_by_name=by.display_name,
            gas_score=score,
            function_level=level,
        )
    return goal


def _training(episode: Episode, goals: list[Goal], citizen_user: User | None, *, done: int) -> TrainingPlan:
    """An ended plan with slots three times a week, ``done`` of them filled by a logged session whose pain
    and effort fall over the episode."""
    assert citizen_user is not None
    plan = TrainingPlan.objects.create(
        episode=episode, citizen=episode.citizen, title="Træning derhjemme", created_by=episode.created_by
    )
    plan.goals.set(goals)
    version = TrainingPlanVersion.objects.create(
        plan=plan,
        number=1,
        recurrence_rule="FREQ=WEEKLY;BYDAY=MO,WE,FR",
        start_date=episode.start_date,
        start_time=time(10),
        end_date=episode.planned_end_date,
        time_zone=settings.DEFAULT_CITIZEN_TIME_ZONE,
        created_by=episode.created_by,
    )
    TrainingPlan.objects.filter(pk=plan.pk).update(current_version=version)
    zone = ZoneInfo(settings.DEFAULT_CITIZEN_TIME_ZONE)
    for number in range(SLOTS):
        day = episode.start_date + timedelta(days=2 * number + 1)
        scheduled_at = datetime.combine(day, time(10), tzinfo=zone)
        is_done = number < done
        slot = TrainingSlot.objects.create(
            plan=plan,
            version=version,
            citizen=episode.citizen,
            scheduled_at=scheduled_at,
            local_date=day,
            due_until=scheduled_at + timedelta(minutes=version.grace_minutes),
            status=TrainingSlot.Status.DONE if is_done else TrainingSlot.Status.MISSED,
        )
        if is_done:
            SessionLog.objects.create(
                id=uuid.uuid4(),
                citizen=episode.citizen,
                plan=plan,
                plan_version=version,
                slot=slot,
                performed_at=scheduled_at + timedelta(minutes=20),
                pain_before=max(6 - number // 3, 1),
                pain_after=max(5 - number // 3, 1),
                effort=max(6 - number // 4, 2),
                logged_by=citizen_user,
                logged_by_role=SessionLog.LoggedByRole.CITIZEN,
                logged_by_name=citizen_user.display_name,
                fingerprint=uuid.uuid4().hex,
            )
    return plan


def _answer(
    citizen: Citizen,
    episode: Episode,
    version: QuestionnaireVersion,
    occasion: str,
    answered_on: date,
    value: int,
) -> None:
    assert citizen.user is not None
    assignment = QuestionnaireAssignment.objects.create(
        citizen=citizen,
        episode=episode,
        version=version,
        occasion=occasion,
        due_on=answered_on,
        status=QuestionnaireAssignment.Status.ANSWERED,
    )
    response = QuestionnaireResponse.objects.create(
        assignment=assignment,
        version=version,
        answers=[{"link_id": item["link_id"], "value": value} for item in version.items],
        score=Decimal(value),
        submitted_by=citizen.user,
    )
    QuestionnaireResponse.objects.filter(pk=response.pk).update(
        submitted_at=datetime.combine(answered_on, time(11), tzinfo=UTC)
    )


def _request(citizen: Citizen, episode: Episode, team: Team, start: date, *, hours: int) -> None:
    assert citizen.user is not None
    created_at = datetime.combine(start + timedelta(days=5), time(8), tzinfo=UTC)
    request = CitizenRequest.objects.create(
        citizen=citizen,
        episode=episode,
        team=team,
        category=CitizenRequest.Category.PLAN_CHANGE,
        text="Kan vi flytte træningen til eftermiddagen?",
        status=CitizenRequest.Status.CLOSED,
        respond_by=created_at + timedelta(hours=episode.response_working_days * 24),
        created_by=citizen.user,
        created_by_role="citizen",
        answered_at=created_at + timedelta(hours=hours),
        closed_at=created_at + timedelta(hours=hours + 24),
    )
    CitizenRequest.objects.filter(pk=request.pk).update(created_at=created_at)


def _device(
    index: int,
    municipality: Municipality,
    model: DeviceModel,
    citizen: Citizen,
    episode: Episode,
    start: date,
    ended_on: date,
) -> None:
    device = Device.objects.create(
        municipality=municipality, model=model, serial_number=f"EFFEKT-DEMO-{index:03d}", status=DeviceStatus.IN_STOCK
    )
    Assignment.objects.create(
        device=device,
        citizen=citizen,
        episode_id=episode.pk,
        installation_address="Odense C",
        installed_at=datetime.combine(start + timedelta(days=3), time(12), tzinfo=UTC),
        returned_at=datetime.combine(ended_on, time(12), tzinfo=UTC),
    )
