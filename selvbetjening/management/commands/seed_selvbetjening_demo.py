"""Self-service demo data for borger1 (run after seed_demo): an active episode led by "terapeut",
goals with ratings, a questionnaire due, a request with a reply, a grant to "paaroerende", the
exercise library, and a training plan with two weeks of logged sessions behind it.
Safe to run any number of times: what exists is left as it is."""

import uuid
from datetime import time, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from backend.actors import Actor
from backend.models import AppSession, Citizen, Relative, Staff
from backend.timeutil import municipal_today
from selvbetjening.models import (
    CitizenRequest,
    Episode,
    EpisodeContact,
    EpisodeStatusChange,
    EvaluationTask,
    Exercise,
    Goal,
    GoalRating,
    NetworkGrant,
    QuestionnaireAssignment,
    QuestionnaireVersion,
    RequestMessage,
    TrainingPlan,
    TrainingSlot,
)
from selvbetjening.services.conditions import ConditionRow, conditions_load
from selvbetjening.services.episodes import evaluation_due_on
from selvbetjening.services.exercises import exercise_library_load
from selvbetjening.services.plans import training_plan_create
from selvbetjening.services.questionnaires import episode_questionnaires_schedule, shipped_data_load
from selvbetjening.services.requests import response_deadline
from selvbetjening.services.sessions import session_log_record
from selvbetjening.services.slots import slots_mark_missed, slots_materialise_ahead

DEMO_TITLE = "Demo: Klare mig selv igen"
# The demo's FSIII condition code list: made-up codes (the municipality loads the real list with
# load_fsiii_conditions), real FSIII condition names and areas. The goals below use the first two.
DEMO_CONDITIONS = [
    ("Gå", Goal.Area.MOBILITY),
    ("Lave mad", Goal.Area.HOUSEHOLD),
    ("Bevæge sig omkring", Goal.Area.MOBILITY),
    ("Løfte og bære", Goal.Area.MOBILITY),
    ("Vaske sig", Goal.Area.SELF_CARE),
    ("Af- og påklædning", Goal.Area.SELF_CARE),
    ("Udføre daglige rutiner", Goal.Area.HOUSEHOLD),
    ("Muskelstyrke", Goal.Area.MUSCLE_FUNCTION),
    ("Muskeludholdenhed", Goal.Area.MUSCLE_FUNCTION),
]
GOALS = [
    (
        "Jeg vil selv kunne gå ned efter avisen om morgenen",
        Goal.Area.MOBILITY,
        "Gå",
        3,
        1,
        [
            "Kommer ikke ud",
            "Går til døren",
            "Går til postkassen med rollator",
            "Uden rollator",
            "Rundt om blokken",
        ],
        [(-1, 21), (0, 7)],
    ),
    (
        "Jeg vil lave min egen morgenmad",
        Goal.Area.HOUSEHOLD,
        "Lave mad",
        2,
        1,
        ["Får den bragt", "Smører med hjælp", "Smører selv", "Laver kaffe også", "Laver varm mad"],
        [(-2, 21), (-1, 7)],
    ),
]


