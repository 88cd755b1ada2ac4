from selvbetjening.models.episodes import (
    Episode,
    EpisodeContact,
    EpisodeStatusChange,
    EvaluationTask,
    FollowUpResult,
)
from selvbetjening.models.goals import FSIII_CODE_SYSTEM, Goal, GoalRating
from selvbetjening.models.network import SCOPES, Encouragement, NetworkGrant, NetworkInvitation
from selvbetjening.models.questionnaires import (
    Questionnaire,
    QuestionnaireAssignment,
    QuestionnaireResponse,
    QuestionnaireVersion,
)
from selvbetjening.models.requests import CitizenRequest, RequestMessage

__all__ = [
    "FSIII_CODE_SYSTEM",
    "SCOPES",
    "CitizenRequest",
    "Encouragement",
    "Episode",
    "EpisodeContact",
    "EpisodeStatusChange",
    "EvaluationTask",
    "FollowUpResult",
    "Goal",
    "GoalRating",
    "NetworkGrant",
    "NetworkInvitation",
    "Questionnaire",
    "QuestionnaireAssignment",
    "QuestionnaireResponse",
    "QuestionnaireVersion",
    "RequestMessage",
]
