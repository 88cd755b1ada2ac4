"""The citizen's own self-service: episodes, goals, questionnaires, requests and network."""

from uuid import UUID

from django.http import HttpResponse
from ninja import File, Query, Router, Status, UploadedFile

from backend.access import paginate_logged
from backend.auth import AuthedRequest
from backend.images import MAX_IMAGE_BYTES
from backend.pagination import paginate
from selvbetjening import schemas
from selvbetjening.access import episodes as episode_access
from selvbetjening.access import network as network_access
from selvbetjening.access import questionnaires as questionnaire_access
from selvbetjening.access import requests as request_access
from selvbetjening.api.auth import citizen_auth
from selvbetjening.api.photos import photo_response
from selvbetjening.models import CitizenRequest
from selvbetjening.presenters import care as present
from selvbetjening.selectors import episodes as episode_reads
from selvbetjening.selectors import network as network_reads
from selvbetjening.selectors import questionnaires as questionnaire_reads
from selvbetjening.selectors import requests as request_reads
from selvbetjening.services import goals as goal_services
from selvbetjening.services import network as network_services
from selvbetjening.services import questionnaires as questionnaire_services
from selvbetjening.services import requests as request_services

CITIZEN_ONLY = citizen_auth()
episodes = Router(tags=["me: episodes"], auth=CITIZEN_ONLY)
goals = Router(tags=["me: goals"], auth=CITIZEN_ONLY)
questionnaires = Router(tags=["me: questionnaires"], auth=CITIZEN_ONLY)
requests = Router(tags=["me: requests"], auth=CITIZEN_ONLY)
network = Router(tags=["me: network"], auth=CITIZEN_ONLY)


def _own(request: AuthedRequest):
    citizen = request.auth.citizen
    assert citizen is not None
    return citizen


# --- Episodes ------------------------------------------------------------------------------------


@episodes.get("", response=schemas.EpisodePageOut, summary="My courses, with end date and whom to contact")
def my_episodes(request: AuthedRequest, query: Query[schemas.PageQuery]):
    queryset = episode_reads.with_episode_shape(
        episode_reads.episodes_visible_to(request.auth).filter(citizen=_own(request))
    )
    page = episode_access.episodes_page(
        request.auth, queryset, cursor=query.cursor, limit=query.limit, order=("-start_date", "-id")
    )
    return present.episode_page(*page)


@episodes.get("/{uuid:episode_id}", response=schemas.EpisodeDetailOut, summary="One of my courses")
def my_episode(request: AuthedRequest, episode_id: UUID):
    episode = episode_access.access_episode(request.auth, episode_id)
    return present.episode_detail(episode, episode_reads.episode_history(episode))


# --- Goals ---------------------------------------------------------------------------------------


@goals.get("", response=schemas.GoalPageOut, summary="My goals, most important first")
def my_goals(request: AuthedRequest, query: Query[schemas.GoalQuery]):
    queryset = episode_reads.goals_of(
        episode_reads.goals_visible_to(request.auth).filter(episode__citizen=_own(request)),
        episode_id=query.episode_id,
    )
    items, next_cursor = paginate_logged(
        request.auth,
        queryset,
        reads="goal",
        citizen_of=lambda goal: goal.episode.citizen_id,
        cursor=query.cursor,
        limit=query.limit,
        order=("rank", "id"),
    )
    return {"items": [present.goal(item) for item in items], "next_cursor": next_cursor}


@goals.get("/{uuid:goal_id}", response=schemas.GoalOut, summary="One of my goals")
def my_goal(request: AuthedRequest, goal_id: UUID):
    return present.goal(episode_access.access_goal(request.auth, goal_id))


@goals.get("/{uuid:goal_id}/ratings", response=schemas.RatingPageOut, summary="How my goal has been rated over time")
def my_goal_ratings(request: AuthedRequest, goal_id: UUID, query: Query[schemas.PageQuery]):
    goal = episode_access.access_goal(request.auth, goal_id, reads="goal_rating")
    items, next_cursor = paginate(episode_reads.ratings_of(goal), cursor=query.cursor, limit=query.limit)
    return {"items": items, "next_cursor": next_cursor}


