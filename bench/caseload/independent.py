"""An independent baseline for the team caseload, written from the rules the API documents
(``selvbetjening/schemas/progress.py``: the light, the adherence, the pain trend), not from the
production statement.

- ``read``: the rows a page depends on, read with plain selections on the indexes that start with the
  citizen (no grouping but the latest session per citizen, no light, no order): the members, their slots
  of the adherence window, their sessions of the two pain windows, their unresolved alerts, overdue
  questionnaires and requests, the team's episodes and the alerts of the devices they have;
- ``page``: the figures, the light with its reasons and the order worked out in Python from those rows;
- ``floor``: the physical limit, the same rows read once by the database in one statement and only
  counted, so nothing is sent or computed: any answer, the endpoint's included, has to read them.

Placeholders are written ``%(name)s`` (SQLite's ``:name`` is made from them by ``for_sqlite``); values
are passed as the database stores them (``values``), so the same code runs on the harness's raw
connections and on Django's in the tests.
"""

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import Any
from uuid import UUID

# The rules' numbers as the API's field descriptions state them.
ADHERENCE_WINDOW_DAYS = 14
PAIN_WINDOW_DAYS = 7
INACTIVE_AFTER_DAYS = 7
RED_BELOW = Fraction(50, 100)
RED_MIN_DUE = 3
YELLOW_BELOW = Fraction(80, 100)
PAIN_CHANGE = 1
ENDING_WITHIN_DAYS = 7
LIGHTS = ("red", "yellow", "green")
RED_REASONS = ("pain_alert", "missed_training_alert", "device_fall", "request_overdue", "adherence_below_red")
YELLOW_REASONS = (
    "adherence_below_yellow",
    "pain_rising",
    "no_recent_activity",
    "questionnaire_overdue",
    "episode_ending_soon",
    "device_offline",
    "device_battery_low",
)
RUNNING = "e.status NOT IN ('completed', 'cancelled')"
MEMBERS = f"""SELECT c.id FROM backend_citizen c
    WHERE c.id IN (SELECT p.citizen_id FROM selvbetjening_trainingplan p
                   JOIN selvbetjening_episode e ON e.id = p.episode_id
                   WHERE p.status = 'active' AND e.team_id = %(team)s AND {RUNNING})
      AND c.id IN (SELECT r.citizen_id FROM backend_carerelation r
                   WHERE r.team_id = %(team)s AND r.valid_from <= %(today)s
                     AND (r.valid_to IS NULL OR r.valid_to >= %(today)s))"""

# Each statement picks the members' rows through ``{members}``: the members' subquery, or the floor's CTE.
TEMPLATES = {
    "members": "SELECT c.id, c.given_name, c.family_name FROM backend_citizen c WHERE c.id IN ({members})",
    "slots": """SELECT s.citizen_id, s.status, s.due_until FROM selvbetjening_trainingslot s
        WHERE s.citizen_id IN ({members}) AND s.local_date >= %(adherence_from)s AND s.local_date <= %(today)s""",
    "sessions": """SELECT l.citizen_id, l.performed_at, l.pain_before, l.pain_after FROM selvbetjening_sessionlog l
        WHERE l.citizen_id IN ({members}) AND l.performed_at > %(previous_after)s""",
    "latest": """SELECT l.citizen_id, MAX(l.performed_at) FROM selvbetjening_sessionlog l
        WHERE l.citizen_id IN ({members}) GROUP BY l.citizen_id""",
    "alerts": """SELECT a.citizen_id, a.kind FROM selvbetjening_trainingalert a
        WHERE a.citizen_id IN ({members}) AND a.status IN ('open', 'acknowledged')""",
    "questionnaires": """SELECT q.citizen_id, q.episode_id FROM selvbetjening_questionnaireassignment q
        WHERE q.citizen_id IN ({members}) AND q.status = 'pending' AND q.due_on < %(today)s""",
    "requests": """SELECT r.citizen_id FROM selvbetjening_citizenrequest r
        WHERE r.team_id = %(team)s AND r.status IN ('open', 'in_progress') AND r.respond_by < %(now)s""",
    "episodes": """SELECT e.id, e.citizen_id, e.planned_end_date, e.status FROM selvbetjening_episode e
        WHERE e.team_id = %(team)s""",
    "devices": """SELECT d.citizen_id, al.kind FROM velfaerdsteknologi_assignment d
        JOIN velfaerdsteknologi_alert al ON al.device_id = d.device_id
        WHERE d.citizen_id IN ({members}) AND d.returned_at IS NULL AND al.status IN ('open', 'acknowledged')
          AND (al.citizen_id IS NULL OR al.citizen_id = d.citizen_id)""",
}

STATEMENTS = {name: template.format(members=MEMBERS) for name, template in TEMPLATES.items()}


def floor_statement(*, devices: bool = True) -> str:
    """The physical floor: every row ``read`` fetches, read once by the database in one statement (the members
    once, in a CTE), counted there and not sent: any answer has to read at least these rows."""
    counts = ",\n       ".join(
        f"(SELECT COUNT(*) FROM ({template.format(members='SELECT id FROM m')}) AS {name}_rows)"
        for name, template in TEMPLATES.items()
        if devices or name != "devices"
    )
    return f"WITH m AS ({MEMBERS})\nSELECT {counts}"


