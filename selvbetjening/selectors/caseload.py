"""A team's training caseload and the training alerts staff triage.

The caseload is every citizen with an active training plan in one of the team's running episodes and
an active care relation to the team, each with the figures a therapist triages by and a traffic light.
Sorting by a figure (the light above all) needs the figures of the whole team before a page can be
cut, so one statement computes them for the team and returns the page: the members once, then one
grouped pass over each of the members' slots, session logs and alerts, the light, the order and the
page, in SQL that SQLite and PostgreSQL both run. (Done with the ORM as one grouped query per table
and the light, sorting and paging in Python, the same page cost 2.2 times as much: see the caseload
section of bench/README.md.)
"""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import Any, Literal
from uuid import UUID

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from backend.access import access_care_team
from backend.access.declaration import declared
from backend.access.rules import Moments as AccessMoments
from backend.actors import Actor
from backend.audit import read_logged
from backend.errors import Forbidden, InvalidInput, NotFound
from backend.models import CareRelation, Citizen, Team
from backend.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from backend.timeutil import municipal_today
from selvbetjening.models import Episode, SessionLog, TrainingAlert, TrainingPlan, TrainingSlot
from selvbetjening.selectors.episodes import episodes_visible_to

# --- The traffic light's thresholds (described in selvbetjening/schemas/progress.py) --------------

ADHERENCE_WINDOW_DAYS = 14
PAIN_WINDOW_DAYS = 7
INACTIVE_AFTER_DAYS = 7
RED_ADHERENCE_BELOW_PERCENT = 50
RED_MIN_DUE_SLOTS = 3
YELLOW_ADHERENCE_BELOW_PERCENT = 80
PAIN_TREND_MIN_CHANGE = 1

UNRESOLVED_ALERT = (TrainingAlert.Status.OPEN, TrainingAlert.Status.ACKNOWLEDGED)

Light = Literal["red", "yellow", "green"]
PainTrend = Literal["rising", "falling", "stable", "unknown"]
LIGHTS: tuple[Light, ...] = ("red", "yellow", "green")
SortKey = Literal["status", "-status", "adherence", "-adherence", "last_activity", "-last_activity", "name", "-name"]

# Why a light is not green, as flag columns of the statement, in the order the rules read.
REASONS = ("pain_alert", "adherence_below_red", "adherence_below_yellow", "pain_rising", "no_recent_activity")

_BY_NAME = "family_name, given_name, id"
ORDER_BY: dict[str, str] = {
    "status": f"light, {_BY_NAME}",
    "-status": f"light DESC, {_BY_NAME}",
    "adherence": f"adherence ASC NULLS LAST, {_BY_NAME}",
    "-adherence": f"adherence DESC NULLS LAST, {_BY_NAME}",
    "last_activity": f"last_activity ASC NULLS FIRST, {_BY_NAME}",
    "-last_activity": f"last_activity DESC NULLS LAST, {_BY_NAME}",
    "name": _BY_NAME,
    "-name": "family_name DESC, given_name DESC, id DESC",
}


# --- The statement ------------------------------------------------------------------------------

_TABLES = {
    "citizen": Citizen._meta.db_table,
    "care_relation": CareRelation._meta.db_table,
    "plan": TrainingPlan._meta.db_table,
    "episode": Episode._meta.db_table,
    "slot": TrainingSlot._meta.db_table,
    "session_log": SessionLog._meta.db_table,
    "alert": TrainingAlert._meta.db_table,
}

