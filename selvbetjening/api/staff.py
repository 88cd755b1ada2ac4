"""Care staff: their teams' citizens' episodes, goals, ratings and questionnaires; the request inbox;
evaluation tasks."""

from uuid import UUID

from django.http import HttpResponse
from ninja import Query, Router, Status

from backend.access import access_citizen_for_change, paginate_logged
from backend.actors import ANY_USER, CARE
from backend.auth import AuthedRequest, UserBearer
from backend.pagination import paginate
from selvbetjening import schemas
from selvbetjening.access import episodes as episode_access
from selvbetjening.access import questionnaires as questionnaire_access
from selvbetjening.access import requests as request_access
from selvbetjening.api.photos import photo_response
from selvbetjening.models import FollowUpResult
from selvbetjening.presenters import care as present
from selvbetjening.selectors import episodes as episode_reads
from selvbetjening.selectors import questionnaires as questionnaire_reads
from selvbetjening.selectors import requests as request_reads
from selvbetjening.services import episodes as episode_services
from selvbetjening.services import goals as goal_services
from selvbetjening.services import questionnaires as questionnaire_services
from selvbetjening.services import requests as request_services

CARE_STAFF = UserBearer(roles=CARE)
episodes = Router(tags=["staff: episodes"], auth=CARE_STAFF)
goals = Router(tags=["staff: goals"], auth=CARE_STAFF)
questionnaires = Router(tags=["staff: questionnaires"], auth=CARE_STAFF)
inbox = Router(tags=["staff: requests"], auth=CARE_STAFF)
tasks = Router(tags=["staff: evaluation tasks"], auth=CARE_STAFF)
code_lists = Router(tags=["code lists"], auth=UserBearer(roles=ANY_USER))


def _episode_detail(request: AuthedRequest, episode_id: UUID):
    episode = episode_access.access_episode(request.auth, episode_id)
    return present.episode_detail(episode, episode_reads.episode_history(episode))


# --- Episodes ------------------------------------------------------------------------------------


@episodes.get("", response=schemas.EpisodePageOut, summary="Episodes of my teams' citizens (running by default)")
def list_episodes(request: AuthedRequest, query: Query[schemas.EpisodeQuery]):
    queryset = episode_reads.episodes_for_staff(request.auth, statuses=query.status, citizen_id=query.citizen_id)
    page = episode_access.episodes_page(
        request.auth, queryset, cursor=query.cursor, limit=query.limit, order=("planned_end_date", "id")
    )
    return present.episode_page(*page)


@episodes.post("", response={201: schemas.EpisodeDetailOut}, summary="Start an episode with a citizen")
def create_episode(request: AuthedRequest, payload: schemas.EpisodeCreateIn):
    citizen = access_citizen_for_change(request.auth, payload.citizen_id)
    episode = episode_services.episode_create(
        by=request.auth, citizen=citizen, **payload.model_dump(exclude={"citizen_id"})
    )
    return Status(201, _episode_detail(request, episode.pk))


@episodes.get("/{uuid:episode_id}", response=schemas.EpisodeDetailOut, summary="One episode with its history")
def get_episode(request: AuthedRequest, episode_id: UUID):
    return _episode_detail(request, episode_id)


@episodes.patch(
    "/{uuid:episode_id}",
    response=schemas.EpisodeDetailOut,
    summary="Change title, planned end or response time",
)
def update_episode(request: AuthedRequest, episode_id: UUID, payload: schemas.EpisodeUpdateIn):
    episode = episode_access.access_episode_for_change(request.auth, episode_id)
    episode_services.episode_update(episode=episode, by=request.auth, **payload.model_dump())
    return _episode_detail(request, episode_id)


@episodes.post(
    "/{uuid:episode_id}/transitions",
    response=schemas.EpisodeDetailOut,
    summary="Activate, pause, complete or cancel",
)
def transition_episode(request: AuthedRequest, episode_id: UUID, payload: schemas.EpisodeTransitionIn):
    episode = episode_access.access_episode_for_change(request.auth, episode_id)
    fields = payload.model_dump(exclude={"status"})
    episode_services.episode_transition(episode=episode, by=request.auth, to_status=payload.status, **fields)
    return _episode_detail(request, episode_id)


@episodes.post(
    "/{uuid:episode_id}/contact-person",
    response=schemas.EpisodeDetailOut,
    summary="Hand over to a new contact person",
)
def hand_over(request: AuthedRequest, episode_id: UUID, payload: schemas.HandoverIn):
    episode = episode_access.access_episode_for_change(request.auth, episode_id)
    episode_services.episode_contact_person_hand_over(episode=episode, by=request.auth, **payload.model_dump())
    return _episode_detail(request, episode_id)


