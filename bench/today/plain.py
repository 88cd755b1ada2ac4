"""The plain app: GET /api/v1/me/today for a citizen as a WSGI function with hand-written SQL.

It answers the same JSON as Mestring for the same citizen and day, with the same checks and the same
database work, written by hand: the access token joined to its session, user and citizen by the
SHA-256 of the token (expiry, revocation, active user, the ``last_used_at`` bump, citizens only); the
day's slots of the citizen's active plans with plan, version and session log; the exercises of those
versions with the library's texts; their pictures; the next pending slot; and one access-log row
inserted in a transaction before the answer leaves. No Django, no middleware, no validation library:
``sqlite3`` or ``psycopg`` directly, one connection per serving thread (``bench.baseline.Database``).

Served like the real app::

    DATABASE_URL=... gunicorn bench.today.plain:application --workers 2 --threads 8 -k gthread
"""

import hashlib
import json
import os
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bench.baseline import ACCESS_PREFIX, INSERT_LOG_SQL, LAST_USED_RESOLUTION, TOUCH_SESSION_SQL, Database, _problem

PATH = "/api/v1/me/today"
DEFAULT_ZONE = "Europe/Copenhagen"
IMAGE_SIZES = ("thumbnail", "medium", "large")
STATUS_NAMES: dict[str, dict[str, str]] = {
    "da": {"pending": "Planlagt", "done": "Udført", "missed": "Ikke udført"},
    "en": {"pending": "Planned", "done": "Done", "missed": "Missed"},
}

TOKEN_SQL = (
    'SELECT t."expires_at", s."id", s."audience", s."revoked_at", s."expires_at", s."last_used_at", '
    'u."id", u."is_active", u."display_name", c."id", c."time_zone" '
    'FROM "backend_token" t '
    'INNER JOIN "backend_appsession" s ON s."id" = t."session_id" '
    'INNER JOIN "backend_user" u ON u."id" = s."user_id" '
    'LEFT OUTER JOIN "backend_citizen" c ON c."user_id" = u."id" '
    'WHERE t."token_hash" = %s AND t."kind" = %s'
)
SLOTS_SQL = (
    'SELECT sl."id", sl."plan_id", p."title", sl."version_id", v."number", v."time_zone", sl."scheduled_at", '
    'sl."due_until", sl."status", lg."id" '
    'FROM "selvbetjening_trainingslot" sl '
    'INNER JOIN "selvbetjening_trainingplan" p ON p."id" = sl."plan_id" '
    'INNER JOIN "selvbetjening_trainingplanversion" v ON v."id" = sl."version_id" '
    'LEFT OUTER JOIN "selvbetjening_sessionlog" lg ON lg."slot_id" = sl."id" '
    'WHERE sl."citizen_id" = %s AND sl."local_date" = %s AND p."status" = \'active\' '
    "AND sl.\"status\" <> 'cancelled' "
    'ORDER BY sl."scheduled_at", sl."id"'
)
EXERCISES_SQL = {
    language: (
        'SELECT pe."id", pe."version_id", pe."exercise_id", pe."position", pe."instructions", pe."sets", '
        f'pe."repetitions", pe."hold_seconds", pe."duration_seconds", pe."load_kg", e."title_{language}", '
        f'e."instructions_{language}", e."video_url" '
        'FROM "selvbetjening_planexercise" pe '
        'INNER JOIN "selvbetjening_exercise" e ON e."id" = pe."exercise_id" '
        'WHERE pe."version_id" IN ({}) '
        'ORDER BY pe."version_id", pe."position", pe."id"'
    )
    for language in ("da", "en")
}
IMAGES_SQL = {
    language: (
        f'SELECT i."id", i."exercise_id", i."alt_text_{language}", i."width", i."height" '
        'FROM "selvbetjening_exerciseimage" i WHERE i."exercise_id" IN ({}) '
        'ORDER BY i."exercise_id", i."position", i."created_at"'
    )
    for language in ("da", "en")
}
NEXT_REMINDER_SQL = (
    'SELECT sl."scheduled_at" FROM "selvbetjening_trainingslot" sl '
    'INNER JOIN "selvbetjening_trainingplan" p ON p."id" = sl."plan_id" '
    'WHERE sl."citizen_id" = %s AND sl."status" = \'pending\' AND sl."scheduled_at" > %s '
    "AND p.\"status\" = 'active' "
    'ORDER BY sl."scheduled_at" LIMIT 1'
)


