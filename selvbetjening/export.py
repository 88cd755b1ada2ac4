"""The citizen's self-service data in their export (GET /api/v1/me/export)."""

from typing import Any

from backend.models import Citizen
from backend.services.export import export_section
from selvbetjening.models import (
    FSIII_CODE_SYSTEM,
    CitizenRequest,
    Encouragement,
    Episode,
    Goal,
    NetworkGrant,
    NetworkInvitation,
    QuestionnaireAssignment,
)


@export_section("self_service")
def self_service_export(citizen: Citizen) -> dict[str, Any]:
    episodes = (
        Episode.objects.filter(citizen=citizen)
        .select_related("team", "follow_up_result")
        .prefetch_related("contacts__staff__user", "status_changes")
    )
    goals = Goal.objects.filter(episode__citizen=citizen).prefetch_related("ratings")
    assignments = QuestionnaireAssignment.objects.filter(citizen=citizen).select_related(
        "version__questionnaire", "response"
    )
    requests = CitizenRequest.objects.filter(citizen=citizen).select_related("team").prefetch_related("messages")
    return {
        "episodes": [
            {
                "id": episode.id,
                "kind": episode.kind,
                "title": episode.title,
                "team": episode.team.name,
                "status": episode.status,
                "start_date": episode.start_date,
                "planned_end_date": episode.planned_end_date,
                "ended_on": episode.ended_on,
                "response_working_days": episode.response_working_days,
                "follow_up_result": episode.follow_up_result_id,
                "follow_up_note": episode.follow_up_note,
                "contacts": [
                    {
                        "name": contact.staff.user.display_name,
                        "role": contact.role,
                        "started_at": contact.started_at,
                        "ended_at": contact.ended_at,
                        "until": contact.until,
                    }
                    for contact in episode.contacts.all()
                ],
                "status_history": [
                    {
                        "from": change.from_status,
                        "to": change.to_status,
                        "at": change.changed_at,
                        "note": change.note,
                    }
                    for change in episode.status_changes.all()
                ],
            }
            for episode in episodes
        ],
        "goals": [
            {
                "id": goal.id,
                "episode_id": goal.episode_id,
                "description": goal.description,
                "rank": goal.rank,
                "area": goal.area,
                "condition": {
                    "system": FSIII_CODE_SYSTEM,
                    "code": str(goal.condition_code),
                    "display": goal.condition_display,
                },
                "direction": goal.direction,
                "baseline_level": goal.baseline_level,
                "target_level": goal.target_level,
                "baseline_gas": goal.baseline_gas,
                "gas_weight": goal.gas_weight,
                "gas_outcomes": [
                    goal.gas_minus_2,
                    goal.gas_minus_1,
                    goal.gas_0,
                    goal.gas_plus_1,
                    goal.gas_plus_2,
                ],
                "copm_importance": goal.copm_importance,
                "due_date": goal.due_date,
                "expressed_by": goal.expressed_by,
                "lifecycle_status": goal.lifecycle_status,
                "achievement_status": goal.achievement_status,
                "ratings": [
                    {
                        "rated_on": rating.rated_on,
                        "rater_role": rating.rater_role,
                        "rated_by": rating.rated_by_name,
                        "gas_score": rating.gas_score,
                        "function_level": rating.function_level,
                        "copm_performance": rating.copm_performance,
                        "copm_satisfaction": rating.copm_satisfaction,
                        "note": rating.note,
                    }
                    for rating in goal.ratings.all()
                ],
            }
            for goal in goals
        ],
        "questionnaires": [
            {
                "id": assignment.id,
                "questionnaire": assignment.version.questionnaire.key,
                "version": assignment.version.number,
                "occasion": assignment.occasion,
                "due_on": assignment.due_on,
                "status": assignment.status,
                "answers": getattr(assignment, "response", None) and assignment.response.answers,
                "score": getattr(assignment, "response", None) and assignment.response.score,
            }
            for assignment in assignments
        ],
        "requests": [
            {
                "id": request.id,
                "category": request.category,
                "text": request.text,
                "status": request.status,
                "team": request.team.name,
                "respond_by": request.respond_by,
                "created_at": request.created_at,
                "has_photo": bool(request.photo),
                "messages": [
                    {
                        "author": message.author_name,
                        "role": message.author_role,
                        "text": message.text,
                        "at": message.created_at,
                    }
                    for message in request.messages.all()
                ],
            }
            for request in requests
        ],
        "network": {
            "grants": [
                {
                    "relative": grant.relative.user.display_name,
                    "label": grant.label,
                    "scopes": grant.scopes,
                    "valid_until": grant.valid_until,
                    "created_at": grant.created_at,
                    "revoked_at": grant.revoked_at,
                }
                for grant in NetworkGrant.objects.filter(citizen=citizen).select_related("relative__user")
            ],
            "invitations": list(
                NetworkInvitation.objects.filter(citizen=citizen).values(
                    "label", "kind", "created_at", "expires_at", "accepted_at", "withdrawn_at"
                )
            ),
            "encouragements": list(
                Encouragement.objects.filter(citizen=citizen).values("author_name", "text", "created_at")
            ),
        },
    }