@episodes.put(
    "/{uuid:episode_id}/stand-in",
    response=schemas.EpisodeDetailOut,
    summary="Name a stand-in while the contact person is away",
)
def set_stand_in(request: AuthedRequest, episode_id: UUID, payload: schemas.StandInIn):
    episode = episode_access.access_episode_for_change(request.auth, episode_id)
    episode_services.episode_stand_in_set(episode=episode, by=request.auth, **payload.model_dump())
    return _episode_detail(request, episode_id)


@episodes.delete("/{uuid:episode_id}/stand-in", response={204: None}, summary="End the stand-in")
def end_stand_in(request: AuthedRequest, episode_id: UUID):
    episode_services.episode_stand_in_end(
        episode=episode_access.access_episode_for_change(request.auth, episode_id), by=request.auth
    )
    return Status(204, None)


@episodes.get(
    "/{uuid:episode_id}/goals",
    response=schemas.GoalPageOut,
    summary="The episode's goals, most important first",
)
def list_goals(request: AuthedRequest, episode_id: UUID, query: Query[schemas.PageQuery]):
    episode = episode_access.access_episode(request.auth, episode_id, reads="goal")
    queryset = episode_reads.goals_of(episode_reads.goals_visible_to(request.auth), episode_id=episode.pk)
    items, next_cursor = paginate(queryset, cursor=query.cursor, limit=query.limit, order=("rank", "id"))
    return {"items": [present.goal(item) for item in items], "next_cursor": next_cursor}


@episodes.post("/{uuid:episode_id}/goals", response={201: schemas.GoalOut}, summary="Set a goal with the citizen")
def create_goal(request: AuthedRequest, episode_id: UUID, payload: schemas.GoalCreateIn):
    episode = episode_access.access_episode_for_change(request.auth, episode_id)
    goal = goal_services.goal_create(episode=episode, by=request.auth, **payload.model_dump())
    return Status(201, present.goal(episode_access.access_goal(request.auth, goal.pk)))


@episodes.get(
    "/{uuid:episode_id}/questionnaires",
    response=schemas.QuestionnaireAssignmentPageOut,
    summary="Questionnaires of the episode",
)
def list_episode_questionnaires(request: AuthedRequest, episode_id: UUID, query: Query[schemas.PageQuery]):
    episode = episode_access.access_episode(request.auth, episode_id, reads="questionnaire")
    queryset = questionnaire_reads.assignments_visible_to(request.auth).filter(episode=episode)
    items, next_cursor = paginate(
        queryset.select_related("version__questionnaire", "response"),
        cursor=query.cursor,
        limit=query.limit,
        order=("due_on", "id"),
    )
    return {"items": [present.assignment(item) for item in items], "next_cursor": next_cursor}


@episodes.post(
    "/{uuid:episode_id}/questionnaires",
    response={201: schemas.QuestionnaireAssignmentOut},
    summary="Send a questionnaire",
)
def assign_questionnaire(request: AuthedRequest, episode_id: UUID, payload: schemas.AssignIn):
    episode = episode_access.access_episode_for_change(request.auth, episode_id)
    version = questionnaire_reads.current_version_of(payload.questionnaire_key)
    assignment = questionnaire_services.questionnaire_assign(
        by=request.auth, citizen=episode.citizen, episode=episode, version=version, due_on=payload.due_on
    )
    return Status(201, present.assignment(questionnaire_access.access_assignment(request.auth, assignment.pk)))


# --- Goals ---------------------------------------------------------------------------------------


@goals.get("/{uuid:goal_id}", response=schemas.GoalOut, summary="One goal")
def get_goal(request: AuthedRequest, goal_id: UUID):
    return present.goal(episode_access.access_goal(request.auth, goal_id))


@goals.patch(
    "/{uuid:goal_id}",
    response=schemas.GoalOut,
    summary="Edit a goal (send the version you read; 409 if stale)",
)
def update_goal(request: AuthedRequest, goal_id: UUID, payload: schemas.GoalUpdateIn):
    goal = episode_access.access_goal_for_change(request.auth, goal_id)
    goal_services.goal_update(goal=goal, by=request.auth, version=payload.version, changes=payload.changes())
    return present.goal(episode_access.access_goal(request.auth, goal_id))


@goals.get("/{uuid:goal_id}/ratings", response=schemas.RatingPageOut, summary="Ratings history by citizen and staff")
def list_ratings(request: AuthedRequest, goal_id: UUID, query: Query[schemas.PageQuery]):
    goal = episode_access.access_goal(request.auth, goal_id, reads="goal_rating")
    items, next_cursor = paginate(episode_reads.ratings_of(goal), cursor=query.cursor, limit=query.limit)
    return {"items": items, "next_cursor": next_cursor}


