"""What the staff pages read, composed from the apps' own access functions and selectors: a page shows
nothing that the API would not show the same person."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.db.models import Q, QuerySet

from backend.access import access_citizen, care_membership_filter
from backend.actors import CARE, Actor, active_membership_filter
from backend.models import Citizen, Membership, StaffRole
from backend.selectors import MAX_TEAM_MEMBERS, duties_of, team_on_duty
from backend.timeutil import municipal_today
from selvbetjening.models import (
    CitizenRequest,
    Episode,
    Exercise,
    Goal,
    NetworkGrant,
    ProgrammeTemplate,
    QuestionnaireAssignment,
    TrainingPlan,
)
from selvbetjening.rules.dosage import MAX_EXERCISES as MAX_PLAN_EXERCISES
from selvbetjening.selectors import adherence as adherence_reads
from selvbetjening.selectors import caseload as caseload_reads
from selvbetjening.selectors import episodes as episode_reads
from selvbetjening.selectors import network as network_reads
from selvbetjening.selectors import plans as plan_reads
from selvbetjening.selectors import questionnaires as questionnaire_reads
from selvbetjening.selectors import requests as request_reads
from selvbetjening.selectors.exercises import exercises_search, exercises_visible_to, with_exercise_shape
from selvbetjening.selectors.templates import templates_visible_to, with_template_shape
from velfaerdsteknologi import access as device_access
from velfaerdsteknologi.models import OPEN_ALERT_STATUSES, AlertAudience, Assignment

TREND_DAYS = 56
GOAL_HISTORY_DAYS = 366
LATEST_SESSIONS = 10


@dataclass
class EpisodeView:
    episode: Episode
    contact_person: Any
    stand_in: Any
    gas_now: float | None
    gas_baseline: float | None
    status_changes: list[Any]


@dataclass
class CitizenOverview:
    citizen: Citizen
    episodes: list[EpisodeView]
    goals: list[Goal]
    plans: list[TrainingPlan]
    adherence: adherence_reads.Adherence
    latest_sessions: list[adherence_reads.SessionPoint]
    questionnaires: list[QuestionnaireAssignment]
    requests: list[CitizenRequest]
    network: list[NetworkGrant]
    devices: list[Assignment]


def citizen_overview(actor: Actor, citizen_id: Any) -> CitizenOverview:
    """Everything the citizen page shows, each part through the access rules of its own kind; 404 for
    a citizen the staff member may not see. A fixed number of queries whatever the history's length."""
    citizen = access_citizen(actor, citizen_id, reads="citizen_overview")
    today = municipal_today()
    episodes = list(
        episode_reads.episodes_for_staff(actor, statuses=Episode.Status.values, citizen_id=citizen.pk)
        .prefetch_related("status_changes")
        .order_by("-start_date")
    )
    views = []
    for episode in episodes:
        contact_person, stand_in = episode_reads.current_contacts(episode)
        gas_now, gas_baseline = episode_reads.episode_gas(episode)
        views.append(
            EpisodeView(episode, contact_person, stand_in, gas_now, gas_baseline, list(episode.status_changes.all()))
        )
    trend_window = adherence_reads.window_for(today - timedelta(days=TREND_DAYS - 1), today)
    figures = adherence_reads.citizen_adherence(citizen, trend_window)
    goal_window = adherence_reads.window_for(today - timedelta(days=GOAL_HISTORY_DAYS - 1), today)
    plans = list(
        plan_reads.with_plan_history(
            plan_reads.training_plans_for_staff(actor, citizen_id=citizen.pk, episode_id=None, status=None)
        ).order_by("-created_at")
    )
    return CitizenOverview(
        citizen=citizen,
        episodes=views,
        goals=adherence_reads.goal_trends(actor, citizen, goal_window),
        plans=plans,
        adherence=figures,
        latest_sessions=list(reversed(figures.total.sessions))[:LATEST_SESSIONS],
        questionnaires=list(_assignments(actor, citizen)),
        requests=list(request_reads.requests_visible_to(actor).filter(citizen=citizen).order_by("-created_at")[:20]),
        network=network_reads.network_for_staff(actor, citizen.pk),
        devices=device_access.installed_devices_for_care(actor, citizen.pk),
    )


def _assignments(actor: Actor, citizen: Citizen) -> QuerySet[QuestionnaireAssignment]:
    return (
        questionnaire_reads.assignments_visible_to(actor)
        .filter(citizen=citizen)
        .select_related("version__questionnaire", "response")
        .order_by("-due_on")
    )


@dataclass
class TeamView:
    team: Any
    members: list[Any]
    on_duty: list[Any]


def teams_led_by(actor: Actor) -> list[TeamView]:
    """The teams the staff member leads today: their members and who is on duty now (no citizen data)."""
    teams = [membership.team for membership in actor.memberships if membership.role == StaffRole.TEAM_LEAD]
    members = (
        Membership.objects.filter(active_membership_filter(), team__in=teams)
        .select_related("staff__user")
        .order_by("staff__user__display_name", "role")
    )
    by_team: dict[Any, list[Membership]] = {team.pk: [] for team in teams}
    for membership in members:
        by_team[membership.team_id].append(membership)
    return [TeamView(team, by_team[team.pk], team_on_duty(team)) for team in teams]


WORK_LIST_SIZE = 50


