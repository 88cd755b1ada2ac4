"""One hand-written SQL statement per standard indicator, computing for one unit and calendar year the figure
the indicator shows for that unit's cell: the number of citizens behind it and one measure. They follow the
definitions in ``effekt/indicators`` (latest rating by day then entry, sessions and answers in their order,
the same populations) and are the baseline the bench compares against: no suppression, no other cells,
no quarters, no logging."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

# With a condition filter: episodes with a goal for the condition (goals: the goal's own condition).
HAS_CONDITION = (
    " AND EXISTS (SELECT 1 FROM selvbetjening_goal c WHERE c.episode_id = {episode}"
    + " AND c.condition_code = %(condition)s)"
)


def _episodes(condition: bool) -> str:
    return f"""
ep AS (
    SELECT e.id, e.citizen_id, e.start_date, e.ended_on, e.planned_end_date, e.follow_up_result_id
    FROM selvbetjening_episode e JOIN backend_team t ON t.id = e.team_id
    WHERE t.unit_id = %(unit)s AND e.status = 'completed' AND e.ended_on >= %(start)s AND e.ended_on <= %(end)s
          {HAS_CONDITION.format(episode="e.id") if condition else ""}
)"""


def _latest(field: str) -> str:
    return (
        f"(SELECT r.{field} FROM selvbetjening_goalrating r WHERE r.goal_id = g.id AND r.{field} IS NOT NULL "
        "ORDER BY r.rated_on DESC, r.created_at DESC LIMIT 1)"
    )


def _goals(condition: bool) -> str:
    return f"""
