"""The baseline: one hand-written SQL statement computing a page of the caseload, figures and traffic light
included, for SQLite and PostgreSQL alike (placeholders written ``%(name)s``; SQLite's ``:name`` is made
from them).

It answers what ``GET /api/v1/teams/{team_id}/caseload`` answers for one page, from the same rules
(``selvbetjening.selectors.caseload``'s thresholds are passed in as parameters), so that the harness can
check both give the same page before it times them.
"""

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

# One statement: the members, one grouped pass over each table restricted to them, the light, the page.
CASELOAD_SQL = """
WITH members AS (
    SELECT c.id, c.given_name, c.family_name
    FROM backend_citizen c
    WHERE c.id IN (
            SELECT p.citizen_id FROM selvbetjening_trainingplan p
            JOIN selvbetjening_episode e ON e.id = p.episode_id
            WHERE p.status = 'active' AND e.team_id = %(team_id)s AND e.status NOT IN ('completed', 'cancelled'))
      AND c.id IN (
            SELECT r.citizen_id FROM backend_carerelation r
            WHERE r.team_id = %(team_id)s AND r.valid_from <= %(today)s
              AND (r.valid_to IS NULL OR r.valid_to >= %(today)s))
),
slot_figures AS (
    SELECT s.citizen_id,
           SUM(CASE WHEN s.status IN ('done', 'missed') OR (s.status = 'pending' AND s.due_until < %(now)s)
                    THEN 1 ELSE 0 END) AS slots_due,
           SUM(CASE WHEN s.status = 'done' THEN 1 ELSE 0 END) AS slots_filled
    FROM selvbetjening_trainingslot s
    WHERE s.citizen_id IN (SELECT id FROM members)
      AND s.local_date >= %(adherence_from)s AND s.local_date <= %(today)s
    GROUP BY s.citizen_id
),
pain_figures AS (
    SELECT l.citizen_id,
           SUM(CASE WHEN l.performed_at > %(recent_after)s THEN COALESCE(l.pain_after, l.pain_before) END)
               AS recent_sum,
           COUNT(CASE WHEN l.performed_at > %(recent_after)s THEN COALESCE(l.pain_after, l.pain_before) END)
               AS recent_count,
           SUM(CASE WHEN l.performed_at <= %(recent_after)s THEN COALESCE(l.pain_after, l.pain_before) END)
               AS previous_sum,
           COUNT(CASE WHEN l.performed_at <= %(recent_after)s THEN COALESCE(l.pain_after, l.pain_before) END)
               AS previous_count
    FROM selvbetjening_sessionlog l
    WHERE l.citizen_id IN (SELECT id FROM members) AND l.performed_at > %(previous_after)s
    GROUP BY l.citizen_id
),
alert_figures AS (
    SELECT a.citizen_id, COUNT(*) AS open_alerts,
           SUM(CASE WHEN a.kind = 'pain_stop' THEN 1 ELSE 0 END) AS pain_alerts
    FROM selvbetjening_trainingalert a
    WHERE a.citizen_id IN (SELECT id FROM members) AND a.status IN ('open', 'acknowledged')
    GROUP BY a.citizen_id
),
figures AS (
    SELECT m.id, m.given_name, m.family_name,
           COALESCE(sf.slots_due, 0) AS slots_due,
           COALESCE(sf.slots_filled, 0) AS slots_filled,
           COALESCE(pf.recent_sum, 0) AS recent_sum, COALESCE(pf.recent_count, 0) AS recent_count,
           COALESCE(pf.previous_sum, 0) AS previous_sum, COALESCE(pf.previous_count, 0) AS previous_count,
           (SELECT MAX(l.performed_at) FROM selvbetjening_sessionlog l WHERE l.citizen_id = m.id) AS last_activity,
           COALESCE(af.open_alerts, 0) AS open_alerts,
           COALESCE(af.pain_alerts, 0) AS pain_alerts
    FROM members m
    LEFT JOIN slot_figures sf ON sf.citizen_id = m.id
    LEFT JOIN pain_figures pf ON pf.citizen_id = m.id
    LEFT JOIN alert_figures af ON af.citizen_id = m.id
),
judged AS (
    SELECT f.*,
           CASE WHEN f.slots_due > 0 THEN CAST(f.slots_filled AS DOUBLE PRECISION) / f.slots_due END AS adherence,
           CASE
               WHEN f.recent_count = 0 OR f.previous_count = 0 THEN 'unknown'
               WHEN f.recent_sum * f.previous_count - f.previous_sum * f.recent_count
                    >= %(pain_change)s * f.recent_count * f.previous_count THEN 'rising'
               WHEN f.previous_sum * f.recent_count - f.recent_sum * f.previous_count
                    >= %(pain_change)s * f.recent_count * f.previous_count THEN 'falling'
               ELSE 'stable'
           END AS pain_trend
    FROM figures f
),
lit AS (
    SELECT j.*,
           CASE
               WHEN j.pain_alerts > 0
                    OR (j.slots_due >= %(red_min_due)s AND j.slots_filled * 100 < j.slots_due * %(red_percent)s)
                   THEN 0
               WHEN j.slots_filled * 100 < j.slots_due * %(yellow_percent)s OR j.pain_trend = 'rising'
                    OR j.last_activity IS NULL OR j.last_activity < %(inactive_before)s
                   THEN 1
               ELSE 2
           END AS light
    FROM judged j
)
SELECT id, given_name, family_name, light, adherence, slots_due, slots_filled, pain_trend,
       recent_sum, recent_count, previous_sum, previous_count, last_activity, open_alerts
FROM lit
ORDER BY light, family_name, given_name, id
LIMIT %(limit)s OFFSET %(offset)s
"""


