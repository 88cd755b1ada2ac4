"""A team's training caseload and the training alerts staff triage.

The caseload is every citizen with an active training plan in one of the team's running episodes and
an active care relation to the team, each with the figures a therapist triages by and a traffic light.
Sorting by a figure (the light above all) needs the figures of the whole team before a page can be
cut, so one statement computes them for the team and returns the page: the members once, then one
grouped pass over each of the members' slots, session logs, alerts, questionnaires, requests and
episodes, the light, the order and the page, in SQL that SQLite and PostgreSQL both run. (Done with
the ORM as one grouped query per table and the light, sorting and paging in Python, the same page
cost 2.2 times as much: see the caseload section of bench/README.md.)
"""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any, Literal, get_args
from uuid import UUID

from django.apps import apps
from django.db import connection
from django.db.models import Model, QuerySet
from django.utils import timezone

from backend import sql
from backend.access import access_care_team
from backend.access.declaration import declared
from backend.access.rules import Moments as AccessMoments
from backend.actors import Actor
from backend.audit import read_logged
from backend.errors import InvalidInput
from backend.models import CareRelation, Citizen, Staff, Team
from backend.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from backend.replica import reads_from_replica
from backend.timeutil import municipal_today
from selvbetjening.models import (
    CitizenRequest,
    Episode,
    EpisodeContact,
    QuestionnaireAssignment,
    SessionLog,
    TrainingAlert,
    TrainingPlan,
    TrainingSlot,
)
from selvbetjening.rules import questionnaires as questionnaire_rules
from selvbetjening.rules import requests as request_rules
from selvbetjening.rules.slots import DUE
from selvbetjening.selectors.episodes import episodes_visible_to

# --- The traffic light's thresholds (described in selvbetjening/schemas/progress.py) --------------

ADHERENCE_WINDOW_DAYS = 14
PAIN_WINDOW_DAYS = 7
INACTIVE_AFTER_DAYS = 7
RED_ADHERENCE_BELOW_PERCENT = 50
RED_MIN_DUE_SLOTS = 3
YELLOW_ADHERENCE_BELOW_PERCENT = 80
PAIN_TREND_MIN_CHANGE = 1
ENDING_SOON_WITHIN_DAYS = 7

UNRESOLVED_ALERT = (TrainingAlert.Status.OPEN, TrainingAlert.Status.ACKNOWLEDGED)

Light = Literal["red", "yellow", "green"]
PainTrend = Literal["rising", "falling", "stable", "unknown"]
LIGHTS: tuple[Light, ...] = ("red", "yellow", "green")
SortKey = Literal["status", "-status", "adherence", "-adherence", "last_activity", "-last_activity", "name", "-name"]

# Why a light is not green, as flag columns of the statement, in the order the rules read.
Reason = Literal[
    "pain_alert",
    "missed_training_alert",
    "device_fall",
    "request_overdue",
    "adherence_below_red",
    "adherence_below_yellow",
    "pain_rising",
    "no_recent_activity",
    "questionnaire_overdue",
    "episode_ending_soon",
    "device_offline",
    "device_battery_low",
]
REASONS: tuple[str, ...] = get_args(Reason)

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

# The statement's aliases: ``{e}`` is the episode table under the alias e, ``{e.team}`` its team column.
_ALIASES: dict[str, type[Model]] = {
    "c": Citizen,
    "rel": CareRelation,
    "p": TrainingPlan,
    "e": Episode,
    "s": TrainingSlot,
    "l": SessionLog,
    "a": TrainingAlert,
    "q": QuestionnaireAssignment,
    "req": CitizenRequest,
    "ec": EpisodeContact,
}

# The rules the figures count by, as conditions on the tables under their aliases: which slots are due
# (rules.slots), which questionnaires and requests are overdue (rules.questionnaires, rules.requests).
_SLOT_DUE, _SLOT_DUE_PARAMETERS = DUE.sql("s", now="now")
_QUESTIONNAIRE_OVERDUE, _QUESTIONNAIRE_OVERDUE_PARAMETERS = questionnaire_rules.overdue_sql("q", today="today")
_REQUEST_OVERDUE, _REQUEST_OVERDUE_PARAMETERS = request_rules.overdue_sql("req", now="now")