def _demo_code(number: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-4000-8000-{number:012d}")


class Command(BaseCommand):
    help = "Load self-service demo data for borger1 (idempotent; run after seed_demo)."

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        shipped_data_load()
        conditions_load(
            [
                ConditionRow(code=_demo_code(n), display=name, area=area)
                for n, (name, area) in enumerate(DEMO_CONDITIONS, 1)
            ],
            complete=False,
        )
        citizen = Citizen.objects.filter(user__username="borger1").first()
        therapist = Staff.objects.filter(user__username="terapeut").select_related("user").first()
        relative = Relative.objects.filter(user__username="paaroerende").first()
        if citizen is None or therapist is None or relative is None:
            raise CommandError("Run seed_demo first: borger1, terapeut and paaroerende are needed.")
        team = therapist.memberships.select_related("team").first().team  # type: ignore[union-attr]
        today = municipal_today()
        episode = Episode.objects.filter(citizen=citizen, title=DEMO_TITLE).first()
        if episode is None:
            episode = Episode.objects.create(
                citizen=citizen,
                team=team,
                kind=Episode.Kind.EVERYDAY_REHABILITATION,
                title=DEMO_TITLE,
                start_date=today - timedelta(days=28),
                planned_end_date=today + timedelta(days=28),
                status=Episode.Status.ACTIVE,
                created_by=therapist.user,
            )
            for from_status, to_status in (("", "planned"), ("planned", "active")):
                EpisodeStatusChange.objects.create(
                    episode=episode, from_status=from_status, to_status=to_status, changed_by=therapist.user
                )
            EpisodeContact.objects.create(
                episode=episode,
                staff=therapist,
                role=EpisodeContact.Role.CONTACT_PERSON,
                assigned_by=therapist.user,
            )
            EvaluationTask.objects.create(
                episode=episode,
                assignee=therapist,
                due_on=evaluation_due_on(episode.start_date, episode.planned_end_date),
            )
            episode_questionnaires_schedule(episode=episode)
            for rank, (text, area, display, baseline, target, outcomes, ratings) in enumerate(GOALS, start=1):
                goal = Goal.objects.create(
                    episode=episode,
                    description=text,
                    rank=rank,
                    area=area,
                    condition_code=_demo_code(rank),
                    condition_display=display,
                    baseline_level=baseline,
                    target_level=target,
                    baseline_gas=ratings[0][0],
                    gas_minus_2=outcomes[0],
                    gas_minus_1=outcomes[1],
                    gas_0=outcomes[2],
                    gas_plus_1=outcomes[3],
                    gas_plus_2=outcomes[4],
                    due_date=episode.planned_end_date,
                    created_by=therapist.user,
                )
                for score, days_ago in ratings:
                    GoalRating.objects.create(
                        goal=goal,
                        rated_on=today - timedelta(days=days_ago),
                        rater_role="citizen" if days_ago < 10 else "staff",
                        rated_by=citizen.user if days_ago < 10 else therapist.user,  # type: ignore[misc]
                        rated_by_name=citizen.full_name if days_ago < 10 else therapist.user.display_name,
                        gas_score=score,
                    )
            pain = QuestionnaireVersion.objects.get(questionnaire__key="pain", is_current=True)
            QuestionnaireAssignment.objects.create(
                citizen=citizen,
                episode=episode,
                version=pain,
                occasion="staff",
                due_on=today,
                assigned_by=therapist.user,
            )
            # Written yesterday, answered two hours later: the thread reads in the order it happened.
            sent_at = timezone.now() - timedelta(days=1)
            request = CitizenRequest.objects.create(
                citizen=citizen,
                episode=episode,
                team=team,
                category=CitizenRequest.Category.ASSISTIVE_DEVICE,
                text="Min rollator knirker, når jeg går ned ad trappen.",
                status=CitizenRequest.Status.ANSWERED,
                respond_by=response_deadline(sent_at=sent_at, working_days=2, time_zone=citizen.time_zone),
                created_by=citizen.user,  # type: ignore[misc]
                created_by_role="citizen",
                answered_at=sent_at + timedelta(hours=2),
            )
            CitizenRequest.objects.filter(pk=request.pk).update(created_at=sent_at)
            reply = RequestMessage.objects.create(
                request=request,
                author=therapist.user,
                author_name=therapist.user.display_name,
                author_role="staff",
                text="Tak for beskeden. Vi kigger på den, når vi kommer på torsdag.",
            )
            RequestMessage.objects.filter(pk=reply.pk).update(created_at=sent_at + timedelta(hours=2))
        NetworkGrant.objects.get_or_create(
            citizen=citizen,
            relative=relative,
            revoked_at=None,
            defaults={
                "label": "Min søn",
                "can_view_progress": True,
                "can_receive_reminders": True,
                "can_send_encouragement": True,
            },
        )
        exercise_library_load()
        if not TrainingPlan.objects.filter(episode=episode).exists():
            _training_demo(episode=episode, citizen=citizen, therapist=therapist)
        self.stdout.write("Self-service demo data ready for borger1.")


DEMO_EXERCISES = [
    ("sit-to-stand", {"sets": 2, "repetitions": 8, "progression_after_sessions": 3, "progression_repetitions_step": 2}),
    ("heel-raises", {"sets": 2, "repetitions": 10}),
    ("tandem-stance", {"sets": 3, "hold_seconds": 20}),
    ("walking", {"duration_seconds": 600}),
]
# Pain before, pain after and effort of the past slots, the most recent first; None: not done (missed).
# The latest session's pain after reaches the stop level (7): an open pain alert for the contact person,
# which puts the citizen first in the team's triage ("Kræver handling").
DEMO_SESSIONS = [(3, 8, 7), (3, 3, 5), None, (4, 3, 5), (4, 4, 6), (5, 4, 6)]


def _training_demo(*, episode: Episode, citizen: Citizen, therapist: Staff) -> None:
    """A plan made two weeks ago (Monday, Wednesday, Friday 10:00), most of its past slots done."""
    staff = Actor(user=therapist.user, audience=AppSession.Audience.STAFF)
    own = Actor(user=citizen.user, audience=AppSession.Audience.CITIZEN)  # type: ignore[arg-type]
    now = timezone.now()
    started = now - timedelta(days=14)
    by_slug = {item.slug: item for item in Exercise.objects.filter(slug__in=[slug for slug, _ in DEMO_EXERCISES])}
    plan = training_plan_create(
        episode=episode,
        by=staff,
        title="Styrke og balance derhjemme",
        goal_ids=list(episode.goals.values_list("pk", flat=True)),
        template_id=None,
        recurrence_rule="FREQ=WEEKLY;BYDAY=MO,WE,FR",
        start_time=time(10, 0),
        start_date=timezone.localdate(started),
        end_date=episode.planned_end_date,
        grace_minutes=480,
        exercises=[
            {"exercise_id": by_slug[slug].pk, "position": position, **dosage}
            for position, (slug, dosage) in enumerate(DEMO_EXERCISES)
        ],
        now=started,
    )
    assert plan.current_version is not None
    dosage = list(plan.current_version.exercises.all())
    past = TrainingSlot.objects.filter(plan=plan, scheduled_at__lt=now).order_by("-scheduled_at")
    for slot, reported in zip(past, DEMO_SESSIONS, strict=False):
        if reported is None:
            continue
        pain_before, pain_after, effort = reported
        session_log_record(
            plan=plan,
            by=own,
            session_log_id=uuid.uuid5(plan.pk, str(slot.pk)),
            slot_id=slot.pk,
            performed_at=slot.scheduled_at + timedelta(minutes=20),
            pain_before=pain_before,
            pain_after=pain_after,
            effort=effort,
            note="",
            exercises=[
                {
                    "exercise_id": item.exercise_id,
                    "sets": item.sets,
                    "repetitions": item.repetitions,
                    "hold_seconds": item.hold_seconds,
                    "duration_seconds": item.duration_seconds,
                    "is_completed": True,
                }
                for item in dosage
            ],
            now=now,
        )
    slots_materialise_ahead(now=now)
    slots_mark_missed(now=now)