@goals.post(
    "/{uuid:goal_id}/ratings",
    response={201: schemas.RatingOut, 200: schemas.RatingOut},
    summary="Rate a goal",
)
def rate_goal(request: AuthedRequest, goal_id: UUID, payload: schemas.RatingIn):
    goal = episode_access.access_goal_for_change(request.auth, goal_id)
    fields = payload.model_dump(exclude={"id"})
    rating, created = goal_services.goal_rate(goal=goal, by=request.auth, rating_id=payload.id, **fields)
    return Status(201 if created else 200, rating)


# --- Questionnaires ------------------------------------------------------------------------------


@questionnaires.get("", response=schemas.QuestionnaireListOut, summary="Questionnaires that can be sent")
def catalogue(request: AuthedRequest):
    return {"items": [present.questionnaire_version(v) for v in questionnaire_reads.current_versions()]}


@questionnaires.get(
    "/assignments/{uuid:assignment_id}",
    response=schemas.QuestionnaireAssignmentDetailOut,
    summary="A sent questionnaire and its answers",
)
def get_assignment(request: AuthedRequest, assignment_id: UUID):
    return present.assignment_detail(questionnaire_access.access_assignment(request.auth, assignment_id))


# --- Requests ------------------------------------------------------------------------------------


@inbox.get("", response=schemas.RequestPageOut, summary="My teams' request inbox, earliest deadline (overdue) first")
def team_inbox(request: AuthedRequest, query: Query[schemas.InboxQuery]):
    queryset = request_reads.team_inbox(request.auth, statuses=tuple(query.status))
    items, next_cursor = paginate_logged(
        request.auth,
        queryset,
        reads="request",
        citizen_of=lambda citizen_request: citizen_request.citizen_id,
        cursor=query.cursor,
        limit=query.limit,
        order=("respond_by", "id"),
    )
    return {"items": [present.request(item) for item in items], "next_cursor": next_cursor}


@inbox.get("/{uuid:request_id}", response=schemas.RequestDetailOut, summary="One request and its thread")
def get_request(request: AuthedRequest, request_id: UUID):
    citizen_request = request_access.access_request(request.auth, request_id)
    return present.request_detail(citizen_request, list(request_reads.messages_of(citizen_request)))


@inbox.post("/{uuid:request_id}/messages", response={201: schemas.MessageOut}, summary="Reply to the citizen")
def reply(request: AuthedRequest, request_id: UUID, payload: schemas.MessageIn):
    citizen_request = request_access.access_request_for_change(request.auth, request_id)
    return Status(
        201, request_services.request_message_add(request=citizen_request, by=request.auth, text=payload.text)
    )


@inbox.post("/{uuid:request_id}/status", response=schemas.RequestOut, summary="Mark in progress, reopen or close")
def set_request_status(request: AuthedRequest, request_id: UUID, payload: schemas.RequestStatusIn):
    citizen_request = request_access.access_request_for_change(request.auth, request_id)
    request_services.request_status_set(request=citizen_request, by=request.auth, status=payload.status)
    return present.request(request_access.access_request(request.auth, request_id))


@inbox.get("/{uuid:request_id}/photo", response={200: None}, summary="The request's photo (JPEG)")
def request_photo(request: AuthedRequest, request_id: UUID, query: Query[schemas.PhotoQuery]) -> HttpResponse:
    return photo_response(request_access.access_request_photo(request.auth, request_id, query.size))


# --- Evaluation tasks and code lists -------------------------------------------------------------


@tasks.get("", response=schemas.EvaluationTaskPageOut, summary="My open evaluation tasks, earliest first")
def my_tasks(request: AuthedRequest, query: Query[schemas.PageQuery]):
    items, next_cursor = paginate_logged(
        request.auth,
        episode_reads.evaluation_tasks_for(request.auth),
        reads="evaluation_task",
        citizen_of=lambda task: task.episode.citizen_id,
        cursor=query.cursor,
        limit=query.limit,
        order=("due_on", "id"),
    )
    rows = [
        {
            "id": task.id,
            "episode_id": task.episode_id,
            "citizen_id": task.episode.citizen_id,
            "citizen_name": task.episode.citizen.full_name,
            "team_name": task.episode.team.name,
            "due_on": task.due_on,
            "planned_end_date": task.episode.planned_end_date,
            "status": task.status,
        }
        for task in items
    ]
    return {"items": rows, "next_cursor": next_cursor}


@code_lists.get("/follow-up-results", response=list[schemas.FollowUpResultOut], summary="Follow-up results E1–E4")
def follow_up_results(request: AuthedRequest):
    return [present.follow_up_result(result) for result in FollowUpResult.objects.filter(is_active=True)]


ROUTERS = [
    ("/episodes", episodes),
    ("/goals", goals),
    ("/questionnaires", questionnaires),
    ("/staff/requests", inbox),
    ("/staff/evaluation-tasks", tasks),
    ("/code-lists", code_lists),
]