# Rows are picked only by columns of an index that starts with the citizen (slots: citizen and local
# date; logs: citizen and time; alerts: citizen and status) and what counts is decided inside the
# aggregates, so that even without planner statistics (SQLite) only the members' rows are read.
CASELOAD_SQL = """
WITH members AS (
    SELECT c.id, c.given_name, c.family_name,
           (SELECT MAX(l.performed_at) FROM {session_log} l WHERE l.citizen_id = c.id) AS last_activity
    FROM {citizen} c
    WHERE c.id IN (
            SELECT p.citizen_id FROM {plan} p JOIN {episode} e ON e.id = p.episode_id
            WHERE p.status = %(plan_active)s AND e.team_id = %(team)s
              AND e.status NOT IN (%(episode_completed)s, %(episode_cancelled)s))
      AND c.id IN (
            SELECT r.citizen_id FROM {care_relation} r
            WHERE r.team_id = %(team)s AND {care_relation_in_force})
),
slot_figures AS (
    SELECT s.citizen_id,
           COUNT(CASE WHEN s.status IN (%(slot_done)s, %(slot_missed)s)
                        OR (s.status = %(slot_pending)s AND s.due_until < %(now)s) THEN 1 END) AS slots_due,
           COUNT(CASE WHEN s.status = %(slot_done)s THEN 1 END) AS slots_filled
    FROM {slot} s
    WHERE s.citizen_id IN (SELECT id FROM members)
      AND s.local_date >= %(adherence_from)s AND s.local_date <= %(today)s
    GROUP BY s.citizen_id
),
pain_figures AS (
    SELECT l.citizen_id,
           SUM(CASE WHEN l.performed_at > %(recent_after)s THEN COALESCE(l.pain_after, l.pain_before) END)
               AS pain_recent_sum,
           COUNT(CASE WHEN l.performed_at > %(recent_after)s THEN COALESCE(l.pain_after, l.pain_before) END)
               AS pain_recent_count,
           SUM(CASE WHEN l.performed_at <= %(recent_after)s THEN COALESCE(l.pain_after, l.pain_before) END)
               AS pain_previous_sum,
           COUNT(CASE WHEN l.performed_at <= %(recent_after)s THEN COALESCE(l.pain_after, l.pain_before) END)
               AS pain_previous_count
    FROM {session_log} l
    WHERE l.citizen_id IN (SELECT id FROM members) AND l.performed_at > %(previous_after)s
    GROUP BY l.citizen_id
),
alert_figures AS (
    SELECT a.citizen_id, COUNT(*) AS open_alerts,
           COUNT(CASE WHEN a.kind = %(alert_pain)s THEN 1 END) AS pain_alerts
    FROM {alert} a
    WHERE a.citizen_id IN (SELECT id FROM members) AND a.status IN (%(alert_open)s, %(alert_acknowledged)s)
    GROUP BY a.citizen_id
),
figures AS (
    SELECT m.id, m.given_name, m.family_name, m.last_activity,
           COALESCE(sf.slots_due, 0) AS slots_due, COALESCE(sf.slots_filled, 0) AS slots_filled,
           COALESCE(pf.pain_recent_sum, 0) AS pain_recent_sum, COALESCE(pf.pain_recent_count, 0) AS pain_recent_count,
           COALESCE(pf.pain_previous_sum, 0) AS pain_previous_sum,
           COALESCE(pf.pain_previous_count, 0) AS pain_previous_count,
           COALESCE(af.open_alerts, 0) AS open_alerts, COALESCE(af.pain_alerts, 0) AS pain_alerts
    FROM members m
    LEFT JOIN slot_figures sf ON sf.citizen_id = m.id
    LEFT JOIN pain_figures pf ON pf.citizen_id = m.id
    LEFT JOIN alert_figures af ON af.citizen_id = m.id
),
trends AS (
    SELECT f.*,
           CASE WHEN f.slots_due > 0 THEN CAST(f.slots_filled AS DOUBLE PRECISION) / f.slots_due END AS adherence,
           -- mean recent - mean previous >= change, in integers: recent*m - previous*n >= change*n*m
           CASE
               WHEN f.pain_recent_count = 0 OR f.pain_previous_count = 0 THEN 'unknown'
               WHEN f.pain_recent_sum * f.pain_previous_count - f.pain_previous_sum * f.pain_recent_count
                    >= %(pain_change)s * f.pain_recent_count * f.pain_previous_count THEN 'rising'
               WHEN f.pain_previous_sum * f.pain_recent_count - f.pain_recent_sum * f.pain_previous_count
                    >= %(pain_change)s * f.pain_recent_count * f.pain_previous_count THEN 'falling'
               ELSE 'stable'
           END AS pain_trend
    FROM figures f
),
flags AS (
    SELECT t.*,
           CASE WHEN t.pain_alerts > 0 THEN 1 ELSE 0 END AS pain_alert,
           CASE WHEN t.slots_due >= %(red_min_due)s AND t.slots_filled * 100 < t.slots_due * %(red_percent)s
                THEN 1 ELSE 0 END AS adherence_below_red,
           CASE WHEN NOT (t.slots_due >= %(red_min_due)s AND t.slots_filled * 100 < t.slots_due * %(red_percent)s)
                     AND t.slots_filled * 100 < t.slots_due * %(yellow_percent)s
                THEN 1 ELSE 0 END AS adherence_below_yellow,
           CASE WHEN t.pain_trend = 'rising' THEN 1 ELSE 0 END AS pain_rising,
           CASE WHEN t.last_activity IS NULL OR t.last_activity < %(inactive_before)s THEN 1 ELSE 0 END
               AS no_recent_activity
    FROM trends t
),
lit AS (
    SELECT f.*,
           CASE
               WHEN f.pain_alert = 1 OR f.adherence_below_red = 1 THEN 0
               WHEN f.adherence_below_yellow = 1 OR f.pain_rising = 1 OR f.no_recent_activity = 1 THEN 1
               ELSE 2
           END AS light
    FROM flags f
)
SELECT * FROM lit ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s
"""


