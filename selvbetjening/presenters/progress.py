"""Progress as the API shows it: a citizen's adherence and goal trends, a caseload's rows and training
alerts (from what the selectors computed; nothing here queries)."""

from fractions import Fraction
from typing import Any

from backend.models import Citizen
from selvbetjening.models import Episode, Goal, TrainingAlert
from selvbetjening.selectors import adherence as adherence_reads
from selvbetjening.selectors import caseload as caseload_reads
from selvbetjening.selectors.episodes import current_contacts, episode_gas
from selvbetjening.texts import label, pick

ALERT_KIND_NAMES: dict[str, tuple[str, str]] = {
    TrainingAlert.Kind.PAIN_STOP: ("Smerte på stopniveau", "Pain at the stop level"),
    TrainingAlert.Kind.MISSED_TRAINING: ("Træning ikke gennemført flere gange i træk", "Training missed in a row"),
}
ALERT_STATUS_NAMES: dict[str, tuple[str, str]] = {
    TrainingAlert.Status.OPEN: ("Åben", "Open"),
    TrainingAlert.Status.ACKNOWLEDGED: ("Set", "Acknowledged"),
    TrainingAlert.Status.RESOLVED: ("Afsluttet", "Resolved"),
}


def _figures(figures: adherence_reads.Figures) -> dict[str, Any]:
    return {
        "slots_due": figures.scheduled,
        "slots_filled": figures.filled,
        "slots_missed": figures.missed,
        "slots_upcoming": figures.upcoming,
        "adherence": figures.adherence,
        "sessions": figures.session_count,
        "ad_hoc_sessions": figures.ad_hoc_sessions,
        "pain_before_mean": figures.pain_before_mean,
        "pain_after_mean": figures.pain_after_mean,
        "effort_mean": figures.effort_mean,
    }


def _goal(goal: Goal) -> dict[str, Any]:
    return {
        "goal_id": goal.pk,
        "episode_id": goal.episode_id,
        "description": goal.description,
        "rank": goal.rank,
        "lifecycle_status": goal.lifecycle_status,
        "baseline_gas": goal.baseline_gas,
        "baseline_level": goal.baseline_level,
        "target_level": goal.target_level,
        "ratings": goal.window_ratings,  # type: ignore[attr-defined]
    }


def _mean(value: Fraction | None) -> float | None:
    return None if value is None else round(float(value), 2)


def progress_out(citizen: Citizen, figures: adherence_reads.Adherence, goals: list[Goal]) -> dict[str, Any]:
    return {
        "citizen_id": citizen.pk,
        "name": citizen.full_name,
        "time_zone": citizen.time_zone,
        "from_date": figures.window.start,
        "to_date": figures.window.end,
        "summary": _figures(figures.total) | {"streak_slots": figures.streak_slots, "streak_days": figures.streak_days},
        "days": [_figures(day) | {"date": day.day, "session_values": day.sessions} for day in figures.days],
        "weeks": [
            _figures(week)
            | {
                "iso_year": week.iso_year,
                "iso_week": week.iso_week,
                "first_day": week.first_day,
                "last_day": week.last_day,
            }
            for week in figures.weeks
        ],
        "goals": [_goal(goal) for goal in goals],
    }


def caseload_item_out(row: caseload_reads.CaseloadRow) -> dict[str, Any]:
    return {
        "citizen_id": row.citizen.pk,
        "name": row.citizen.full_name,
        "status": row.light,
        "status_reasons": row.reasons,
        "adherence": row.adherence,
        "slots_due": row.slots_due,
        "slots_filled": row.slots_filled,
        "pain_trend": row.pain_trend,
        "pain_mean_recent": _mean(row.pain_recent),
        "pain_mean_previous": _mean(row.pain_previous),
        "last_activity_at": row.last_activity,
        "open_alerts": row.open_alerts,
        "questionnaires_overdue": row.questionnaires_overdue,
        "requests_overdue": row.requests_overdue,
        "episode_ends_on": row.episode_ends_on,
    }


def alert_out(alert: TrainingAlert) -> dict[str, Any]:
    exercise = alert.exercise
    contact = alert.contact_person
    return {
        "id": alert.pk,
        "citizen_id": alert.citizen_id,
        "citizen_name": alert.citizen.full_name,
        "episode_id": alert.episode_id,
        "team_id": alert.episode.team_id,
        "plan_id": alert.plan_id,
        "plan_title": alert.plan.title,
        "session_log_id": alert.session_log_id,
        "performed_at": alert.session_log.performed_at if alert.session_log else None,
        "missed_slots": alert.missed_slots,
        "exercise_id": alert.exercise_id,
        "exercise_title": pick(exercise.title_da, exercise.title_en) if exercise else None,
        "kind": alert.kind,
        "kind_name": pick(*ALERT_KIND_NAMES.get(alert.kind, (alert.kind, alert.kind))),
        "pain": alert.pain,
        "status": alert.status,
        "status_name": pick(*ALERT_STATUS_NAMES[alert.status]),
        "contact_person_name": contact.user.display_name if contact else None,
        "created_at": alert.created_at,
        "acknowledged_at": alert.acknowledged_at,
        "acknowledged_by_name": alert.acknowledged_by.display_name if alert.acknowledged_by else None,
        "resolved_at": alert.resolved_at,
        "resolved_by_name": alert.resolved_by.display_name if alert.resolved_by else None,
        "resolution_note": alert.resolution_note,
    }


def relative_progress(citizen: Citizen, episodes: list[Episode]) -> dict[str, Any]:
    """What a relative with the view-progress scope sees of ``episodes``
    (``selectors.progress.progress_episodes_for_relative``): courses, whom to contact and the goals."""
    result = []
    for episode in episodes:
        contact_person, stand_in = current_contacts(episode)
        contact = stand_in or contact_person
        result.append(
            {
                "id": episode.id,
                "kind_name": label(type(episode).Kind, episode.kind),
                "title": episode.title,
                "status": episode.status,
                "start_date": episode.start_date,
                "planned_end_date": episode.planned_end_date,
                "contact_name": contact.staff.user.display_name if contact else None,
                "gas_t_score": episode_gas(episode)[0],
                "goals": episode.shown_goals,  # type: ignore[attr-defined]
            }
        )
    return {"citizen_id": citizen.pk, "given_name": citizen.given_name, "episodes": result}
