"""Episodes and their goals: who sees them, and the query shape the responses need."""

from collections.abc import Iterable
from uuid import UUID

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery

from backend.access import citizens_visible_to
from backend.actors import Actor
from backend.timeutil import municipal_today
from selvbetjening.models import Episode, EpisodeContact, EvaluationTask, FollowUpResult, Goal, GoalRating
from selvbetjening.rules.gas import gas_t_score
from selvbetjening.selectors.network import VIEW_PROGRESS, citizens_granted_to

TERMINAL = (Episode.Status.COMPLETED, Episode.Status.CANCELLED)


def episodes_visible_to(actor: Actor) -> QuerySet[Episode]:
    """Staff: episodes of citizens in their teams' care; a citizen: their own; a relative: those of
    citizens whose grant in force includes viewing progress."""
    visible = Q(citizen__in=citizens_visible_to(actor))
    if actor.relative is not None:
        visible |= Q(citizen__in=citizens_granted_to(actor, VIEW_PROGRESS))
    return Episode.objects.filter(visible)


def _latest_gas() -> Subquery:
    latest = GoalRating.objects.filter(goal=OuterRef("pk"), gas_score__isnull=False).order_by(
        "-rated_on", "-created_at"
    )
    return Subquery(latest.values("gas_score")[:1])


def goals_with_latest(queryset: QuerySet[Goal]) -> QuerySet[Goal]:
    latest = GoalRating.objects.filter(goal=OuterRef("pk")).order_by("-rated_on", "-created_at")
    return queryset.annotate(
        latest_gas=_latest_gas(),
        latest_rated_on=Subquery(latest.values("rated_on")[:1]),
        latest_function_level=Subquery(latest.filter(function_level__isnull=False).values("function_level")[:1]),
    )


def with_episode_shape(queryset: QuerySet[Episode]) -> QuerySet[Episode]:
    """Everything an episode response shows, in a fixed number of queries whatever the row count."""
    open_contacts = EpisodeContact.objects.filter(ended_at__isnull=True).select_related("staff__user")
    scored_goals = goals_with_latest(Goal.objects.exclude(lifecycle_status=Goal.LifecycleStatus.CANCELLED))
    return queryset.select_related("team", "citizen", "follow_up_result").prefetch_related(
        Prefetch("contacts", queryset=open_contacts, to_attr="open_contacts"),
        Prefetch("goals", queryset=scored_goals, to_attr="scored_goals"),
    )


def episodes_for_staff(actor: Actor, *, statuses: Iterable[str], citizen_id: UUID | None) -> QuerySet[Episode]:
    """Episodes of the staff member's teams' citizens, in the given statuses."""
    episodes = episodes_visible_to(actor).filter(status__in=list(statuses))
    if citizen_id is not None:
        episodes = episodes.filter(citizen_id=citizen_id)
    return with_episode_shape(episodes)


def current_contacts(episode: Episode) -> tuple[EpisodeContact | None, EpisodeContact | None]:
    """The contact person and the stand-in in force today (from the prefetched open contacts)."""
    contacts = getattr(episode, "open_contacts", None)
    if contacts is None:
        contacts = list(episode.contacts.filter(ended_at__isnull=True).select_related("staff__user"))
    today = municipal_today()
    contact_person = next((c for c in contacts if c.role == EpisodeContact.Role.CONTACT_PERSON), None)
    stand_in = next(
        (c for c in contacts if c.role == EpisodeContact.Role.STAND_IN and (c.until is None or c.until >= today)),
        None,
    )
    return contact_person, stand_in


def episode_gas(episode: Episode) -> tuple[float | None, float | None]:
    """The episode's GAS T-score now and at baseline, over goals not cancelled.

    Now, each goal counts with its latest GAS score; a goal not yet rated counts at its baseline GAS
    score (the level it started at, −1 unless set otherwise), so that unrated goals are not silently
    left out of the summary. None when there are no goals at all.
    """
    goals = getattr(episode, "scored_goals", None)
    if goals is None:
        goals = list(goals_with_latest(episode.goals.exclude(lifecycle_status=Goal.LifecycleStatus.CANCELLED)))
    baseline = gas_t_score((goal.gas_weight, goal.baseline_gas) for goal in goals)
    current = gas_t_score(
        (goal.gas_weight, goal.baseline_gas if goal.latest_gas is None else goal.latest_gas) for goal in goals
    )
    return current, baseline


def episode_history(episode: Episode) -> dict:
    return {
        "contacts": list(episode.contacts.select_related("staff__user").order_by("started_at")),
        "status_changes": list(episode.status_changes.all()),
    }


def evaluation_tasks_for(actor: Actor) -> QuerySet[EvaluationTask]:
    """Open evaluation tasks assigned to the staff member, on episodes they can still see."""
    if actor.staff is None or not actor.care_team_ids():
        return EvaluationTask.objects.none()
    return EvaluationTask.objects.filter(
        assignee=actor.staff, status=EvaluationTask.Status.OPEN, episode__in=episodes_visible_to(actor)
    ).select_related("episode__citizen", "episode__team")


# --- Goals ---------------------------------------------------------------------------------------


def goals_visible_to(actor: Actor) -> QuerySet[Goal]:
    return Goal.objects.filter(episode__in=episodes_visible_to(actor))


def goals_of(queryset: QuerySet[Goal], *, episode_id: UUID | None = None) -> QuerySet[Goal]:
    if episode_id is not None:
        queryset = queryset.filter(episode_id=episode_id)
    return goals_with_latest(queryset.select_related("episode__citizen"))


def ratings_of(goal: Goal) -> QuerySet[GoalRating]:
    return goal.ratings.all()


def follow_up_results() -> list[FollowUpResult]:
    """The code list an episode is completed with (E1–E4), in its own order; no personal data."""
    return list(FollowUpResult.objects.filter(is_active=True).order_by("sort_order", "code"))