@dataclass(frozen=True)
class Moments:
    """The instant and local day a caseload is computed at, and the spans its figures cover."""

    now: datetime
    today: date

    @property
    def adherence_from(self) -> date:
        return self.today - timedelta(days=ADHERENCE_WINDOW_DAYS - 1)

    @property
    def pain_recent_after(self) -> datetime:
        return self.now - timedelta(days=PAIN_WINDOW_DAYS)

    @property
    def pain_previous_after(self) -> datetime:
        return self.now - timedelta(days=2 * PAIN_WINDOW_DAYS)

    @property
    def inactive_before(self) -> datetime:
        return self.now - timedelta(days=INACTIVE_AFTER_DAYS)


def _parameters(team: Team, moments: Moments, *, limit: int, offset: int) -> dict[str, Any]:
    """The statement's parameters, adapted as the database backend stores each kind of value."""
    operations = connection.ops
    slot, alert = TrainingSlot.Status, TrainingAlert.Status
    care_relation = declared().care_relation.sql_named_params(
        "care_relation", AccessMoments(now=moments.now, today=moments.today)
    )
    return {
        **care_relation,
        "team": Team._meta.pk.get_db_prep_value(team.pk, connection),
        "today": operations.adapt_datefield_value(moments.today),
        "adherence_from": operations.adapt_datefield_value(moments.adherence_from),
        "now": operations.adapt_datetimefield_value(moments.now),
        "recent_after": operations.adapt_datetimefield_value(moments.pain_recent_after),
        "previous_after": operations.adapt_datetimefield_value(moments.pain_previous_after),
        "inactive_before": operations.adapt_datetimefield_value(moments.inactive_before),
        "plan_active": TrainingPlan.Status.ACTIVE.value,
        "episode_completed": Episode.Status.COMPLETED.value,
        "episode_cancelled": Episode.Status.CANCELLED.value,
        "slot_done": slot.DONE.value,
        "slot_missed": slot.MISSED.value,
        "slot_pending": slot.PENDING.value,
        "alert_open": alert.OPEN.value,
        "alert_acknowledged": alert.ACKNOWLEDGED.value,
        "alert_pain": TrainingAlert.Kind.PAIN_STOP.value,
        "pain_change": PAIN_TREND_MIN_CHANGE,
        "red_min_due": RED_MIN_DUE_SLOTS,
        "red_percent": RED_ADHERENCE_BELOW_PERCENT,
        "yellow_percent": YELLOW_ADHERENCE_BELOW_PERCENT,
        "limit": limit,
        "offset": offset,
    }


def _instant(value: Any) -> datetime | None:
    """A time from a column the statement computed: SQLite gives Django's UTC text, PostgreSQL a datetime."""
    if value is None or isinstance(value, datetime):
        return value
    parsed = parse_datetime(str(value))
    if parsed is None:
        raise ValueError(f"not a time: {value!r}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# --- Rows and pages -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseloadRow:
    """One citizen's line of the caseload."""

    citizen: Citizen
    light: Light
    reasons: list[str]
    adherence: float | None
    slots_due: int
    slots_filled: int
    pain_trend: PainTrend
    pain_recent: Fraction | None
    pain_previous: Fraction | None
    last_activity: datetime | None
    open_alerts: int


@dataclass(frozen=True)
class CaseloadPage:
    rows: list[CaseloadRow]
    next_cursor: str | None
    moments: Moments


def _mean(total: int, count: int) -> Fraction | None:
    return Fraction(int(total), int(count)) if count else None


def _row(citizen: Any) -> CaseloadRow:
    return CaseloadRow(
        citizen=citizen,
        light=LIGHTS[int(citizen.light)],
        reasons=[reason for reason in REASONS if getattr(citizen, reason)],
        adherence=None if citizen.adherence is None else float(citizen.adherence),
        slots_due=int(citizen.slots_due),
        slots_filled=int(citizen.slots_filled),
        pain_trend=citizen.pain_trend,
        pain_recent=_mean(citizen.pain_recent_sum, citizen.pain_recent_count),
        pain_previous=_mean(citizen.pain_previous_sum, citizen.pain_previous_count),
        last_activity=_instant(citizen.last_activity),
        open_alerts=int(citizen.open_alerts),
    )


def _decode_offset(cursor: str | None, sort: str) -> int:
    if not cursor:
        return 0
    try:
        raw = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("cursor", "The cursor is not valid.") from exc
    if not isinstance(raw, dict) or raw.get("sort") != sort or type(raw.get("offset")) is not int:
        raise InvalidInput("cursor", "The cursor is not valid for this sort order.")
    if not 0 <= raw["offset"] <= 10_000_000:
        raise InvalidInput("cursor", "The cursor is not valid.")
    return int(raw["offset"])


def _encode_offset(offset: int, sort: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset, "sort": sort}).encode()).decode().rstrip("=")