@dataclass
class WorkLists:
    training_alerts: list[Any]
    device_alerts: list[Any]
    # (IT's alert, the assignment): a device placed with a citizen in care that is silent or low on battery.
    device_troubles: list[tuple[Any, Assignment]]
    evaluation_tasks: list[Any]
    duties: list[Any]
    care_teams: list[Any]

    @property
    def duty_rows(self) -> list[tuple[Any, Any]]:
        """Each care team with the staff member's duty in it now, or None when off duty there."""
        by_team = {duty.team_id: duty for duty in reversed(self.duties)}
        return [(team, by_team.get(team.pk)) for team in self.care_teams]

    @property
    def citizens(self) -> list[Citizen]:
        """Every citizen the lists show, for the access log."""
        return (
            [alert.citizen for alert in self.training_alerts]
            + [alert.citizen for alert in self.device_alerts if alert.citizen is not None]
            + [assignment.citizen for _, assignment in self.device_troubles]
            + [task.episode.citizen for task in self.evaluation_tasks]
        )


def work_lists(actor: Actor) -> WorkLists:
    """The staff member's work: unresolved training and device alerts of their teams' citizens, the devices
    placed with them that are silent or low on battery (IT's to mend, named on the triage card), their
    evaluation tasks, and their duty per team. At most 50 of each, the oldest alerts and earliest tasks
    first; a fixed number of queries."""
    training = caseload_reads.training_alerts_for_staff(
        actor, statuses=list(caseload_reads.UNRESOLVED_ALERT), citizen_id=None
    ).order_by("created_at", "id")[:WORK_LIST_SIZE]
    devices = (
        device_access.alerts_visible_to(actor)
        .filter(audience=AlertAudience.CARE, status__in=OPEN_ALERT_STATUSES)
        .select_related("device__model", "citizen")
        .order_by("opened_at", "id")[:WORK_LIST_SIZE]
    )
    tasks = episode_reads.evaluation_tasks_for(actor).order_by("due_on", "id")[:WORK_LIST_SIZE]
    return WorkLists(
        training_alerts=list(training),
        device_alerts=list(devices),
        device_troubles=device_access.device_troubles_for_care(actor, limit=WORK_LIST_SIZE),
        evaluation_tasks=list(tasks),
        duties=duties_of(actor),
        care_teams=[membership.team for membership in actor.memberships if membership.role in CARE],
    )


def care_colleagues(team: Any) -> list[Any]:
    """The staff holding a care role in the team today, by name: who can be contact person or stand-in."""
    memberships = (
        Membership.objects.filter(care_membership_filter(), team=team, staff__user__is_active=True)
        .select_related("staff__user")
        .order_by("staff__user__display_name", "staff_id")
    )
    return list({membership.staff_id: membership.staff for membership in memberships}.values())


TEMPLATES_SHOWN = 50
LIBRARY_PAGE_SIZE = 12


def plan_exercises(actor: Actor, exercise_ids: Sequence[Any], already_in_plan: Any = ()) -> list[Exercise]:
    """The exercises a plan is being built from, in the order given, with their pictures: those of
    ``exercise_ids`` the staff member may use (the active library, and any exercise the plan already has
    even if retired since); others are left out. At most a plan's worth; two queries."""
    order: dict[UUID, int] = {}
    for value in list(exercise_ids)[: MAX_PLAN_EXERCISES * 2]:
        try:
            order.setdefault(UUID(str(value)), len(order))
        except ValueError:
            continue
    kept = Q(is_active=True) | Q(pk__in=list(already_in_plan))
    exercises = with_exercise_shape(exercises_visible_to(actor).filter(kept, pk__in=list(order)))
    return sorted(exercises, key=lambda exercise: order[exercise.pk])


@dataclass
class LibraryPage:
    """One page of a search in the exercise library."""

    exercises: list[Exercise]
    total: int
    number: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        return (self.number - 1) * self.size + 1 if self.exercises else 0

    @property
    def last(self) -> int:
        return self.first + len(self.exercises) - 1 if self.exercises else 0

    @property
    def previous_number(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next_number(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None


def plan_library_page(
    actor: Actor,
    *,
    text: str = "",
    body_areas: Sequence[str] = (),
    equipment: Sequence[str] = (),
    difficulties: Sequence[int] = (),
    number: int = 1,
    size: int = LIBRARY_PAGE_SIZE,
) -> LibraryPage:
    """A page of the active exercises the staff member may use, by Danish title, narrowed as the API's
    search narrows (``exercises_search``), with their pictures. A page past the last is the last. Three
    queries whatever the library's size: the count, the page, its pictures."""
    found = exercises_search(
        exercises_visible_to(actor), text=text, body_areas=body_areas, equipment=equipment, difficulties=difficulties
    )
    total = found.count()
    number = min(max(1, number), max(1, -(-total // size)))
    start = (number - 1) * size
    exercises = list(with_exercise_shape(found).order_by("title_da", "id")[start : start + size]) if total else []
    return LibraryPage(exercises, total, number, size)


def plan_templates(actor: Actor) -> list[ProgrammeTemplate]:
    """The municipality's active programme templates with their items, by title."""
    templates = with_template_shape(templates_visible_to(actor)).filter(is_active=True).order_by("title", "id")
    return list(templates[:TEMPLATES_SHOWN])


def contact_people(team: Any) -> list[tuple[Any, str]]:
    """The team's care staff today by name, as (staff id, name): whom Mit team can be filtered by as contact
    person. One query of two columns (the list is on the app's busiest page)."""
    people = (
        Membership.objects.filter(care_membership_filter(), team=team, staff__user__is_active=True)
        .order_by("staff__user__display_name", "staff_id")
        .values_list("staff_id", "staff__user__display_name")
    )
    return list(dict.fromkeys(people[:MAX_TEAM_MEMBERS]))
