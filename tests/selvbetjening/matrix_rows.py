"""Self-service rows of the role × operation matrix (see tests/matrix.py).

Objects an operation needs are made by ``path_params`` (called before the table counts are taken)
and kept on the world, so a body can refer to them.
"""

from datetime import timedelta
from typing import Any

from backend.models import StaffRole
from backend.timeutil import municipal_today
from selvbetjening.models import EpisodeContact, NetworkGrant, QuestionnaireVersion
from selvbetjening.services.network import invitation_create
from tests import factories as core
from tests.matrix import Row, statuses
from tests.selvbetjening import factories
from tests.selvbetjening.helpers import episode_body


def _cached(world: Any, name: str, make) -> Any:  # type: ignore[no-untyped-def]
    if name not in world.__dict__:
        world.__dict__[name] = make()
    return world.__dict__[name]


def episode(world: Any) -> Any:
    def make():  # type: ignore[no-untyped-def]
        made = factories.EpisodeFactory(citizen=world.citizen, team=world.team, created_by=world.staff_in_team.user)
        factories.EpisodeContactFactory(
            episode=made, staff=world.staff_in_team, role=EpisodeContact.Role.CONTACT_PERSON
        )
        factories.EvaluationTaskFactory(episode=made, assignee=world.staff_in_team)
        return made

    return _cached(world, "_episode", make)


def colleague(world: Any) -> Any:
    def make():  # type: ignore[no-untyped-def]
        member = core.StaffFactory(municipality=world.municipality)
        core.MembershipFactory(staff=member, team=world.team, role=StaffRole.THERAPIST)
        return member

    return _cached(world, "_colleague", make)


def goal(world: Any) -> Any:
    return _cached(world, "_goal", lambda: factories.GoalFactory(episode=episode(world)))


def assignment(world: Any) -> Any:
    pain = QuestionnaireVersion.objects.get(questionnaire__key="pain", is_current=True)
    return _cached(
        world,
        "_assignment",
        lambda: factories.QuestionnaireAssignmentFactory(citizen=world.citizen, episode=episode(world), version=pain),
    )


def citizen_request(world: Any) -> Any:
    return _cached(
        world,
        "_request",
        lambda: factories.CitizenRequestFactory(citizen=world.citizen, team=world.team, episode=episode(world)),
    )


def invitation(world: Any) -> Any:
    return _cached(world, "_invitation", lambda: factories.NetworkInvitationFactory(citizen=world.citizen))


def invitation_code(world: Any) -> dict[str, Any]:
    def make():  # type: ignore[no-untyped-def]
        class Owner:
            user = world.citizen.user
            audit_role = "citizen"

        _, code = invitation_create(
            by=Owner(),
            citizen=world.citizen,
            label="Min søn",
            kind="relative",
            scopes=["view_progress"],
            grant_valid_until=None,
        )
        return code

    _cached(world, "_invitation_code", make)
    return {}


def grant(world: Any) -> Any:
    return NetworkGrant.objects.get(citizen=world.citizen, relative=world.relative_with_consent)


def own(status: int, other: int) -> dict[str, int]:
    return statuses(403, citizen=status, other_citizen=other)


def care(status: int, other: int) -> dict[str, int]:
    return statuses(403, staff_in_team=status, staff_out_of_team=other)


def relatives(status: int, other: int) -> dict[str, int]:
    return statuses(403, relative_with_consent=status, relative_without_consent=other)


def _episode_id(w: Any) -> dict[str, Any]:
    return {"episode_id": episode(w).pk}


def _goal_id(w: Any) -> dict[str, Any]:
    return {"goal_id": goal(w).pk}


def _assignment_id(w: Any) -> dict[str, Any]:
    return {"assignment_id": assignment(w).pk}


def _request_id(w: Any) -> dict[str, Any]:
    return {"request_id": citizen_request(w).pk}


def _citizen_id(w: Any) -> dict[str, Any]:
    return {"citizen_id": w.citizen.pk}


def _colleague_episode(w: Any) -> dict[str, Any]:
    colleague(w)
    return _episode_id(w)


