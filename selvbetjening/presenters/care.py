"""Response data from models already loaded with the query shape the selectors give them.

Nothing here queries the database; everything here formats (language, derived values).
"""

from typing import Any

from django.utils import timezone

from backend.access import grant_in_force, grant_scopes
from backend.timeutil import municipal_today
from selvbetjening.models import (
    FSIII_CODE_SYSTEM,
    CitizenRequest,
    Episode,
    EpisodeContact,
    FollowUpResult,
    Goal,
    NetworkGrant,
    NetworkInvitation,
    QuestionnaireAssignment,
)
from selvbetjening.rules import requests as request_rules
from selvbetjening.selectors.episodes import current_contacts, episode_gas
from selvbetjening.texts import label, pick


def contact(entry: EpisodeContact | None) -> dict[str, Any] | None:
    if entry is None:
        return None
    return {
        "staff_id": entry.staff_id,
        "name": entry.staff.user.display_name,
        "title": entry.staff.title,
        "role": entry.role,
        "role_name": label(EpisodeContact.Role, entry.role),
        "started_at": entry.started_at,
        "ended_at": entry.ended_at,
        "until": entry.until,
        "reason": entry.reason,
    }


def follow_up_result(result: FollowUpResult) -> dict[str, Any]:
    return {
        "code": result.code,
        "display": pick(result.display_da, result.display_en),
        "fhir_achievement_status": result.fhir_achievement_status,
    }


def episode(item: Episode) -> dict[str, Any]:
    contact_person, stand_in = current_contacts(item)
    gas_now, gas_baseline = episode_gas(item)
    running = item.status in (Episode.Status.PLANNED, Episode.Status.ACTIVE, Episode.Status.ON_HOLD)
    return {
        "id": item.id,
        "version": item.version,
        "citizen_id": item.citizen_id,
        "citizen_name": item.citizen.full_name,
        "team_id": item.team_id,
        "team_name": item.team.name,
        "kind": item.kind,
        "kind_name": label(Episode.Kind, item.kind),
        "title": item.title,
        "start_date": item.start_date,
        "planned_end_date": item.planned_end_date,
        "ended_on": item.ended_on,
        "days_left": (item.planned_end_date - municipal_today()).days if running else None,
        "status": item.status,
        "status_name": label(Episode.Status, item.status),
        "contact_person": contact(contact_person),
        "stand_in": contact(stand_in),
        "contact_now": contact(stand_in or contact_person),
        "response_working_days": item.response_working_days,
        "follow_up_result": (
            {
                "code": item.follow_up_result.code,
                "display": follow_up_result(item.follow_up_result)["display"],
            }
            if item.follow_up_result
            else None
        ),
        "follow_up_note": item.follow_up_note,
        "gas_t_score": round(gas_now, 2) if gas_now is not None else None,
        "gas_t_score_baseline": round(gas_baseline, 2) if gas_baseline is not None else None,
    }


def episode_page(items: list[Episode], next_cursor: str | None) -> dict[str, Any]:
    return {"items": [episode(item) for item in items], "next_cursor": next_cursor}


def episode_detail(item: Episode, history: dict[str, Any]) -> dict[str, Any]:
    return {
        **episode(item),
        "contact_history": [contact(entry) for entry in history["contacts"]],
        "status_history": history["status_changes"],
    }


def goal(item: Goal) -> dict[str, Any]:
    return {
        **{
            name: getattr(item, name)
            for name in (
                "id",
                "version",
                "episode_id",
                "description",
                "rank",
                "area",
                "direction",
                "baseline_level",
                "target_level",
                "baseline_gas",
                "gas_weight",
                "copm_importance",
                "due_date",
                "expressed_by",
                "lifecycle_status",
                "achievement_status",
            )
        },
        "area_name": label(Goal.Area, item.area),
        "condition": {
            "system": FSIII_CODE_SYSTEM,
            "code": str(item.condition_code),
            "display": item.condition_display,
        },
        "gas_outcomes": {
            "-2": item.gas_minus_2,
            "-1": item.gas_minus_1,
            "0": item.gas_0,
            "1": item.gas_plus_1,
            "2": item.gas_plus_2,
        },
        "latest_gas": getattr(item, "latest_gas", None),
        "latest_function_level": getattr(item, "latest_function_level", None),
        "latest_rated_on": getattr(item, "latest_rated_on", None),
    }


def _localised(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"da", "en"}:
        return pick(value["da"], value["en"])
    if isinstance(value, dict):
        return {key: _localised(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_localised(inner) for inner in value]
    return value


def assignment(item: QuestionnaireAssignment) -> dict[str, Any]:
    questionnaire = item.version.questionnaire
    response = getattr(item, "response", None) if item.status == QuestionnaireAssignment.Status.ANSWERED else None
    return {
        "id": item.id,
        "citizen_id": item.citizen_id,
        "episode_id": item.episode_id,
        "questionnaire_key": questionnaire.key,
        "title": pick(questionnaire.title_da, questionnaire.title_en),
        "version": item.version.number,
        "occasion": item.occasion,
        "occasion_name": label(QuestionnaireAssignment.Occasion, item.occasion),
        "due_on": item.due_on,
        "status": item.status,
        "answered_at": response.submitted_at if response else None,
        "score": response.score if response else None,
    }


def assignment_detail(item: QuestionnaireAssignment) -> dict[str, Any]:
    response = getattr(item, "response", None) if item.status == QuestionnaireAssignment.Status.ANSWERED else None
    return {
        **assignment(item),
        "items": _localised(item.version.items),
        "answers": response.answers if response else None,
    }


def questionnaire_version(version: Any) -> dict[str, Any]:
    questionnaire = version.questionnaire
    return {
        "key": questionnaire.key,
        "title": pick(questionnaire.title_da, questionnaire.title_en),
        "version": version.number,
        "schedule_with_episodes": questionnaire.schedule_with_episodes,
        "items": _localised(version.items),
        "scoring": version.scoring,
    }


def request(item: CitizenRequest) -> dict[str, Any]:
    return {
        **{
            name: getattr(item, name)
            for name in (
                "id",
                "version",
                "citizen_id",
                "episode_id",
                "team_id",
                "category",
                "text",
                "status",
                "respond_by",
                "created_by_role",
                "created_at",
                "answered_at",
                "closed_at",
            )
        },
        "citizen_name": item.citizen.full_name,
        "team_name": item.team.name,
        "category_name": label(CitizenRequest.Category, item.category),
        "status_name": label(CitizenRequest.Status, item.status),
        "is_overdue": request_rules.is_overdue(item, timezone.now()),
        "has_photo": bool(item.photo),
        "message_count": getattr(item, "message_count", 0),
    }


def request_detail(item: CitizenRequest, messages: list[Any]) -> dict[str, Any]:
    return {**request(item), "messages": messages}


def invitation(item: NetworkInvitation) -> dict[str, Any]:
    return {
        **{
            name: getattr(item, name)
            for name in (
                "id",
                "label",
                "kind",
                "grant_valid_until",
                "expires_at",
                "created_at",
                "accepted_at",
                "withdrawn_at",
            )
        },
        "scopes": grant_scopes(item),
    }


def grant(item: NetworkGrant) -> dict[str, Any]:
    return {
        "id": item.id,
        "relative_name": item.relative.user.display_name,
        "label": item.label,
        "scopes": grant_scopes(item),
        "valid_until": item.valid_until,
        "created_at": item.created_at,
        "revoked_at": item.revoked_at,
        "is_in_force": grant_in_force(item),
    }
