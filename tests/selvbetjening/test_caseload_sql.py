"""The caseload's hand-written statement (``selectors/caseload.py``) answers what the ORM answers for the
same question: who is in the team's caseload and each member's figures, on a realistic team (members with
sessions, pain, alerts, questionnaires, requests and episodes ending, and citizens who are not members for
each reason). Run on SQLite and on PostgreSQL."""

from datetime import timedelta
from fractions import Fraction

import pytest
from django.db.models import Count, Max, Min, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from backend.access.declaration import declared
from backend.access.rules import Moments as AccessMoments
from backend.models import CareRelation, Citizen
from selvbetjening.models import (
    CitizenRequest,
    Episode,
    QuestionnaireAssignment,
    SessionLog,
    TrainingAlert,
    TrainingPlan,
    TrainingSlot,
)
from selvbetjening.rules import questionnaires as questionnaire_rules
from selvbetjening.rules import requests as request_rules
from selvbetjening.rules.slots import DUE
from selvbetjening.selectors.caseload import UNRESOLVED_ALERT, Moments, team_caseload
from tests import factories as core
from tests.selvbetjening import factories
from tests.selvbetjening.test_caseload import day, member, pain_alert, session, slots

RUNNING = ~Q(status__in=(Episode.Status.COMPLETED, Episode.Status.CANCELLED))


def orm_caseload(team, moments: Moments) -> dict:  # type: ignore[no-untyped-def]
    """Each member's figures, read through the ORM one table at a time."""
    planned = TrainingPlan.objects.filter(
        Q(episode__in=Episode.objects.filter(RUNNING, team=team)), status=TrainingPlan.Status.ACTIVE
    ).values("citizen")
    cared = CareRelation.objects.filter(
        declared().care_relation.q(moments=AccessMoments(now=moments.now, today=moments.today)), team=team
    ).values("citizen")
    members = Citizen.objects.filter(pk__in=planned).filter(pk__in=cared)
    figures = {}
    for citizen in members:
        slots_of = TrainingSlot.objects.filter(
            citizen=citizen, local_date__gte=moments.adherence_from, local_date__lte=moments.today
        )
        logs = SessionLog.objects.filter(citizen=citizen).annotate(pain=Coalesce("pain_after", "pain_before"))
        recent = logs.filter(performed_at__gt=moments.pain_recent_after).aggregate(total=Sum("pain"), n=Count("pain"))
        previous = logs.filter(
            performed_at__gt=moments.pain_previous_after, performed_at__lte=moments.pain_recent_after
        ).aggregate(total=Sum("pain"), n=Count("pain"))
        figures[citizen.pk] = {
            "slots_due": slots_of.filter(DUE.q(moments.now)).count(),
            "slots_filled": slots_of.filter(status=TrainingSlot.Status.DONE).count(),
            "last_activity": logs.aggregate(latest=Max("performed_at"))["latest"],
            "pain_recent": Fraction(recent["total"], recent["n"]) if recent["n"] else None,
            "pain_previous": Fraction(previous["total"], previous["n"]) if previous["n"] else None,
            "open_alerts": TrainingAlert.objects.filter(citizen=citizen, status__in=UNRESOLVED_ALERT).count(),
            "questionnaires_overdue": QuestionnaireAssignment.objects.filter(
                Q(episode__isnull=True) | Q(episode__team=team),
                questionnaire_rules.overdue_q(moments.today),
                citizen=citizen,
            ).count(),
            "requests_overdue": CitizenRequest.objects.filter(
                request_rules.overdue_q(moments.now), citizen=citizen, team=team
            ).count(),
            "episode_ends_on": Episode.objects.filter(
                RUNNING,
                citizen=citizen,
                team=team,
                planned_end_date__gte=moments.today,
                planned_end_date__lte=moments.ending_by,
            ).aggregate(first=Min("planned_end_date"))["first"],
        }
    return figures


def sql_caseload(team) -> tuple[dict, Moments]:  # type: ignore[no-untyped-def]
    page = team_caseload(team, limit=100)
    assert page.next_cursor is None
    names = [
        "slots_due",
        "slots_filled",
        "last_activity",
        "pain_recent",
        "pain_previous",
        "open_alerts",
        "questionnaires_overdue",
        "requests_overdue",
        "episode_ends_on",
    ]
    return {row.citizen.pk: {name: getattr(row, name) for name in names} for row in page.rows}, page.moments


@pytest.fixture
def team_of_many(world):  # type: ignore[no-untyped-def]
    steady = member(world, "Stabil")
    slots(steady, done=5, missed=2)
    session(steady, 1, pain=3)
    session(steady, 9, pain=1)
    hurting = member(world, "Smerte")
    slots(hurting, done=2, missed=1, pain=6)
    pain_alert(hurting)
    pain_alert(hurting, status=TrainingAlert.Status.RESOLVED)
    session(hurting, 10, pain=2)
    pending_past_grace = member(world, "Glemt")
    TrainingSlot.objects.create(
        plan=pending_past_grace,
        version=pending_past_grace.current_version,
        citizen=pending_past_grace.citizen,
        scheduled_at=timezone.now() - timedelta(hours=30),
        local_date=day(-1),
        due_until=timezone.now() - timedelta(hours=22),
    )
    factories.QuestionnaireAssignmentFactory(
        citizen=pending_past_grace.citizen, episode=pending_past_grace.episode, due_on=day(-2)
    )
    factories.QuestionnaireAssignmentFactory(citizen=pending_past_grace.citizen, due_on=day(-4))
    waiting = member(world, "Venter")
    factories.CitizenRequestFactory(
        citizen=waiting.citizen, team=world.team, respond_by=timezone.now() - timedelta(hours=3)
    )
    factories.CitizenRequestFactory(
        citizen=waiting.citizen, team=world.other_team, respond_by=timezone.now() - timedelta(hours=3)
    )
    ending = member(world, "Slutter")
    Episode.objects.filter(pk=ending.episode_id).update(start_date=day(-30), planned_end_date=day(4))
    new = member(world, "Ny")
    assert new.pk
    # Not members: no active plan; a plan in another team's episode; care relation ended; episode cancelled.
    member(world, "Pause", plan_status=TrainingPlan.Status.PAUSED)
    member(world, "Andet", team=world.other_team)
    ended = member(world, "Ophoert")
    CareRelation.objects.filter(citizen=ended.citizen).update(valid_to=day(-1))
    cancelled = member(world, "Afbrudt")
    Episode.objects.filter(pk=cancelled.episode_id).update(status=Episode.Status.CANCELLED)
    no_care = core.CitizenFactory(municipality=world.municipality)
    factories.EpisodeFactory(citizen=no_care, team=world.team)


@pytest.mark.django_db
def test_the_members_and_their_figures_are_the_orms(world, team_of_many):
    found, moments = sql_caseload(world.team)
    expected = orm_caseload(world.team, moments)
    assert len(expected) == 6
    assert found == expected


@pytest.mark.django_db
def test_an_empty_team_is_empty_both_ways(world):
    found, moments = sql_caseload(world.other_team)
    assert found == orm_caseload(world.other_team, moments) == {}
