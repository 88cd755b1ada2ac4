"""Small populations with known answers for the indicator tests."""

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from backend.models import StaffRole
from selvbetjening.models import Episode, TrainingSlot
from selvbetjening.shipped import FOLLOW_UP_RESULTS
from tests import factories as core
from tests.conftest import access_token_for
from tests.selvbetjening import factories
from tests.selvbetjening.training_factories import SessionLogFactory, make_plan, slot_at
from tests.velfaerdsteknologi.factories import AssignmentFactory, DeviceFactory, DeviceModelFactory, category

PERIOD = {"from": "2026-01-01", "to": "2026-12-31"}
WALKING = (uuid.UUID("8a1c2e4f-0000-4000-8000-000000000001"), "Gå")
DRESSING = (uuid.UUID("8a1c2e4f-0000-4000-8000-000000000002"), "Tage tøj på")
WASHING = (uuid.UUID("8a1c2e4f-0000-4000-8000-000000000003"), "Vaske sig")


def completed_episode(
    team: Any,
    *,
    start: date = date(2026, 3, 2),
    planned_end: date = date(2026, 3, 30),
    ended_on: date = date(2026, 3, 30),
    result: str = "E1",
    citizen: Any = None,
) -> Episode:
    citizen = citizen or core.CitizenFactory(municipality=team.unit.municipality)
    # The code list comes from a data migration; a transactional test before this one may have flushed it.
    code, display_da, display_en, achievement, order = next(row for row in FOLLOW_UP_RESULTS if row[0] == result)
    factories.FollowUpResultFactory(
        code=code, display_da=display_da, display_en=display_en, fhir_achievement_status=achievement, sort_order=order
    )
    return factories.EpisodeFactory(
        citizen=citizen,
        team=team,
        status=Episode.Status.COMPLETED,
        start_date=start,
        planned_end_date=planned_end,
        ended_on=ended_on,
        follow_up_result_id=result,
    )


def goal(
    episode: Episode,
    *,
    gas: int | None = None,
    level: int | None = None,
    baseline_level: int = 3,
    condition: tuple[uuid.UUID, str] = WALKING,
    rated_on: date = date(2026, 3, 28),
) -> Any:
    """A goal with a baseline rating at the start and, when given, a follow-up rating."""
    made = factories.GoalFactory(
        episode=episode,
        condition_code=condition[0],
        condition_display=condition[1],
        baseline_level=baseline_level,
        target_level=min(baseline_level, 1),
    )
    factories.GoalRatingFactory(goal=made, rated_on=episode.start_date, gas_score=-1, function_level=baseline_level)
    if gas is not None or level is not None:
        factories.GoalRatingFactory(goal=made, rated_on=rated_on, gas_score=gas, function_level=level)
    return made


def slots(episode: Episode, *, done: int, missed: int) -> None:
    plan = make_plan(episode=episode)
    first = datetime(2026, 3, 2, 10, 0)  # noqa: DTZ001  (slot_at takes local wall-clock time)
    for index in range(done + missed):
        status = TrainingSlot.Status.DONE if index < done else TrainingSlot.Status.MISSED
        slot_at(plan, first + timedelta(days=index), status=status)


def sessions(episode: Episode, values: list[tuple[int | None, int | None]]) -> None:
    """Logged sessions one day apart, each with (pain before, effort)."""
    plan = make_plan(episode=episode)
    for index, (pain, effort) in enumerate(values):
        SessionLogFactory(
            plan=plan,
            performed_at=datetime(2026, 3, 3, 9, 0, tzinfo=UTC) + timedelta(days=index),
            pain_before=pain,
            effort=effort,
        )


def device_for(episode: Episode, *, category_code: str = "fall_detector", installed: date = date(2026, 3, 10)) -> None:
    model = DeviceModelFactory(category=category(category_code))
    device = DeviceFactory(municipality=episode.team.unit.municipality, model=model)
    AssignmentFactory(
        device=device,
        citizen=episode.citizen,
        episode_id=episode.pk,
        installed_at=datetime(installed.year, installed.month, installed.day, 12, 0, tzinfo=UTC),
    )


def team_lead_token(team: Any) -> str:
    lead = core.StaffFactory(municipality=team.unit.municipality)
    core.MembershipFactory(staff=lead, team=team, role=StaffRole.TEAM_LEAD)
    return access_token_for(lead.user, "staff")


def three_teams(world: Any) -> None:
    """Goals at follow-up in three teams of one unit: Syd 6 citizens at GAS 0, Nord 2 at −1, Vest 7 at +1."""
    third_team = core.TeamFactory(unit=world.team.unit, name="Rehabilitering Vest")
    for _ in range(6):
        goal(completed_episode(world.team), gas=0)
    for _ in range(2):
        goal(completed_episode(world.other_team), gas=-1)
    for _ in range(7):
        goal(completed_episode(third_team), gas=1)