RULE_NAMES = (
    "ADHERENCE_WINDOW_DAYS",
    "PAIN_WINDOW_DAYS",
    "INACTIVE_AFTER_DAYS",
    "RED_ADHERENCE_BELOW_PERCENT",
    "RED_MIN_DUE_SLOTS",
    "YELLOW_ADHERENCE_BELOW_PERCENT",
    "PAIN_TREND_MIN_CHANGE",
)


def rules() -> dict[str, int]:
    """The caseload's thresholds as ``selvbetjening.selectors.caseload`` defines them (needs Django set up;
    the seed step writes them for the harness, which runs without it)."""
    from selvbetjening.selectors import caseload

    return {name: getattr(caseload, name) for name in RULE_NAMES}


def parameters(
    *, rules: dict[str, int], team_id: str, now: datetime, today: date, limit: int, offset: int = 0, sqlite: bool
) -> dict[str, Any]:
    """The statement's parameters at ``now``, in the form the database stores them: SQLite keeps UUIDs as
    32 hex digits and times as UTC text, as Django writes them."""
    instants = {
        "now": now,
        "recent_after": now - timedelta(days=rules["PAIN_WINDOW_DAYS"]),
        "previous_after": now - timedelta(days=2 * rules["PAIN_WINDOW_DAYS"]),
        "inactive_before": now - timedelta(days=rules["INACTIVE_AFTER_DAYS"]),
    }
    adherence_from = today - timedelta(days=rules["ADHERENCE_WINDOW_DAYS"] - 1)
    values: dict[str, Any] = {
        "team_id": UUID(team_id).hex if sqlite else UUID(team_id),
        "today": today.isoformat() if sqlite else today,
        "adherence_from": adherence_from.isoformat() if sqlite else adherence_from,
        "pain_change": rules["PAIN_TREND_MIN_CHANGE"],
        "red_min_due": rules["RED_MIN_DUE_SLOTS"],
        "red_percent": rules["RED_ADHERENCE_BELOW_PERCENT"],
        "yellow_percent": rules["YELLOW_ADHERENCE_BELOW_PERCENT"],
        "limit": limit,
        "offset": offset,
    }
    for name, instant in instants.items():
        values[name] = str(instant.astimezone(UTC).replace(tzinfo=None)) if sqlite else instant
    return values


def sqlite_statement() -> str:
    return re.sub(r"%\((\w+)\)s", r":\1", CASELOAD_SQL)