def team_caseload(
    team: Team,
    *,
    sort: str = "status",
    cursor: str | None = None,
    limit: int | None = None,
    now: datetime | None = None,
) -> CaseloadPage:
    """One page of the team's caseload in ``sort`` order: one statement, whatever the team's size. The
    cursor holds the position in the sorted caseload (an offset: a caseload changes slowly, and its
    order is by figures that change with every session, so no key stays put to page by)."""
    order = ORDER_BY.get(sort)
    if order is None:
        raise InvalidInput("sort", f"must be one of {', '.join(ORDER_BY)}.")
    size = min(max(limit or DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE)
    offset = _decode_offset(cursor, sort)
    moments = Moments(now=now or timezone.now(), today=municipal_today())
    statement = CASELOAD_SQL.format(
        order=order, care_relation_in_force=declared().care_relation.sql("r", named="care_relation"), **_TABLES
    )
    citizens = list(Citizen.objects.raw(statement, _parameters(team, moments, limit=size + 1, offset=offset)))
    next_cursor = _encode_offset(offset + size, sort) if len(citizens) > size else None
    return CaseloadPage(rows=[_row(citizen) for citizen in citizens[:size]], next_cursor=next_cursor, moments=moments)


def team_caseload_for(
    actor: Actor, team_id: UUID | str, *, sort: str = "status", cursor: str | None = None, limit: int | None = None
) -> tuple[Team, CaseloadPage]:
    """A team the caller holds a care role in, and one page of its caseload, each citizen on it logged."""
    team = access_care_team(actor, team_id)
    page = team_caseload(team, sort=sort, cursor=cursor, limit=limit)
    read_logged(actor, [row.citizen for row in page.rows], "training_caseload")
    return team, page


# --- Training alerts ----------------------------------------------------------------------------


def training_alerts_visible_to(actor: Actor) -> QuerySet[TrainingAlert]:
    """Alerts of the episodes the staff member sees (their teams' citizens in active care)."""
    return TrainingAlert.objects.filter(episode__in=episodes_visible_to(actor))


def with_alert_shape(queryset: QuerySet[TrainingAlert]) -> QuerySet[TrainingAlert]:
    """Everything an alert response shows, in the same one query."""
    return queryset.select_related(
        "citizen", "episode", "plan", "exercise", "session_log", "contact_person__user", "acknowledged_by",
        "resolved_by",
    )


def training_alerts_for_staff(
    actor: Actor, *, statuses: list[str], citizen_id: UUID | None
) -> QuerySet[TrainingAlert]:
    alerts = training_alerts_visible_to(actor).filter(status__in=statuses)
    if citizen_id is not None:
        alerts = alerts.filter(citizen_id=citizen_id)
    return with_alert_shape(alerts)


def _training_alert(actor: Actor, alert_id: UUID | str) -> TrainingAlert:
    try:
        return with_alert_shape(training_alerts_visible_to(actor)).get(pk=alert_id)
    except (TrainingAlert.DoesNotExist, ValueError) as exc:
        raise NotFound("No such training alert.") from exc


def access_training_alert(actor: Actor, alert_id: UUID | str, *, reads: str = "training_alert") -> TrainingAlert:
    """An alert ``actor`` may see, its read logged; not found otherwise."""
    alert = _training_alert(actor, alert_id)
    read_logged(actor, [alert.citizen_id], reads, alert.pk)
    return alert


def access_training_alert_for_change(actor: Actor, alert_id: UUID | str) -> TrainingAlert:
    """An alert the staff member may act on: visible, and its episode run by one of their care teams
    (staff of another team caring for the citizen see it, hence 403 rather than 404)."""
    alert = _training_alert(actor, alert_id)
    if alert.episode.team_id not in actor.care_team_ids():
        raise Forbidden("Only staff of the episode's team can act on its alerts.", code="not_episode_team")
    return alert