gl AS (
    SELECT g.id, g.episode_id, ep.citizen_id, g.condition_code, g.baseline_level,
           {_latest("gas_score")} AS gas, {_latest("function_level")} AS level
    FROM selvbetjening_goal g JOIN ep ON ep.id = g.episode_id
    WHERE g.lifecycle_status IN ('active', 'completed') {"AND g.condition_code = %(condition)s" if condition else ""}
)"""


def _days(vendor: str, later: str, earlier: str) -> str:
    return f"(julianday({later}) - julianday({earlier}))" if vendor == "sqlite" else f"({later} - {earlier})"


def _session(field: str, order: str) -> str:
    return (
        f"(SELECT s.{field} FROM selvbetjening_sessionlog s JOIN selvbetjening_trainingplan p ON p.id = s.plan_id "
        f"WHERE p.episode_id = ep.id AND s.{field} IS NOT NULL ORDER BY s.performed_at {order}, s.id {order} LIMIT 1)"
    )


def _session_count(field: str) -> str:
    return (
        "(SELECT COUNT(*) FROM selvbetjening_sessionlog s JOIN selvbetjening_trainingplan p ON p.id = s.plan_id "
        f"WHERE p.episode_id = ep.id AND s.{field} IS NOT NULL)"
    )


def statements(vendor: str, *, condition: bool = False) -> dict[str, str]:
    """The statements; with ``condition`` for the population with the condition filter (``%(condition)s``)."""
    episodes, goals = _episodes(condition), _goals(condition)
    has = (lambda episode: HAS_CONDITION.format(episode=episode)) if condition else (lambda episode: "")
    greatest = "MAX" if vendor == "sqlite" else "GREATEST"
    local_day = "date(e.created_at)" if vendor == "sqlite" else "(e.created_at AT TIME ZONE 'Europe/Copenhagen')::date"
    return {
        "goal_attainment": f"""
            WITH {episodes}, {goals}
            SELECT COUNT(DISTINCT citizen_id),
                   AVG(CASE WHEN gas IS NULL THEN NULL WHEN gas >= 0 THEN 1.0 ELSE 0.0 END)
            FROM gl""",
        "function_change": f"""
            WITH {episodes}, {goals}
            SELECT COUNT(DISTINCT citizen_id), AVG(1.0 * (baseline_level - level)) FROM gl""",
        "follow_up_results": f"""
            WITH {episodes}
            SELECT COUNT(DISTINCT citizen_id),
                   1.0 * SUM(CASE WHEN follow_up_result_id = 'E1' THEN 1 ELSE 0 END) / COUNT(*)
            FROM ep""",
        "episode_length": f"""
            WITH {episodes}
            SELECT COUNT(DISTINCT citizen_id), AVG({_days(vendor, "ended_on", "start_date")}) FROM ep""",
        "referral_to_start": f"""
            SELECT COUNT(DISTINCT e.citizen_id),
                   AVG({greatest}(0, {_days(vendor, "e.start_date", local_day)}))
            FROM selvbetjening_episode e JOIN backend_team t ON t.id = e.team_id
            WHERE t.unit_id = %(unit)s AND e.status <> 'cancelled'
              AND e.start_date >= %(start)s AND e.start_date <= %(end)s {has("e.id")}""",
        "adherence": f"""
            WITH {episodes},
            per AS (
                SELECT ep.id, ep.citizen_id,
                       SUM(CASE WHEN sl.status = 'done' THEN 1 ELSE 0 END) AS done,
                       SUM(CASE WHEN sl.status IN ('done', 'missed') THEN 1 ELSE 0 END) AS due
                FROM ep JOIN selvbetjening_trainingplan p ON p.episode_id = ep.id
                        JOIN selvbetjening_trainingslot sl ON sl.plan_id = p.id
                GROUP BY ep.id, ep.citizen_id
            )
            SELECT COUNT(DISTINCT citizen_id), AVG(1.0 * done / due) FROM per WHERE due > 0""",
        "pain_and_effort": f"""
            WITH {episodes},
            per AS (
                SELECT ep.citizen_id,
                       {_session("pain_before", "DESC")} - {_session("pain_before", "ASC")} AS change,
                       {_session_count("pain_before")} AS pain_n, {_session_count("effort")} AS effort_n
                FROM ep
            )
            SELECT COUNT(DISTINCT citizen_id), AVG(CASE WHEN pain_n >= 2 THEN 1.0 * change END)
            FROM per WHERE pain_n >= 2 OR effort_n >= 2""",
        "questionnaire_change": f"""
            WITH {episodes},
            answers AS (
                SELECT a.episode_id, ep.citizen_id, v.questionnaire_id, qr.score, qr.submitted_at, qr.id
                FROM selvbetjening_questionnaireresponse qr
                JOIN selvbetjening_questionnaireassignment a ON a.id = qr.assignment_id
                JOIN selvbetjening_questionnaireversion v ON v.id = qr.version_id
                JOIN ep ON ep.id = a.episode_id
                WHERE qr.score IS NOT NULL
            ),
            ranked AS (
                SELECT episode_id, citizen_id, questionnaire_id, score,
                       ROW_NUMBER() OVER (PARTITION BY episode_id, questionnaire_id ORDER BY submitted_at, id) AS first,
                       ROW_NUMBER() OVER (PARTITION BY episode_id, questionnaire_id
                                          ORDER BY submitted_at DESC, id DESC) AS last,
                       COUNT(*) OVER (PARTITION BY episode_id, questionnaire_id) AS n
                FROM answers
            ),
            pairs AS (
                SELECT citizen_id,
                       SUM(CASE WHEN last = 1 THEN score ELSE 0 END) - SUM(CASE WHEN first = 1 THEN score ELSE 0 END)
                           AS change
                FROM ranked WHERE n >= 2 GROUP BY episode_id, questionnaire_id, citizen_id
            )
            SELECT COUNT(DISTINCT citizen_id), AVG(1.0 * change) FROM pairs""",
        "request_response": f"""
            SELECT COUNT(DISTINCT r.citizen_id),
                   AVG(CASE WHEN r.answered_at IS NOT NULL AND r.answered_at <= r.respond_by THEN 1.0 ELSE 0.0 END)
            FROM selvbetjening_citizenrequest r JOIN backend_team t ON t.id = r.team_id
            WHERE t.unit_id = %(unit)s AND r.created_at >= %(from_instant)s AND r.created_at < %(to_instant)s
              AND (r.answered_at IS NOT NULL OR r.respond_by < %(now)s) {has("r.episode_id")}""",
        "device_effect": f"""
            WITH {episodes}, {goals},
            flagged AS (
                SELECT gl.*, CASE WHEN EXISTS (
                    SELECT 1 FROM velfaerdsteknologi_assignment a
                    WHERE a.episode_id = gl.episode_id AND a.installed_at IS NOT NULL
                ) THEN 1 ELSE 0 END AS has_device
                FROM gl
            ),
            comparable AS (
                SELECT condition_code, baseline_level FROM flagged
                GROUP BY condition_code, baseline_level HAVING MIN(has_device) = 0 AND MAX(has_device) = 1
            )
            SELECT COUNT(DISTINCT f.citizen_id),
                   AVG(CASE WHEN f.gas IS NULL THEN NULL WHEN f.gas >= 0 THEN 1.0 ELSE 0.0 END)
            FROM flagged f JOIN comparable c
              ON c.condition_code = f.condition_code AND c.baseline_level = f.baseline_level
            WHERE f.has_device = 1""",
    }


@dataclass(frozen=True)
class Figure:
    """Where the indicator's result holds the figure the statement computes, and to how many decimals the
    indicator gives it: its measures to 2, a group's share of its cell to 4."""

    label: str
    read: Callable[[Any], tuple[int | None, float | None]]
    places: int = 2

    def compared(self, result: Any, row: tuple) -> tuple[tuple[int | None, float | None], tuple[Any, float | None]]:
        """The indicator's figure (citizens and value) and the statement's, both to the figure's decimals:
        the statement's exact value rounded once, as the indicator rounds its own. (Rounding the
        indicator's already rounded share again, to 2, would turn 0.36502, given as 0.365, into 0.36 where
        the statement's 0.36502 is 0.37.)"""
        citizens, value = self.read(result)
        shown = (citizens, None if value is None else round(float(value), self.places))
        return shown, (row[0], None if row[1] is None else round(float(row[1]), self.places))