# Rows are picked only by columns of an index that starts with the citizen (slots: citizen and local
# date; logs: citizen and time; alerts: citizen and status) and what counts is decided inside the
# aggregates, so that even without planner statistics (SQLite) only the members' rows are read.
CASELOAD_SQL = """
WITH members AS (
    SELECT {c.id} AS id, {c.given_name} AS given_name, {c.family_name} AS family_name,
           (SELECT MAX({l.performed_at}) FROM {l} WHERE {l.citizen} = {c.id}) AS last_activity
    FROM {c}
    WHERE {c.id} IN (
            SELECT {p.citizen} FROM {p} JOIN {e} ON {e.id} = {p.episode}
            WHERE {p.status} = %(plan_active)s AND {e.team} = %(team)s
              AND {e.status} NOT IN (%(episode_completed)s, %(episode_cancelled)s))
      AND {c.id} IN (
            SELECT {rel.citizen} FROM {rel}
            WHERE {rel.team} = %(team)s AND {care_relation_in_force})
      {contact_person_condition}
),
slot_figures AS (
    SELECT {s.citizen} AS citizen_id,
           COUNT(CASE WHEN {slot_due} THEN 1 END) AS slots_due,
           COUNT(CASE WHEN {s.status} = %(slot_done)s THEN 1 END) AS slots_filled
    FROM {s}
    WHERE {s.citizen} IN (SELECT id FROM members)
      AND {s.local_date} >= %(adherence_from)s AND {s.local_date} <= %(today)s
    GROUP BY {s.citizen}
),
pain_figures AS (
    SELECT {l.citizen} AS citizen_id,
           SUM(CASE WHEN {l.performed_at} > %(recent_after)s THEN COALESCE({l.pain_after}, {l.pain_before}) END)
               AS pain_recent_sum,
           COUNT(CASE WHEN {l.performed_at} > %(recent_after)s THEN COALESCE({l.pain_after}, {l.pain_before}) END)
               AS pain_recent_count,
           SUM(CASE WHEN {l.performed_at} <= %(recent_after)s THEN COALESCE({l.pain_after}, {l.pain_before}) END)
               AS pain_previous_sum,
           COUNT(CASE WHEN {l.performed_at} <= %(recent_after)s THEN COALESCE({l.pain_after}, {l.pain_before}) END)
               AS pain_previous_count
    FROM {l}
    WHERE {l.citizen} IN (SELECT id FROM members) AND {l.performed_at} > %(previous_after)s
    GROUP BY {l.citizen}
),
alert_figures AS (
    SELECT {a.citizen} AS citizen_id, COUNT(*) AS open_alerts,
           COUNT(CASE WHEN {a.kind} = %(alert_pain)s THEN 1 END) AS pain_alerts,
           COUNT(CASE WHEN {a.kind} = %(alert_missed)s THEN 1 END) AS missed_alerts
    FROM {a}
    WHERE {a.citizen} IN (SELECT id FROM members) AND {a.status} IN (%(alert_open)s, %(alert_acknowledged)s)
    GROUP BY {a.citizen}
),
questionnaire_figures AS (
    SELECT {q.citizen} AS citizen_id, COUNT(*) AS questionnaires_overdue
    FROM {q}
    WHERE {q.citizen} IN (SELECT id FROM members) AND {questionnaire_overdue}
      AND ({q.episode} IS NULL OR {q.episode} IN (SELECT {e.id} FROM {e} WHERE {e.team} = %(team)s))
    GROUP BY {q.citizen}
),
request_figures AS (
    SELECT {req.citizen} AS citizen_id, COUNT(*) AS requests_overdue
    FROM {req}
    WHERE {req.citizen} IN (SELECT id FROM members) AND {req.team} = %(team)s
      AND {request_overdue}
    GROUP BY {req.citizen}
),
ending_figures AS (
    SELECT {e.citizen} AS citizen_id, MIN({e.planned_end_date}) AS episode_ends_on
    FROM {e}
    WHERE {e.citizen} IN (SELECT id FROM members) AND {e.team} = %(team)s
      AND {e.status} NOT IN (%(episode_completed)s, %(episode_cancelled)s)
      AND {e.planned_end_date} >= %(today)s AND {e.planned_end_date} <= %(ending_by)s
    GROUP BY {e.citizen}
),
device_figures AS (
    {device_figures}
),
figures AS (
    SELECT m.id, m.given_name, m.family_name, m.last_activity,
           COALESCE(sf.slots_due, 0) AS slots_due, COALESCE(sf.slots_filled, 0) AS slots_filled,
           COALESCE(pf.pain_recent_sum, 0) AS pain_recent_sum, COALESCE(pf.pain_recent_count, 0) AS pain_recent_count,
           COALESCE(pf.pain_previous_sum, 0) AS pain_previous_sum,
           COALESCE(pf.pain_previous_count, 0) AS pain_previous_count,
           COALESCE(af.open_alerts, 0) AS open_alerts, COALESCE(af.pain_alerts, 0) AS pain_alerts,
           COALESCE(af.missed_alerts, 0) AS missed_alerts,
           COALESCE(qf.questionnaires_overdue, 0) AS questionnaires_overdue,
           COALESCE(rf.requests_overdue, 0) AS requests_overdue, ef.episode_ends_on,
           COALESCE(df.device_falls, 0) AS device_falls, COALESCE(df.devices_offline, 0) AS devices_offline,
           COALESCE(df.devices_battery_low, 0) AS devices_battery_low
    FROM members m
    LEFT JOIN slot_figures sf ON sf.citizen_id = m.id
    LEFT JOIN pain_figures pf ON pf.citizen_id = m.id
    LEFT JOIN alert_figures af ON af.citizen_id = m.id
    LEFT JOIN questionnaire_figures qf ON qf.citizen_id = m.id
    LEFT JOIN request_figures rf ON rf.citizen_id = m.id
    LEFT JOIN ending_figures ef ON ef.citizen_id = m.id
    LEFT JOIN device_figures df ON df.citizen_id = m.id
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
           CASE WHEN t.missed_alerts > 0 THEN 1 ELSE 0 END AS missed_training_alert,
           CASE WHEN t.requests_overdue > 0 THEN 1 ELSE 0 END AS request_overdue,
           CASE WHEN t.slots_due >= %(red_min_due)s AND t.slots_filled * 100 < t.slots_due * %(red_percent)s
                THEN 1 ELSE 0 END AS adherence_below_red,
           CASE WHEN NOT (t.slots_due >= %(red_min_due)s AND t.slots_filled * 100 < t.slots_due * %(red_percent)s)
                     AND t.slots_filled * 100 < t.slots_due * %(yellow_percent)s
                THEN 1 ELSE 0 END AS adherence_below_yellow,
           CASE WHEN t.pain_trend = 'rising' THEN 1 ELSE 0 END AS pain_rising,
           CASE WHEN t.last_activity IS NULL OR t.last_activity < %(inactive_before)s THEN 1 ELSE 0 END
               AS no_recent_activity,
           CASE WHEN t.questionnaires_overdue > 0 THEN 1 ELSE 0 END AS questionnaire_overdue,
           CASE WHEN t.episode_ends_on IS NOT NULL THEN 1 ELSE 0 END AS episode_ending_soon,
           CASE WHEN t.device_falls > 0 THEN 1 ELSE 0 END AS device_fall,
           CASE WHEN t.devices_offline > 0 THEN 1 ELSE 0 END AS device_offline,
           CASE WHEN t.devices_battery_low > 0 THEN 1 ELSE 0 END AS device_battery_low
    FROM trends t
),
lit AS (
    SELECT f.*,
           CASE
               WHEN f.pain_alert = 1 OR f.missed_training_alert = 1 OR f.device_fall = 1
                    OR f.request_overdue = 1 OR f.adherence_below_red = 1 THEN 0
               WHEN f.adherence_below_yellow = 1 OR f.pain_rising = 1 OR f.no_recent_activity = 1
                    OR f.questionnaire_overdue = 1 OR f.episode_ending_soon = 1 OR f.device_offline = 1
                    OR f.device_battery_low = 1 THEN 1
               ELSE 2
           END AS light
    FROM flags f
)
SELECT * FROM lit {reason_condition} ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s
"""