class Refused(Exception):
    def __init__(self, status: str, code: str, title: str) -> None:
        super().__init__(title)
        self.status, self.code, self.title = status, code, title


NOT_AUTHENTICATED = Refused("401 Unauthorized", "not_authenticated", "Not authenticated.")
FORBIDDEN = Refused("403 Forbidden", "forbidden", "You do not have access to this.")


def json_datetime(value: datetime) -> str:
    """As Django's JSON encoder writes it: milliseconds at most, UTC as ``Z``."""
    text = value.isoformat()
    if value.microsecond:
        text = text[:23] + text[26:]
    if text.endswith("+00:00"):
        text = text.removesuffix("+00:00") + "Z"
    return text


def zone_named(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


class Today:
    def __init__(self, database: Database) -> None:
        self.database = database

    def uuid_text(self, value: Any) -> str:
        return str(self.database.to_uuid(value))

    def utc(self, value: Any) -> datetime:
        moment = self.database.to_datetime(value)
        assert moment is not None
        return moment.astimezone(UTC)

    def authenticate(self, raw_token: str) -> dict[str, Any]:
        """The citizen behind the access token, or Refused."""
        if not (raw_token.startswith(ACCESS_PREFIX) and len(raw_token) <= 200 and raw_token.isascii()):
            raise NOT_AUTHENTICATED
        database = self.database
        rows = database.query(TOKEN_SQL, (hashlib.sha256(raw_token.encode()).hexdigest(), "access"))
        if not rows:
            raise NOT_AUTHENTICATED
        (
            token_expires,
            session_id,
            audience,
            revoked_at,
            session_expires,
            last_used,
            user_id,
            is_active,
            display_name,
            citizen_id,
            time_zone,
        ) = rows[0]
        now = datetime.now(UTC)
        if self.utc(token_expires) <= now:
            raise NOT_AUTHENTICATED
        if revoked_at is not None or self.utc(session_expires) <= now or not is_active:
            raise NOT_AUTHENTICATED
        if now - self.utc(last_used) > LAST_USED_RESOLUTION:
            database.update(TOUCH_SESSION_SQL, (database.datetime_parameter(now), session_id))
        if citizen_id is None or audience == "staff":
            raise FORBIDDEN
        return {
            "user_id": database.to_uuid(user_id),
            "display_name": display_name,
            "citizen_id": database.to_uuid(citizen_id),
            "time_zone": time_zone,
            "now": now,
        }

    def in_list(self, statement: str, values: list[Any]) -> tuple[str, tuple[Any, ...]]:
        return statement.format(", ".join(["%s"] * len(values))), tuple(values)

    def images(self, exercise_ids: list[Any], language: str) -> dict[Any, list[dict[str, Any]]]:
        found: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        if not exercise_ids:
            return found
        for image_id, exercise_id, alt_text, width, height in self.database.query(
            *self.in_list(IMAGES_SQL[language], exercise_ids)
        ):
            text_id = self.uuid_text(image_id)
            found[exercise_id].append(
                {
                    "id": text_id,
                    "alt_text": alt_text,
                    "width": width,
                    "height": height,
                    "urls": {size: f"/api/v1/exercise-images/{text_id}/{size}" for size in IMAGE_SIZES},
                }
            )
        return found

    def exercises(self, version_ids: list[Any], language: str) -> dict[Any, list[dict[str, Any]]]:
        rows = self.database.query(*self.in_list(EXERCISES_SQL[language], version_ids))
        images = self.images(list(dict.fromkeys(row[2] for row in rows)), language)
        by_version: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        for (
            plan_exercise_id,
            version_id,
            exercise_id,
            position,
            individual,
            sets,
            repetitions,
            hold_seconds,
            duration_seconds,
            load_kg,
            title,
            instructions,
            video_url,
        ) in rows:
            by_version[version_id].append(
                {
                    "plan_exercise_id": self.uuid_text(plan_exercise_id),
                    "exercise_id": self.uuid_text(exercise_id),
                    "position": position,
                    "title": title,
                    "instructions": instructions,
                    "individual_instructions": individual,
                    "video_url": video_url,
                    "sets": sets,
                    "repetitions": repetitions,
                    "hold_seconds": hold_seconds,
                    "duration_seconds": duration_seconds,
                    "load_kg": None if load_kg is None else float(load_kg),
                    "images": images.get(exercise_id, []),
                }
            )
        return by_version

    def answer(self, caller: dict[str, Any], day: date | None, language: str, request_id: str) -> dict[str, Any]:
        database = self.database
        now = caller["now"]
        zone = zone_named(caller["time_zone"])
        day = day or now.astimezone(zone).date()
        citizen = database.uuid_parameter(caller["citizen_id"])
        slots = database.query(SLOTS_SQL, (citizen, day.isoformat()))
        exercises = self.exercises(list(dict.fromkeys(slot[3] for slot in slots)), language) if slots else {}
        names = STATUS_NAMES[language]
        items = []
        for (
            slot_id,
            plan_id,
            plan_title,
            version_id,
            version_number,
            version_zone,
            scheduled_at,
            due_until,
            status,
            session_log_id,
        ) in slots:
            scheduled = self.utc(scheduled_at)
            items.append(
                {
                    "id": self.uuid_text(slot_id),
                    "training_plan_id": self.uuid_text(plan_id),
                    "plan_title": plan_title,
                    "plan_version_id": self.uuid_text(version_id),
                    "plan_version_number": version_number,
                    "scheduled_at": json_datetime(scheduled),
                    "scheduled_local": json_datetime(scheduled.astimezone(ZoneInfo(version_zone))),
                    "due_until": json_datetime(self.utc(due_until)),
                    "status": status,
                    "status_name": names.get(status, status),
                    "session_log_id": None if session_log_id is None else self.uuid_text(session_log_id),
                    "exercises": exercises.get(version_id, []),
                }
            )
        reminder_rows = database.query(NEXT_REMINDER_SQL, (citizen, database.datetime_parameter(now)))
        next_reminder_at = json_datetime(self.utc(reminder_rows[0][0])) if reminder_rows else None
        if items or next_reminder_at:
            citizen_text = str(caller["citizen_id"])
            database.insert_in_transaction(
                INSERT_LOG_SQL,
                (
                    database.datetime_parameter(now),
                    database.uuid_parameter(caller["user_id"]),
                    caller["display_name"],
                    "citizen",
                    citizen,
                    "training",
                    citizen_text,
                    "read",
                    "own_use",
                    request_id,
                ),
            )
        return {
            "date": day.isoformat(),
            "time_zone": str(zone),
            "slots": items,
            "next_reminder_at": next_reminder_at,
        }


def requested_language(environ: dict[str, Any]) -> str:
    accepted = environ.get("HTTP_ACCEPT_LANGUAGE", "")
    first = accepted.split(",", 1)[0].strip().lower()
    return "en" if first.startswith("en") else "da"


def requested_day(environ: dict[str, Any]) -> date | None:
    values = parse_qs(environ.get("QUERY_STRING", "")).get("date")
    if not values:
        return None
    return date.fromisoformat(values[-1])


def make_application(url: str) -> Callable[..., list[bytes]]:
    today = Today(Database(url))

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "GET":
            return _problem(start_response, "404 Not Found", "not_found", "Not found.")
        request_id = uuid.uuid4().hex
        scheme, _, raw_token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        try:
            if scheme.lower() != "bearer":
                raise NOT_AUTHENTICATED
            caller = today.authenticate(raw_token.strip())
            try:
                day = requested_day(environ)
            except ValueError:
                return _problem(start_response, "422 Unprocessable Entity", "validation_failed", "Invalid date.")
            payload = today.answer(caller, day, requested_language(environ), request_id)
        except Refused as refused:
            return _problem(start_response, refused.status, refused.code, refused.title)
        body = json.dumps(payload).encode()
        start_response(
            "200 OK",
            [
                ("Content-Type", "application/json; charset=utf-8"),
                ("Content-Length", str(len(body))),
                ("X-Request-ID", request_id),
            ],
        )
        return [body]

    return application


application = make_application(os.environ.get("DATABASE_URL", ""))
