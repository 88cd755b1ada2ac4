"""Factories for every self-service model (factory-boy)."""

import uuid
from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from backend.timeutil import municipal_today
from selvbetjening.models import (
    CitizenRequest,
    Encouragement,
    Episode,
    EpisodeContact,
    EpisodeStatusChange,
    EvaluationTask,
    FollowUpResult,
    Goal,
    GoalRating,
    NetworkGrant,
    NetworkInvitation,
    Questionnaire,
    QuestionnaireAssignment,
    QuestionnaireResponse,
    QuestionnaireVersion,
    RequestMessage,
)
from tests import factories as core


class FollowUpResultFactory(DjangoModelFactory):
    class Meta:
        model = FollowUpResult
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"T{n}")
    display_da = "Testresultat"
    display_en = "Test result"
    fhir_achievement_status = "achieved"


class EpisodeFactory(DjangoModelFactory):
    class Meta:
        model = Episode

    citizen = factory.SubFactory(core.CitizenFactory)
    team = factory.SubFactory(core.TeamFactory)
    kind = Episode.Kind.EVERYDAY_REHABILITATION
    title = "Hverdagsrehabilitering"
    start_date = factory.LazyFunction(lambda: municipal_today() - timedelta(days=14))
    planned_end_date = factory.LazyFunction(lambda: municipal_today() + timedelta(days=42))
    status = Episode.Status.ACTIVE
    created_by = factory.SubFactory(core.UserFactory)


class EpisodeContactFactory(DjangoModelFactory):
    class Meta:
        model = EpisodeContact

    episode = factory.SubFactory(EpisodeFactory)
    staff = factory.SubFactory(core.StaffFactory)
    role = EpisodeContact.Role.CONTACT_PERSON
    assigned_by = factory.SubFactory(core.UserFactory)


class EpisodeStatusChangeFactory(DjangoModelFactory):
    class Meta:
        model = EpisodeStatusChange

    episode = factory.SubFactory(EpisodeFactory)
    to_status = Episode.Status.ACTIVE
    changed_by = factory.SubFactory(core.UserFactory)


class EvaluationTaskFactory(DjangoModelFactory):
    class Meta:
        model = EvaluationTask

    episode = factory.SubFactory(EpisodeFactory)
    assignee = factory.SubFactory(core.StaffFactory)
    due_on = factory.LazyAttribute(lambda o: o.episode.planned_end_date - timedelta(days=7))


class GoalFactory(DjangoModelFactory):
    class Meta:
        model = Goal

    episode = factory.SubFactory(EpisodeFactory)
    description = "Jeg vil selv kunne gå ned og hente avisen"
    rank = factory.Sequence(lambda n: n % 5 + 1)
    area = Goal.Area.MOBILITY
    condition_code = factory.LazyFunction(uuid.uuid4)
    condition_display = "Gå"
    baseline_level = 3
    target_level = 1
    gas_minus_2 = "Kan ikke gå ud"
    gas_minus_1 = "Går til døren med rollator"
    gas_0 = "Går til postkassen med rollator"
    gas_plus_1 = "Går til postkassen uden rollator"
    gas_plus_2 = "Går en tur rundt om blokken"
    due_date = factory.LazyAttribute(lambda o: o.episode.planned_end_date)
    created_by = factory.SubFactory(core.UserFactory)


class GoalRatingFactory(DjangoModelFactory):
    class Meta:
        model = GoalRating

    goal = factory.SubFactory(GoalFactory)
    rated_on = factory.LazyFunction(municipal_today)
    rater_role = GoalRating.RaterRole.STAFF
    rated_by = factory.SubFactory(core.UserFactory)
    rated_by_name = "Tove Terapeut"
    gas_score = 0


class QuestionnaireFactory(DjangoModelFactory):
    class Meta:
        model = Questionnaire

    key = factory.Sequence(lambda n: f"test-questionnaire-{n}")
    title_da = "Testskema"
    title_en = "Test questionnaire"


SIMPLE_ITEMS = [
    {
        "link_id": "feeling",
        "type": "scale",
        "text": {"da": "Hvordan har du det?", "en": "How are you?"},
        "required": True,
        "min": 0,
        "max": 10,
    },
]


class QuestionnaireVersionFactory(DjangoModelFactory):
    class Meta:
        model = QuestionnaireVersion

    questionnaire = factory.SubFactory(QuestionnaireFactory)
    number = 1
    items = factory.LazyFunction(lambda: list(SIMPLE_ITEMS))
    scoring = factory.LazyFunction(lambda: {"method": "sum", "link_ids": ["feeling"]})


class QuestionnaireAssignmentFactory(DjangoModelFactory):
    class Meta:
        model = QuestionnaireAssignment

    citizen = factory.SubFactory(core.CitizenFactory)
    version = factory.SubFactory(QuestionnaireVersionFactory)
    occasion = QuestionnaireAssignment.Occasion.STAFF
    due_on = factory.LazyFunction(municipal_today)


class QuestionnaireResponseFactory(DjangoModelFactory):
    class Meta:
        model = QuestionnaireResponse

    assignment = factory.SubFactory(QuestionnaireAssignmentFactory, status=QuestionnaireAssignment.Status.ANSWERED)
    version = factory.SelfAttribute("assignment.version")
    answers = factory.LazyFunction(lambda: [{"link_id": "feeling", "value": 7}])
    score = 7
    submitted_by = factory.SubFactory(core.UserFactory)


class CitizenRequestFactory(DjangoModelFactory):
    class Meta:
        model = CitizenRequest

    citizen = factory.SubFactory(core.CitizenFactory)
    team = factory.SubFactory(core.TeamFactory)
    category = CitizenRequest.Category.HELP
    text = "Kan I hjælpe med at justere min rollator?"
    respond_by = factory.LazyFunction(lambda: timezone.now() + timedelta(days=2))
    created_by = factory.SelfAttribute("citizen.user")
    created_by_role = "citizen"


class RequestMessageFactory(DjangoModelFactory):
    class Meta:
        model = RequestMessage

    request = factory.SubFactory(CitizenRequestFactory)
    author = factory.SubFactory(core.UserFactory)
    author_name = "Tove Terapeut"
    author_role = "staff"
    text = "Vi kommer forbi torsdag."


class NetworkInvitationFactory(DjangoModelFactory):
    class Meta:
        model = NetworkInvitation

    citizen = factory.SubFactory(core.CitizenFactory)
    label = "Min datter"
    kind = "relative"
    code_hash = factory.Sequence(lambda n: f"{n:064x}")
    can_view_progress = True
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))


class NetworkGrantFactory(DjangoModelFactory):
    class Meta:
        model = NetworkGrant

    citizen = factory.SubFactory(core.CitizenFactory)
    relative = factory.SubFactory(core.RelativeFactory)
    label = "Min datter"
    can_view_progress = True
    can_receive_reminders = True
    can_log_sessions = True
    can_send_encouragement = True


class EncouragementFactory(DjangoModelFactory):
    class Meta:
        model = Encouragement

    citizen = factory.SubFactory(core.CitizenFactory)
    relative = factory.SubFactory(core.RelativeFactory)
    author_name = "Palle"
    text = "Godt gået i dag!"