# Unresolved alerts on the devices a member has now (an active assignment): the health alerts that name
# them and the device's own alerts (no citizen named: offline, battery). The caseload's app does not import
# the device register's, so its tables and values come from the app registry when it is installed.
DEVICE_FIGURES = """SELECT {da.citizen} AS citizen_id,
           COUNT(CASE WHEN {dal.kind} = %(device_fall)s THEN 1 END) AS device_falls,
           COUNT(CASE WHEN {dal.kind} = %(device_heartbeat)s THEN 1 END) AS devices_offline,
           COUNT(CASE WHEN {dal.kind} = %(device_battery)s THEN 1 END) AS devices_battery_low
    FROM {da} JOIN {dal} ON {dal.device} = {da.device}
    WHERE {da.citizen} IN (SELECT id FROM members) AND {da.returned_at} IS NULL
      AND {dal.status} IN (%(device_alert_open)s, %(device_alert_acknowledged)s)
      AND ({dal.citizen} IS NULL OR {dal.citizen} = {da.citizen})
    GROUP BY {da.citizen}"""
NO_DEVICE_FIGURES = """SELECT id AS citizen_id, 0 AS device_falls, 0 AS devices_offline, 0 AS devices_battery_low
    FROM members WHERE 1 = 0"""
DEVICE_ALERT_VALUES = {
    "device_fall": "fall",
    "device_heartbeat": "heartbeat",
    "device_battery": "battery",
    "device_alert_open": "open",
    "device_alert_acknowledged": "acknowledged",
}


