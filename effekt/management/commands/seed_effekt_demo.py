"""Demo history for the effect indicators (run by seed_demo after the other apps' demo data): episodes
finished month by month last year (133: the indicators' default period, and the year this year is compared
with) and this year up to today, in Hverdagsrehabilitering Syd and Hjemmepleje Nord, with goals rated at
start and follow-up, follow-up results, training slots and logged sessions, confidence questionnaires at
start and end, answered requests and fall detectors for some of Syd's citizens. The goals are set for
conditions on the demo's FSIII condition code list (``selvbetjening.Condition``, loaded by the
self-service demo before this), so the figures by condition carry the list's codes and names. Enough for
most cells to hold 5 citizens or more, and a few that do not and are suppressed, with the cells beside
them: the rarer follow-up results (E3 in Syd, E4 in Nord) and a few quiet months in each team.

The episodes lie in the past, so they are written as history (``effekt.history``, as the effect benchmark
writes its own), not through the services that run an episode as it happens. Safe to run any number of
times: a year whose demo history exists gets nothing more. The theory of change for hverdagsrehabilitering in
Syd is written once, so Effekt shows its chain with the current figures."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from backend import cpr
from backend.models import CareRelation, Citizen, Municipality, Team, User
from backend.timeutil import municipal_today
from effekt.history import DeviceHistory, EpisodeHistory, GoalHistory, RequestHistory, SlotHistory, histories_write
from effekt.models import TheoryOfChange
from effekt.services import theory_of_change_create
from selvbetjening.models import CitizenRequest, Condition, Episode, QuestionnaireAssignment, QuestionnaireVersion
from velfaerdsteknologi.models import DeviceModel, DeviceStatus

DEMO_TITLE = "Demo: afsluttet hverdagsrehabilitering"
# Per team: the episodes finished in each month (January to December) and how many of them ended with a
# rare follow-up result (the others alternate between E1 and E2): last year's, then this year's, of which
# the months up to today are written. The quiet months (fewer than 5) are suppressed in the month series.
LAST_YEAR = [
    ("Hverdagsrehabilitering Syd", (6, 5, 7, 3, 6, 5, 8, 6, 5, 7, 6, 6), {"E3": 2}),
    ("Hjemmepleje Nord", (5, 6, 5, 5, 4, 6, 5, 5, 6, 5, 6, 5), {"E4": 1}),
]
THIS_YEAR = [
    ("Hverdagsrehabilitering Syd", (5, 7, 6, 6, 2, 7, 5, 6, 8, 6, 5, 6), {"E3": 2}),
    ("Hjemmepleje Nord", (6, 5, 5, 6, 5, 3, 6, 5, 5, 6, 5, 5), {"E4": 1}),
]
# The conditions the goals are set for, by their names on the code list: walking for every citizen,
# cooking for two in three.
WALKING, COOKING = "Gå", "Lave mad"
GIVEN_NAMES = ["Inge", "Poul", "Karen", "Jens", "Grethe", "Erik", "Ruth", "Hans", "Lis", "Aage", "Bodil", "Knud"]
FAMILY_NAMES = ["Madsen", "Holm", "Bech", "Dam", "Krogh", "Lund", "Skov", "Berg"]
# Follow-up GAS score and FSIII improvement by result; an E2 episode's main goal is one in three times
# followed up just below the expected level (GAS −1).
OUTCOMES = {"E1": (1, 2), "E2": (0, 1), "E3": (-1, 0), "E4": (-2, 0)}
SLOTS = 15
# The effort the demo's figures follow, with its outcomes on the standard indicators.
THEORY: dict = {
    "title": "Hverdagsrehabilitering i Syd",
    "intervention": "Hverdagsrehabilitering for borgere over 65, der søger hjemmehjælp, i distrikt Syd.",
    "activities": "Målsamtale med borgeren, 8–12 ugers træning med ergo- og fysioterapeut, faldalarm efter behov.",
    "outputs": "Forløb med mål og træningsplan, planlagte træningstider, opfølgning ved forløbets afslutning.",
    "assumptions": "Borgeren ønsker selv at blive mere selvhjulpen, og træningen sker i borgerens eget hjem.",
    "outcomes": [
        {
            "term": "short",
            "description": "Borgerne træner som aftalt",
            "indicator_key": "adherence",
            "measure_key": "mean_adherence",
            "target": 0.8,
        },
        {
            "term": "short",
            "description": "Borgerne når deres mål",
            "indicator_key": "goal_attainment",
            "measure_key": "share_goals_at_expected",
            "target": 0.75,
        },
        {
            "term": "long",
            "description": "Borgernes funktionsevne bliver bedre",
            "indicator_key": "function_change",
            "measure_key": "mean_function_improvement",
            "target": 1,
        },
        {
            "term": "long",
            "description": "Borgerne får en opfølgning ved forløbets afslutning (E1–E4)",
            "indicator_key": "follow_up_results",
        },
    ],
}


class Command(BaseCommand):
    help = "Load finished demo episodes of last year and this year for the effect indicators (idempotent)."

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        municipality = Municipality.objects.filter(code="461").first()
        teams = {team.name: team for team in Team.objects.filter(unit__municipality=municipality)}
        staff_user = User.objects.filter(username="terapeut").first()
        names = {name for name, _, _ in LAST_YEAR + THIS_YEAR}
        if municipality is None or staff_user is None or any(name not in teams for name in names):
            raise CommandError("Run seed_demo first.")
        conditions = {
            condition.display: condition
            for condition in Condition.objects.filter(active=True, display__in=[WALKING, COOKING])
        }
        if set(conditions) != {WALKING, COOKING}:
            raise CommandError(f"The FSIII condition code list has no {WALKING!r} or {COOKING!r}: run seed_demo first.")
        confidence = QuestionnaireVersion.objects.filter(questionnaire__key="confidence", is_current=True).first()
        fall_detector = DeviceModel.objects.filter(category_id="fall_detector").first()
        today = municipal_today()
        for year, plan in ((today.year - 1, LAST_YEAR), (today.year, THIS_YEAR)):
            if Episode.objects.filter(
                title=DEMO_TITLE, team__unit__municipality=municipality, ended_on__year=year
            ).exists():
                self.stdout.write(f"Effect demo history of {year} already loaded.")
                continue
            histories: list[EpisodeHistory] = []
            for team_name, per_month, rare in plan:
                for number, ended_on, result in _finished(year, per_month, rare, today, first=len(histories)):
                    histories.append(
                        _history(
                            year,
                            number,
                            ended_on,
                            municipality,
                            teams[team_name],
                            result,
                            staff_user,
                            fall_detector,
                            conditions,
                        )
                    )
            histories_write(histories, by=staff_user, questionnaire=confidence)
            self.stdout.write(
                f"Effect demo history: {len(histories)} episodes finished in {year} in {len(plan)} teams."
            )
        if not TheoryOfChange.objects.filter(municipality=municipality, title=THEORY["title"]).exists():
            theory_of_change_create(
                municipality=municipality, by=User.objects.filter(username="analytiker").first() or staff_user, **THEORY
            )
            self.stdout.write("Effect demo theory of change: " + THEORY["title"] + ".")


def _finished(
    year: int, per_month: tuple[int, ...], rare: dict[str, int], today: date, *, first: int
) -> list[tuple[int, date, str]]:
    """Each episode of one team's year that has ended by ``today``: its number in the year (from ``first``),
    the day it ended (the 3rd to the 27th, spread over the month) and its follow-up result. The rare
    results go to the first episodes of the year; the others alternate, E1 first."""
    results = [code for code, count in rare.items() for _ in range(count)]
    finished: list[tuple[int, date, str]] = []
    for month, count in enumerate(per_month, 1):
        for position in range(count):
            ended_on = date(year, month, 3 + (position * 5 + month) % 25)
            if date(year, month, 1) > today:
                return finished
            number = first + len(finished)
            result = results[number - first] if number - first < len(results) else ("E1", "E2")[number % 2]
            finished.append((number, min(ended_on, today), result))
    return finished


def _history(
    year: int,
    index: int,
    ended_on: date,
    municipality: Municipality,
    team: Team,
    result: str,
    staff_user: User,
    fall_detector: DeviceModel | None,
    conditions: dict[str, Condition],
) -> EpisodeHistory:
    start = ended_on - timedelta(days=35 + index % 15)
    planned_end = start + timedelta(days=42)
    citizen = _citizen(year, index, municipality)
    CareRelation.objects.create(citizen=citizen, team=team, valid_from=start, valid_to=ended_on)
    gas, improvement = OUTCOMES[result]
    if result == "E2" and index % 3 == 1:
        gas = -1
    goals = [_goal(conditions[WALKING], 3, gas, improvement, start, ended_on)]
    if index % 3:
        goals.append(_goal(conditions[COOKING], 2, min(gas + 1, 2), min(improvement, 2), start, ended_on))
    # Every other citizen trained in at least 80 % of the slots, with pain and effort falling.
    done = SLOTS - index % 3 if index % 2 == 0 else SLOTS - 5 - index % 4
    zone = ZoneInfo(settings.DEFAULT_CITIZEN_TIME_ZONE)
    slots = [
        SlotHistory(
            datetime.combine(start + timedelta(days=2 * number + 1), time(10), tzinfo=zone),
            done=number < done,
            session=(max(6 - number // 3, 1), max(5 - number // 3, 1), max(6 - number // 4, 2)),
        )
        for number in range(SLOTS)
    ]
    made = datetime.combine(start + timedelta(days=5), time(8), tzinfo=UTC)
    hours = 6 + (index % 6) * 12
    working_days = Episode._meta.get_field("response_working_days").default
    request = RequestHistory(
        made,
        respond_by=made + timedelta(hours=working_days * 24),
        answered_at=made + timedelta(hours=hours),
        category=CitizenRequest.Category.PLAN_CHANGE,
        text="Kan vi flytte træningen til eftermiddagen?",
        status=CitizenRequest.Status.CLOSED,
        closed_at=made + timedelta(hours=hours + 24),
    )
    devices = []
    if fall_detector is not None and team.name.startswith("Hverdagsrehabilitering") and index % 3 == 0:
        devices.append(
            DeviceHistory(
                fall_detector,
                f"EFFEKT-DEMO-{year}-{index:03d}",
                installed_at=datetime.combine(start + timedelta(days=3), time(12), tzinfo=UTC),
                returned_at=datetime.combine(ended_on, time(12), tzinfo=UTC),
                status=DeviceStatus.IN_STOCK,
                address="Odense C",
            )
        )
    return EpisodeHistory(
        citizen,
        team,
        start,
        planned_end,
        ended_on,
        result,
        # Registered (the referral recorded) 2 to 17 days before the start.
        registered_at=datetime.combine(start - timedelta(days=2 + (index % 4) * 5), time(9), tzinfo=UTC),
        title=DEMO_TITLE,
        goals=goals,
        slots=slots,
        answers=[
            (QuestionnaireAssignment.Occasion.EPISODE_START, start, 3 + index % 3),
            (QuestionnaireAssignment.Occasion.EPISODE_END, ended_on, min(5 + index % 4 + improvement, 10)),
        ],
        requests=[request],
        devices=devices,
    )


def _citizen(year: int, index: int, municipality: Municipality) -> Citizen:
    # Born 1932–1981 (7th digit 2: the 1900s); the serial number tells the demo's years apart (four in a row).
    serial = 2000 + (year % 4) * 200 + index
    number = cpr.CprNumber.parse(f"{index % 28 + 1:02d}{index % 12 + 1:02d}{32 + index % 50:02d}{serial:04d}")
    given, family = GIVEN_NAMES[index % len(GIVEN_NAMES)], FAMILY_NAMES[index % len(FAMILY_NAMES)]
    user = User.objects.create(
        username=f"effekt-demo-{year}-{index:03d}", display_name=f"{given} {family}", is_demo=True, is_active=False
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


def _goal(condition: Condition, baseline: int, gas: int, improvement: int, start: date, ended_on: date) -> GoalHistory:
    walking = condition.display == WALKING
    return GoalHistory(
        (condition.code, condition.display),
        baseline,
        [(start, -1, baseline), (ended_on - timedelta(days=1), gas, baseline - improvement)],
        description="Jeg vil selv kunne gå ned efter avisen" if walking else "Jeg vil lave min egen mad",
        area=condition.area,
        target_level=max(baseline - 2, 0),
        baseline_gas=-1,
    )