@goals.post(
    "/{uuid:goal_id}/ratings",
    response={201: schemas.RatingOut, 200: schemas.RatingOut},
    summary="Rate my goal",
)
def rate_my_goal(request: AuthedRequest, goal_id: UUID, payload: schemas.RatingIn):
    goal = episode_access.access_goal_for_rating(request.auth, goal_id)
    fields = payload.model_dump(exclude={"id"})
    rating, created = goal_services.goal_rate(goal=goal, by=request.auth, rating_id=payload.id, **fields)
    return Status(201 if created else 200, rating)


# --- Questionnaires ------------------------------------------------------------------------------


@questionnaires.get(
    "", response=schemas.QuestionnaireAssignmentPageOut, summary="Questionnaires due, upcoming or answered"
)
def my_questionnaires(request: AuthedRequest, query: Query[schemas.QuestionnaireQuery]):
    queryset = questionnaire_reads.assignments_in_state(
        questionnaire_reads.assignments_visible_to(request.auth).filter(citizen=_own(request)), query.state
    )
    items, next_cursor = paginate_logged(
        request.auth,
        queryset,
        reads="questionnaire",
        citizen_of=lambda assignment: assignment.citizen_id,
        cursor=query.cursor,
        limit=query.limit,
        order=("due_on", "id"),
    )
    return {"items": [present.assignment(item) for item in items], "next_cursor": next_cursor}


@questionnaires.get(
    "/{uuid:assignment_id}", response=schemas.QuestionnaireAssignmentDetailOut, summary="A questionnaire to answer"
)
def my_questionnaire(request: AuthedRequest, assignment_id: UUID):
    return present.assignment_detail(questionnaire_access.access_assignment(request.auth, assignment_id))


@questionnaires.post(
    "/{uuid:assignment_id}/response",
    response={201: schemas.QuestionnaireAssignmentDetailOut, 200: schemas.QuestionnaireAssignmentDetailOut},
    summary="Answer a questionnaire",
)
def answer_questionnaire(request: AuthedRequest, assignment_id: UUID, payload: schemas.ResponseIn):
    assignment = questionnaire_access.access_assignment_for_change(request.auth, assignment_id)
    answers = [answer.model_dump() for answer in payload.answers]
    _, created = questionnaire_services.questionnaire_answer(
        assignment=assignment, by=request.auth, answers=answers, response_id=payload.id
    )
    return Status(
        201 if created else 200,
        present.assignment_detail(questionnaire_access.access_assignment(request.auth, assignment_id)),
    )


# --- Requests ------------------------------------------------------------------------------------


@requests.get("", response=schemas.RequestPageOut, summary="My requests, newest first")
def my_requests(request: AuthedRequest, query: Query[schemas.PageQuery]):
    items, next_cursor = paginate_logged(
        request.auth,
        request_reads.requests_of_citizen(request.auth),
        reads="request",
        citizen_of=lambda citizen_request: citizen_request.citizen_id,
        cursor=query.cursor,
        limit=query.limit,
    )
    return {"items": [present.request(item) for item in items], "next_cursor": next_cursor}


@requests.post(
    "",
    response={201: schemas.RequestDetailOut, 200: schemas.RequestDetailOut},
    summary="Write to my contact person",
)
def create_request(request: AuthedRequest, payload: schemas.RequestCreateIn):
    fields = payload.model_dump(exclude={"id"})
    created_request, created = request_services.request_create(
        by=request.auth, citizen=_own(request), request_id=payload.id, **fields
    )
    shown = request_access.access_request(request.auth, created_request.pk)
    return Status(201 if created else 200, present.request_detail(shown, list(request_reads.messages_of(shown))))


@requests.get("/{uuid:request_id}", response=schemas.RequestDetailOut, summary="One request and its replies")
def my_request(request: AuthedRequest, request_id: UUID):
    citizen_request = request_access.access_request(request.auth, request_id)
    return present.request_detail(citizen_request, list(request_reads.messages_of(citizen_request)))