def _total(measure: str) -> Callable[[Any], tuple[int | None, float | None]]:
    return lambda result: (result.total.citizens, (result.total.values or {}).get(measure))


def _group(group: str, measure: str | None) -> Callable[[Any], tuple[int | None, float | None]]:
    def read(result: Any) -> tuple[int | None, float | None]:
        cell = next(cell for cell in result.total.groups if cell.group == group)
        if measure is None:
            return result.total.citizens, cell.share
        return cell.citizens, (cell.values or {}).get(measure)

    return read


FIGURES: dict[str, Figure] = {
    "goal_attainment": Figure("share of goals at GAS ≥ 0", _total("share_goals_at_expected")),
    "function_change": Figure("mean FSIII improvement", _total("mean_function_improvement")),
    "follow_up_results": Figure("share of episodes ending E1", _group("E1", None), places=4),
    "episode_length": Figure("mean actual length (days)", _total("mean_actual_days")),
    "referral_to_start": Figure("mean days referral → start", _total("mean_days")),
    "adherence": Figure("mean adherence", _total("mean_adherence")),
    "pain_and_effort": Figure("mean pain change", _total("mean_pain_change")),
    "questionnaire_change": Figure("mean score change", _total("mean_score_change")),
    "request_response": Figure("share answered on time", _total("share_on_time")),
    "device_effect": Figure("with device: share at GAS ≥ 0", _group("with_device", "share_goals_at_expected")),
}


def parameters(
    connection: Any, unit: Any, year: int, instants: tuple[datetime, datetime], now: datetime, condition: Any = None
) -> dict:
    ops = connection.ops
    return {
        "condition": condition if connection.vendor == "postgresql" or condition is None else condition.hex,
        "unit": unit if connection.vendor == "postgresql" else unit.hex,
        "start": ops.adapt_datefield_value(date(year, 1, 1)),
        "end": ops.adapt_datefield_value(date(year, 12, 31)),
        "from_instant": ops.adapt_datetimefield_value(instants[0]),
        "to_instant": ops.adapt_datetimefield_value(instants[1]),
        "now": ops.adapt_datetimefield_value(now),
    }