Execute = Callable[[str, dict[str, Any]], Sequence[Sequence[Any]]]


@dataclass(frozen=True)
class Moments:
    now: datetime
    today: date

    @property
    def adherence_from(self) -> date:
        return self.today - timedelta(days=ADHERENCE_WINDOW_DAYS - 1)

    @property
    def recent_after(self) -> datetime:
        return self.now - timedelta(days=PAIN_WINDOW_DAYS)

    @property
    def previous_after(self) -> datetime:
        return self.now - timedelta(days=2 * PAIN_WINDOW_DAYS)


@dataclass(frozen=True)
class Item:
    """One citizen's line, in the form both the endpoint's JSON and this baseline are compared in."""

    citizen_id: str
    name: str
    status: str
    status_reasons: tuple[str, ...]
    adherence: float | None
    slots_due: int
    slots_filled: int
    pain_trend: str
    pain_mean_recent: float | None
    pain_mean_previous: float | None
    last_activity_at: datetime | None
    open_alerts: int
    questionnaires_overdue: int
    requests_overdue: int
    episode_ends_on: date | None


@dataclass
class Rows:
    """What ``read`` fetched, as the database returned it."""

    by_statement: dict[str, Sequence[Sequence[Any]]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(len(rows) for rows in self.by_statement.values())


def for_sqlite(statement: str) -> str:
    return re.sub(r"%\((\w+)\)s", r":\1", statement)


def values(team_id: str, moments: Moments, *, sqlite: bool) -> dict[str, Any]:
    """The parameters as the database stores them: SQLite keeps UUIDs as 32 hex digits and dates and
    times as text (times in UTC), as Django writes them."""

    def instant(value: datetime) -> Any:
        return str(value.astimezone(UTC).replace(tzinfo=None)) if sqlite else value

    def day(value: date) -> Any:
        return value.isoformat() if sqlite else value

    return {
        "team": UUID(team_id).hex if sqlite else UUID(team_id),
        "today": day(moments.today),
        "adherence_from": day(moments.adherence_from),
        "now": instant(moments.now),
        "previous_after": instant(moments.previous_after),
    }


def floor(execute: Execute, team_id: str, moments: Moments, *, sqlite: bool, devices: bool = True) -> int:
    """How many rows the floor's one statement read (see ``floor_statement``)."""
    statement = floor_statement(devices=devices)
    parameters = values(team_id, moments, sqlite=sqlite)
    counts = execute(for_sqlite(statement) if sqlite else statement, parameters)[0]
    return sum(int(count) for count in counts)


def read(execute: Execute, team_id: str, moments: Moments, *, sqlite: bool, devices: bool = True) -> Rows:
    """Every row the page depends on, once (``devices=False`` where the device register is not installed)."""
    parameters = values(team_id, moments, sqlite=sqlite)
    rows = Rows()
    for name, statement in STATEMENTS.items():
        if name == "devices" and not devices:
            continue
        used = {key: value for key, value in parameters.items() if f"%({key})s" in statement}
        rows.by_statement[name] = execute(for_sqlite(statement) if sqlite else statement, used)
    return rows


def _uuid(value: Any) -> str:
    return str(value if isinstance(value, UUID) else UUID(str(value)))


def _instant(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _mean(values: list[int]) -> Fraction | None:
    return Fraction(sum(values), len(values)) if values else None


SORTS = ("status", "name")


def page(rows: Rows, moments: Moments, *, limit: int, offset: int = 0, sort: str = "status") -> list[Item]:
    """The caseload in ``sort`` order, ``limit`` lines from ``offset``: ``status`` is the light, then the name
    (family name, given name, id); ``name`` the name alone."""
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}")
    read_rows = rows.by_statement
    members = {_uuid(row[0]): (row[1], row[2]) for row in read_rows["members"]}
    due: dict[str, int] = defaultdict(int)
    filled: dict[str, int] = defaultdict(int)
    for citizen, status, due_until in read_rows["slots"]:
        # Due: done, missed, or pending past its grace period; cancelled and upcoming slots do not count.
        if status in ("done", "missed") or (status == "pending" and _instant(due_until) < moments.now):
            due[_uuid(citizen)] += 1
        if status == "done":
            filled[_uuid(citizen)] += 1
    recent: dict[str, list[int]] = defaultdict(list)
    previous: dict[str, list[int]] = defaultdict(list)
    for citizen, performed_at, pain_before, pain_after in read_rows["sessions"]:
        pain = pain_after if pain_after is not None else pain_before
        if pain is not None:
            window = recent if _instant(performed_at) > moments.recent_after else previous
            window[_uuid(citizen)].append(int(pain))
    latest = {_uuid(citizen): _instant(at) for citizen, at in read_rows["latest"]}
    alerts: dict[str, list[str]] = defaultdict(list)
    for citizen, kind in read_rows["alerts"]:
        alerts[_uuid(citizen)].append(kind)
    team_episodes = {_uuid(row[0]) for row in read_rows["episodes"]}
    questionnaires: dict[str, int] = defaultdict(int)
    for citizen, episode in read_rows["questionnaires"]:
        if episode is None or _uuid(episode) in team_episodes:
            questionnaires[_uuid(citizen)] += 1
    requests: dict[str, int] = defaultdict(int)
    for (citizen,) in read_rows["requests"]:
        requests[_uuid(citizen)] += 1
    ending: dict[str, date] = {}
    ending_by = moments.today + timedelta(days=ENDING_WITHIN_DAYS)
    for _, citizen, planned_end, status in read_rows["episodes"]:
        end = _day(planned_end)
        if status not in ("completed", "cancelled") and end is not None and moments.today <= end <= ending_by:
            key = _uuid(citizen)
            ending[key] = min(end, ending.get(key, end))
    device_kinds: dict[str, set[str]] = defaultdict(set)
    for citizen, kind in read_rows.get("devices", ()):
        device_kinds[_uuid(citizen)].add(kind)

    items = []
    for citizen, (given_name, family_name) in members.items():
        citizen_due, citizen_filled = due[citizen], filled[citizen]
        adherence = Fraction(citizen_filled, citizen_due) if citizen_due else None
        recent_mean, previous_mean = _mean(recent[citizen]), _mean(previous[citizen])
        if recent_mean is None or previous_mean is None:
            trend = "unknown"
        elif recent_mean - previous_mean >= PAIN_CHANGE:
            trend = "rising"
        elif previous_mean - recent_mean >= PAIN_CHANGE:
            trend = "falling"
        else:
            trend = "stable"
        last = latest.get(citizen)
        below_red = citizen_due >= RED_MIN_DUE and adherence is not None and adherence < RED_BELOW
        found = {
            "pain_alert": "pain_stop" in alerts[citizen],
            "missed_training_alert": "missed_training" in alerts[citizen],
            "device_fall": "fall" in device_kinds[citizen],
            "request_overdue": requests[citizen] > 0,
            "adherence_below_red": below_red,
            "adherence_below_yellow": not below_red and adherence is not None and adherence < YELLOW_BELOW,
            "pain_rising": trend == "rising",
            "no_recent_activity": last is None or last < moments.now - timedelta(days=INACTIVE_AFTER_DAYS),
            "questionnaire_overdue": questionnaires[citizen] > 0,
            "episode_ending_soon": citizen in ending,
            "device_offline": "heartbeat" in device_kinds[citizen],
            "device_battery_low": "battery" in device_kinds[citizen],
        }
        light = (
            0 if any(found[name] for name in RED_REASONS) else 1 if any(found[name] for name in YELLOW_REASONS) else 2
        )
        items.append(
            (
                (light if sort == "status" else 0, family_name, given_name, UUID(citizen).hex),
                Item(
                    citizen_id=citizen,
                    name=f"{given_name} {family_name}",
                    status=LIGHTS[light],
                    status_reasons=tuple(name for name in (*RED_REASONS, *YELLOW_REASONS) if found[name]),
                    adherence=None if adherence is None else round(float(adherence), 6),
                    slots_due=citizen_due,
                    slots_filled=citizen_filled,
                    pain_trend=trend,
                    pain_mean_recent=None if recent_mean is None else round(float(recent_mean), 2),
                    pain_mean_previous=None if previous_mean is None else round(float(previous_mean), 2),
                    last_activity_at=last,
                    open_alerts=len(alerts[citizen]),
                    questionnaires_overdue=questionnaires[citizen],
                    requests_overdue=requests[citizen],
                    episode_ends_on=ending.get(citizen),
                ),
            )
        )
    items.sort(key=lambda pair: pair[0])
    return [item for _, item in items[offset : offset + limit]]


def from_answer(item: dict[str, Any]) -> Item:
    """An item of the endpoint's JSON in the compared form."""
    return Item(
        citizen_id=_uuid(item["citizen_id"]),
        name=item["name"],
        status=item["status"],
        status_reasons=tuple(item["status_reasons"]),
        adherence=None if item["adherence"] is None else round(item["adherence"], 6),
        slots_due=item["slots_due"],
        slots_filled=item["slots_filled"],
        pain_trend=item["pain_trend"],
        pain_mean_recent=item["pain_mean_recent"],
        pain_mean_previous=item["pain_mean_previous"],
        last_activity_at=_instant(item["last_activity_at"]),
        open_alerts=item["open_alerts"],
        questionnaires_overdue=item["questionnaires_overdue"],
        requests_overdue=item["requests_overdue"],
        episode_ends_on=_day(item["episode_ends_on"]),
    )


def differences(answer: list[dict[str, Any]], items: list[Item]) -> list[str]:
    """Where the endpoint's page and this baseline's differ (nothing when they agree)."""
    problems = [f"{len(answer)} items from the endpoint against {len(items)}"] if len(answer) != len(items) else []
    for position, (got, expected) in enumerate(zip(answer, items, strict=False)):
        if from_answer(got) != expected:
            problems.append(f"item {position}: endpoint {from_answer(got)} against {expected}")
            break
    return problems