def _device_figures() -> str:
    if not apps.is_installed("velfaerdsteknologi"):
        return NO_DEVICE_FIGURES
    return DEVICE_FIGURES.format(
        **sql.aliases(
            da=apps.get_model("velfaerdsteknologi", "Assignment"), dal=apps.get_model("velfaerdsteknologi", "Alert")
        )
    )


# The contact_person filter: the citizen has a running episode in the team whose current contact person
# (the open contact row of that role) is the given staff member.
CONTACT_PERSON_CONDITION = """AND {c.id} IN (
            SELECT {e.citizen} FROM {e} JOIN {ec} ON {ec.episode} = {e.id}
            WHERE {e.team} = %(team)s AND {e.status} NOT IN (%(episode_completed)s, %(episode_cancelled)s)
              AND {ec.role} = %(contact_role)s AND {ec.ended_at} IS NULL AND {ec.staff} = %(contact_person)s)"""


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

    @property
    def ending_by(self) -> date:
        return self.today + timedelta(days=ENDING_SOON_WITHIN_DAYS)


def _parameters(
    team: Team, moments: Moments, *, contact_person: UUID | None, limit: int, offset: int
) -> dict[str, Any]:
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
        "ending_by": operations.adapt_datefield_value(moments.ending_by),
        "plan_active": TrainingPlan.Status.ACTIVE.value,
        "episode_completed": Episode.Status.COMPLETED.value,
        "episode_cancelled": Episode.Status.CANCELLED.value,
        "slot_done": slot.DONE.value,
        **_SLOT_DUE_PARAMETERS,
        "alert_open": alert.OPEN.value,
        "alert_acknowledged": alert.ACKNOWLEDGED.value,
        "alert_pain": TrainingAlert.Kind.PAIN_STOP.value,
        "alert_missed": TrainingAlert.Kind.MISSED_TRAINING.value,
        **_QUESTIONNAIRE_OVERDUE_PARAMETERS,
        **_REQUEST_OVERDUE_PARAMETERS,
        "contact_role": EpisodeContact.Role.CONTACT_PERSON.value,
        "contact_person": Staff._meta.pk.get_db_prep_value(contact_person, connection),
        **DEVICE_ALERT_VALUES,
        "pain_change": PAIN_TREND_MIN_CHANGE,
        "red_min_due": RED_MIN_DUE_SLOTS,
        "red_percent": RED_ADHERENCE_BELOW_PERCENT,
        "yellow_percent": YELLOW_ADHERENCE_BELOW_PERCENT,
        "limit": limit,
        "offset": offset,
    }


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
    questionnaires_overdue: int
    requests_overdue: int
    episode_ends_on: date | None


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
        last_activity=sql.value_of(SessionLog, "performed_at", citizen.last_activity),
        open_alerts=int(citizen.open_alerts),
        questionnaires_overdue=int(citizen.questionnaires_overdue),
        requests_overdue=int(citizen.requests_overdue),
        episode_ends_on=sql.value_of(Episode, "planned_end_date", citizen.episode_ends_on),
    )


def _decode_offset(cursor: str | None, sort: str, filters: list[str]) -> int:
    if not cursor:
        return 0
    try:
        raw = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("cursor", "The cursor is not valid.") from exc
    if not isinstance(raw, dict) or raw.get("sort") != sort or type(raw.get("offset")) is not int:
        raise InvalidInput("cursor", "The cursor is not valid for this sort order.")
    if raw.get("filters", ["", ""]) != filters:
        raise InvalidInput("cursor", "The cursor is not valid for these filters.")
    if not 0 <= raw["offset"] <= 10_000_000:
        raise InvalidInput("cursor", "The cursor is not valid.")
    return int(raw["offset"])


def _encode_offset(offset: int, sort: str, filters: list[str]) -> str:
    position: dict[str, Any] = {"offset": offset, "sort": sort}
    if any(filters):
        position["filters"] = filters
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


