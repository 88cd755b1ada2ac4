"""Session logs as the API shows them (loaded by ``selectors.sessions.with_session_log_shape``; nothing here
queries)."""

from typing import Any

from selvbetjening.models import SessionLog
from selvbetjening.rules.dosage import dosage_out


def session_log(log: SessionLog) -> dict[str, Any]:
    """The response shape of a log loaded by ``with_session_log_shape``; no queries."""
    slot = log.slot
    return {
        "id": log.pk,
        "version": log.version,
        "training_plan_id": log.plan_id,
        "plan_version_id": log.plan_version_id,
        "plan_version_number": log.plan_version.number,
        "slot_id": log.slot_id,
        "is_ad_hoc": slot is None,
        "is_late": slot is not None and log.performed_at > slot.due_until,
        "performed_at": log.performed_at,
        "pain_before": log.pain_before,
        "pain_after": log.pain_after,
        "effort": log.effort,
        "note": log.note,
        "logged_by_role": log.logged_by_role,
        "logged_by_name": log.logged_by_name,
        "created_at": log.created_at,
        "updated_at": log.updated_at,
        "exercises": [
            {
                "exercise_id": item.exercise_id,
                "plan_exercise_id": item.plan_exercise_id,
                **dosage_out(item),
                "is_completed": item.is_completed,
            }
            for item in log.exercises.all()
        ],
    }