@requests.post("/{uuid:request_id}/messages", response={201: schemas.MessageOut}, summary="Write again in a request")
def add_my_message(request: AuthedRequest, request_id: UUID, payload: schemas.MessageIn):
    citizen_request = request_access.access_request_for_change(request.auth, request_id)
    message = request_services.request_message_add(request=citizen_request, by=request.auth, text=payload.text)
    return Status(201, message)


@requests.post("/{uuid:request_id}/close", response=schemas.RequestOut, summary="Close my request")
def close_my_request(request: AuthedRequest, request_id: UUID):
    citizen_request = request_access.access_request_for_change(request.auth, request_id)
    request_services.request_status_set(request=citizen_request, by=request.auth, status=CitizenRequest.Status.CLOSED)
    return present.request(request_access.access_request(request.auth, request_id))


@requests.post(
    "/{uuid:request_id}/photo",
    response=schemas.RequestOut,
    summary="Attach a photo (multipart field 'photo'; JPEG, PNG or WebP)",
)
def attach_photo(request: AuthedRequest, request_id: UUID, photo: File[UploadedFile]):
    citizen_request = request_access.access_request_for_change(request.auth, request_id)
    data = photo.read(MAX_IMAGE_BYTES + 1)
    request_services.request_photo_attach(request=citizen_request, by=request.auth, data=data)
    return present.request(request_access.access_request(request.auth, request_id))


@requests.get("/{uuid:request_id}/photo", response={200: None}, summary="The photo of my request (JPEG)")
def my_request_photo(request: AuthedRequest, request_id: UUID, query: Query[schemas.PhotoQuery]) -> HttpResponse:
    return photo_response(request_access.access_request_photo(request.auth, request_id, query.size))


# --- Network -------------------------------------------------------------------------------------


@network.get("", response=schemas.NetworkOut, summary="Who I have let in, and my open invitations")
def my_network(request: AuthedRequest):
    grants, invitations = network_reads.own_network(request.auth)
    return {
        "grants": [present.grant(g) for g in grants],
        "invitations": [present.invitation(i) for i in invitations],
    }


@network.post("/invitations", response={201: schemas.InvitationCreatedOut}, summary="Invite a relative or volunteer")
def invite(request: AuthedRequest, payload: schemas.InvitationIn):
    invitation, code = network_services.invitation_create(
        by=request.auth, citizen=_own(request), **payload.model_dump()
    )
    return Status(201, {**present.invitation(invitation), "code": code})


@network.delete("/invitations/{uuid:invitation_id}", response={204: None}, summary="Withdraw an invitation")
def withdraw_invitation(request: AuthedRequest, invitation_id: UUID):
    invitation = network_access.access_invitation(request.auth, invitation_id)
    network_services.invitation_withdraw(invitation=invitation, by=request.auth)
    return Status(204, None)


@network.patch(
    "/grants/{uuid:grant_id}", response=schemas.GrantOut, summary="Change what a person may do, or until when"
)
def change_grant(request: AuthedRequest, grant_id: UUID, payload: schemas.GrantUpdateIn):
    grant = network_access.access_grant(request.auth, grant_id)
    changed = network_services.grant_update(grant=grant, by=request.auth, **payload.model_dump())
    return present.grant(changed)


@network.delete("/grants/{uuid:grant_id}", response={204: None}, summary="Revoke a person's access now")
def revoke_grant(request: AuthedRequest, grant_id: UUID):
    network_services.grant_revoke(grant=network_access.access_grant(request.auth, grant_id), by=request.auth)
    return Status(204, None)


@network.get("/encouragements", response=schemas.EncouragementPageOut, summary="Encouragements sent to me")
def my_encouragements(request: AuthedRequest, query: Query[schemas.PageQuery]):
    queryset = network_reads.encouragements_visible_to(request.auth).filter(citizen=_own(request))
    items, next_cursor = paginate_logged(
        request.auth,
        queryset,
        reads="encouragement",
        citizen_of=lambda encouragement: encouragement.citizen_id,
        cursor=query.cursor,
        limit=query.limit,
    )
    return {"items": items, "next_cursor": next_cursor}


ROUTERS = [
    ("/me/episodes", episodes),
    ("/me/goals", goals),
    ("/me/questionnaires", questionnaires),
    ("/me/requests", requests),
    ("/me/network", network),
]