def _new_goal(w: Any) -> dict[str, Any]:
    return {
        "description": "Jeg vil kunne gå i Brugsen selv",
        "rank": 1,
        "area": "mobility",
        "condition_code": "6c3f2a55-5b87-4d55-9b6c-0b8b6fb2c5a1",
        "condition_display": "Gå",
        "baseline_level": 3,
        "target_level": 1,
        "gas_minus_2": "a",
        "gas_minus_1": "b",
        "gas_0": "c",
        "gas_plus_1": "d",
        "gas_plus_2": "e",
        "due_date": str(episode(w).planned_end_date),
    }


ROWS = [
    # The citizen's own self-service.
    Row("GET", "/api/v1/me/episodes", own(200, 200)),
    Row("GET", "/api/v1/me/episodes/{episode_id}", own(200, 404), path_params=_episode_id),
    Row("GET", "/api/v1/me/goals", own(200, 200)),
    Row("GET", "/api/v1/me/goals/{goal_id}", own(200, 404), path_params=_goal_id),
    Row("GET", "/api/v1/me/goals/{goal_id}/ratings", own(200, 404), path_params=_goal_id),
    Row(
        "POST",
        "/api/v1/me/goals/{goal_id}/ratings",
        own(201, 404),
        path_params=_goal_id,
        body=lambda w: {"gas_score": 0},
    ),
    Row("GET", "/api/v1/me/questionnaires", own(200, 200)),
    Row("GET", "/api/v1/me/questionnaires/{assignment_id}", own(200, 404), path_params=_assignment_id),
    Row(
        "POST",
        "/api/v1/me/questionnaires/{assignment_id}/response",
        own(201, 404),
        path_params=_assignment_id,
        body=lambda w: {"answers": [{"link_id": "has_pain", "value": False}]},
    ),
    Row("GET", "/api/v1/me/requests", own(200, 200)),
    Row(
        "POST",
        "/api/v1/me/requests",
        own(201, 201),
        body=lambda w: {"category": "help", "text": "Min rollator knirker"},
    ),
    Row("GET", "/api/v1/me/requests/{request_id}", own(200, 404), path_params=_request_id),
    Row(
        "POST",
        "/api/v1/me/requests/{request_id}/messages",
        own(201, 404),
        path_params=_request_id,
        body=lambda w: {"text": "Tak"},
    ),
    Row("POST", "/api/v1/me/requests/{request_id}/close", own(200, 404), path_params=_request_id),
    # A JSON body carries no file: the owner's and the other citizen's calls are refused by validation.
    Row("POST", "/api/v1/me/requests/{request_id}/photo", own(422, 422), path_params=_request_id),
    Row("GET", "/api/v1/me/requests/{request_id}/photo", own(404, 404), path_params=_request_id),
    Row("GET", "/api/v1/me/network", own(200, 200)),
    Row(
        "POST",
        "/api/v1/me/network/invitations",
        own(201, 201),
        body=lambda w: {"label": "Min søn", "scopes": ["view_progress"]},
    ),
    Row(
        "DELETE",
        "/api/v1/me/network/invitations/{invitation_id}",
        own(204, 404),
        path_params=lambda w: {"invitation_id": invitation(w).pk},
    ),
    Row(
        "PATCH",
        "/api/v1/me/network/grants/{grant_id}",
        own(200, 404),
        path_params=lambda w: {"grant_id": grant(w).pk},
        body=lambda w: {"scopes": ["view_progress"]},
    ),
    Row(
        "DELETE",
        "/api/v1/me/network/grants/{grant_id}",
        own(204, 404),
        path_params=lambda w: {"grant_id": grant(w).pk},
    ),
    Row("GET", "/api/v1/me/network/encouragements", own(200, 200)),
    # Care staff.
    Row("GET", "/api/v1/episodes", care(200, 200)),
    Row("POST", "/api/v1/episodes", care(201, 404), body=episode_body),
    Row("GET", "/api/v1/episodes/{episode_id}", care(200, 404), path_params=_episode_id),
    Row(
        "PATCH",
        "/api/v1/episodes/{episode_id}",
        care(200, 404),
        path_params=_episode_id,
        body=lambda w: {"version": 1, "title": "Ny titel"},
    ),
    Row(
        "POST",
        "/api/v1/episodes/{episode_id}/transitions",
        care(200, 404),
        path_params=_episode_id,
        body=lambda w: {"version": 1, "status": "on_hold"},
    ),
    Row(
        "POST",
        "/api/v1/episodes/{episode_id}/contact-person",
        care(200, 404),
        path_params=_colleague_episode,
        body=lambda w: {"staff_id": str(colleague(w).pk), "reason": "Ferie"},
    ),
    Row(
        "PUT",
        "/api/v1/episodes/{episode_id}/stand-in",
        care(200, 404),
        path_params=_colleague_episode,
        body=lambda w: {
            "staff_id": str(colleague(w).pk),
            "until": str(municipal_today() + timedelta(days=7)),
        },
    ),
    Row("DELETE", "/api/v1/episodes/{episode_id}/stand-in", care(204, 404), path_params=_episode_id),
    Row("GET", "/api/v1/episodes/{episode_id}/goals", care(200, 404), path_params=_episode_id),
    Row("POST", "/api/v1/episodes/{episode_id}/goals", care(201, 404), path_params=_episode_id, body=_new_goal),
    Row("GET", "/api/v1/episodes/{episode_id}/questionnaires", care(200, 404), path_params=_episode_id),
    Row(
        "POST",
        "/api/v1/episodes/{episode_id}/questionnaires",
        care(201, 404),
        path_params=_episode_id,
        body=lambda w: {"questionnaire_key": "pain", "due_on": str(municipal_today())},
    ),
    Row("GET", "/api/v1/goals/{goal_id}", care(200, 404), path_params=_goal_id),
    Row(
        "PATCH",
        "/api/v1/goals/{goal_id}",
        care(200, 404),
        path_params=_goal_id,
        body=lambda w: {"version": 1, "rank": 2},
    ),
    Row("GET", "/api/v1/goals/{goal_id}/ratings", care(200, 404), path_params=_goal_id),
    Row(
        "POST",
        "/api/v1/goals/{goal_id}/ratings",
        care(201, 404),
        path_params=_goal_id,
        body=lambda w: {"gas_score": 1},
    ),
    Row("GET", "/api/v1/questionnaires", care(200, 200)),
    Row(
        "GET",
        "/api/v1/questionnaires/assignments/{assignment_id}",
        care(200, 404),
        path_params=_assignment_id,
    ),
    Row("GET", "/api/v1/staff/requests", care(200, 200)),
    Row("GET", "/api/v1/staff/requests/{request_id}", care(200, 404), path_params=_request_id),
    Row(
        "POST",
        "/api/v1/staff/requests/{request_id}/messages",
        care(201, 404),
        path_params=_request_id,
        body=lambda w: {"text": "Vi kommer torsdag"},
    ),
    Row(
        "POST",
        "/api/v1/staff/requests/{request_id}/status",
        care(200, 404),
        path_params=_request_id,
        body=lambda w: {"status": "in_progress"},
    ),
    Row("GET", "/api/v1/staff/requests/{request_id}/photo", care(404, 404), path_params=_request_id),
    Row("GET", "/api/v1/staff/evaluation-tasks", care(200, 200)),
    Row("GET", "/api/v1/code-lists/follow-up-results", statuses(200)),
    # Relatives and volunteers: only with a grant in force, only the granted scopes.
    Row(
        "POST",
        "/api/v1/relative/invitations/accept",
        relatives(201, 201),
        path_params=invitation_code,
        body=lambda w: {"code": w._invitation_code},
    ),
    Row("GET", "/api/v1/relative/citizens", relatives(200, 200)),
    Row("GET", "/api/v1/relative/citizens/{citizen_id}/progress", relatives(200, 404), path_params=_citizen_id),
    Row(
        "POST",
        "/api/v1/relative/citizens/{citizen_id}/encouragements",
        relatives(201, 404),
        path_params=_citizen_id,
        body=lambda w: {"text": "Godt gået!"},
    ),
    Row(
        "GET",
        "/api/v1/relative/citizens/{citizen_id}/encouragements",
        relatives(200, 404),
        path_params=_citizen_id,
    ),
]