@reads_from_replica
def team_caseload(
    team: Team,
    *,
    sort: str = "status",
    cursor: str | None = None,
    limit: int | None = None,
    now: datetime | None = None,
    contact_person: UUID | str | None = None,
    reason: str | None = None,
) -> CaseloadPage:
    """One page of the team's caseload in ``sort`` order: one statement, whatever the team's size. The
    cursor holds the position in the sorted caseload (an offset: a caseload changes slowly, and its
    order is by figures that change with every session, so no key stays put to page by).

    ``contact_person`` (a staff id) keeps the citizens whose running episode in the team has that
    contact person; ``reason`` keeps the citizens the light shows that reason for."""
    order = ORDER_BY.get(sort)
    if order is None:
        raise InvalidInput("sort", f"must be one of {', '.join(ORDER_BY)}.")
    if reason is not None and reason not in REASONS:
        raise InvalidInput("reason", f"must be one of {', '.join(REASONS)}.")
    size = min(max(limit or DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE)
    contact_person_id = _staff_id(contact_person)
    # A cursor is a position in one sorted and filtered caseload, so it names the filters too.
    filters = [str(contact_person_id or ""), reason or ""]
    offset = _decode_offset(cursor, sort, filters)
    moments = Moments(now=now or timezone.now(), today=municipal_today())
    statement = _statement(
        order=order,
        care_relation_in_force=declared().care_relation.sql("rel", named="care_relation"),
        with_contact_person=contact_person_id is not None,
        reason=reason,
        device_figures=_device_figures(),
    )
    parameters = _parameters(team, moments, contact_person=contact_person_id, limit=size + 1, offset=offset)
    citizens = list(Citizen.objects.raw(statement, parameters))
    next_cursor = _encode_offset(offset + size, sort, filters) if len(citizens) > size else None
    return CaseloadPage(rows=[_row(citizen) for citizen in citizens[:size]], next_cursor=next_cursor, moments=moments)


_statements: dict[tuple[str, ...], str] = {}


def _statement(
    *, order: str, care_relation_in_force: str, with_contact_person: bool, reason: str | None, device_figures: str
) -> str:
    """The caseload statement for a sort order and filters (written once per database vendor and shape)."""
    key = (connection.vendor, order, care_relation_in_force, str(with_contact_person), reason or "", device_figures)
    statement = _statements.get(key)
    if statement is None:
        aliases = sql.aliases(**_ALIASES)
        statement = _statements[key] = CASELOAD_SQL.format(
            order=order,
            slot_due=_SLOT_DUE,
            questionnaire_overdue=_QUESTIONNAIRE_OVERDUE,
            request_overdue=_REQUEST_OVERDUE,
            care_relation_in_force=care_relation_in_force,
            contact_person_condition=CONTACT_PERSON_CONDITION.format(**aliases) if with_contact_person else "",
            # A column of the statement named from REASONS (checked by the caller), never a caller's value.
            reason_condition="" if reason is None else f"WHERE {reason} = 1",
            device_figures=device_figures,
            **aliases,
        )
    return statement


def _staff_id(value: UUID | str | None) -> UUID | None:
    if value is None or value == "":
        return None
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except ValueError as exc:
        raise InvalidInput("contact_person", "must be a staff id.") from exc


def team_caseload_for(
    actor: Actor,
    team_id: UUID | str,
    *,
    sort: str = "status",
    cursor: str | None = None,
    limit: int | None = None,
    contact_person: UUID | str | None = None,
    reason: str | None = None,
) -> tuple[Team, CaseloadPage]:
    """A team the caller holds a care role in, and one page of its caseload, each citizen on it logged."""
    team = access_care_team(actor, team_id)
    page = team_caseload(team, sort=sort, cursor=cursor, limit=limit, contact_person=contact_person, reason=reason)
    read_logged(actor, [row.citizen for row in page.rows], "training_caseload")
    return team, page


# --- Training alerts ----------------------------------------------------------------------------


def training_alerts_visible_to(actor: Actor) -> QuerySet[TrainingAlert]:
    """Alerts of the episodes the staff member sees (their teams' citizens in active care)."""
    return TrainingAlert.objects.filter(episode__in=episodes_visible_to(actor))


def with_alert_shape(queryset: QuerySet[TrainingAlert]) -> QuerySet[TrainingAlert]:
    """Everything an alert response shows, in the same one query."""
    return queryset.select_related(
        "citizen",
        "episode",
        "plan",
        "exercise",
        "session_log",
        "contact_person__user",
        "acknowledged_by",
        "resolved_by",
    )


def training_alerts_for_staff(actor: Actor, *, statuses: list[str], citizen_id: UUID | None) -> QuerySet[TrainingAlert]:
    alerts = training_alerts_visible_to(actor).filter(status__in=statuses)
    if citizen_id is not None:
        alerts = alerts.filter(citizen_id=citizen_id)
    return with_alert_shape(alerts)
