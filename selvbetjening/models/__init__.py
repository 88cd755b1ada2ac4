from selvbetjening.models.episodes import (
    Episode,
    EpisodeContact,
    EpisodeStatusChange,
    EvaluationTask,
    FollowUpResult,
)
from selvbetjening.models.exercises import Exercise, ExerciseImage
from selvbetjening.models.goals import FSIII_CODE_SYSTEM, Condition, Goal, GoalRating
from selvbetjening.models.network import Encouragement, NetworkGrant, NetworkInvitation
from selvbetjening.models.plan_history import TrainingPlanStatusChange
from selvbetjening.models.questionnaires import (
    Questionnaire,
    QuestionnaireAssignment,
    QuestionnaireResponse,
    QuestionnaireVersion,
)
from selvbetjening.models.requests import CitizenRequest, RequestMessage
from selvbetjening.models.training import (
    BORG_CR10_MAX,
    NRS_MAX,
    PlanExercise,
    ProgrammeTemplate,
    ProgrammeTemplateItem,
    ProgressionDecision,
    SessionLog,
    SessionLogExercise,
    TrainingAlert,
    TrainingPlan,
    TrainingPlanVersion,
    TrainingSlot,
)

__all__ = [
    "BORG_CR10_MAX",
    "FSIII_CODE_SYSTEM",
    "NRS_MAX",
    "CitizenRequest",
    "Condition",
    "Encouragement",
    "Episode",
    "EpisodeContact",
    "EpisodeStatusChange",
    "EvaluationTask",
    "Exercise",
    "ExerciseImage",
    "FollowUpResult",
    "Goal",
    "GoalRating",
    "NetworkGrant",
    "NetworkInvitation",
    "PlanExercise",
    "ProgrammeTemplate",
    "ProgrammeTemplateItem",
    "ProgressionDecision",
    "Questionnaire",
    "QuestionnaireAssignment",
    "QuestionnaireResponse",
    "QuestionnaireVersion",
    "RequestMessage",
    "SessionLog",
    "SessionLogExercise",
    "TrainingAlert",
    "TrainingPlan",
    "TrainingPlanStatusChange",
    "TrainingPlanVersion",
    "TrainingSlot",
]
