"""The baseline: a plain WSGI app that does the database work of GET /api/v1/me for a citizen.

It sends the same four statements Django sends for that request (token joined to its session and
user by the SHA-256 hash; the citizen and the relative of the user; one access-log row inserted in a
transaction), applies the same checks (expiry, revocation, active user, the ``last_used_at`` bump)
and returns the same JSON. What it leaves out is the framework: no Django, no middleware, no Ninja
validation. It talks to the database with ``sqlite3`` or ``psycopg`` directly, one connection per
serving thread kept open for the life of the process.

Served like the real app::

    DATABASE_URL=... gunicorn bench.baseline:application --workers 2 --threads 8 -k gthread
"""

import hashlib
import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

ACCESS_PREFIX = "mat_"
LAST_USED_RESOLUTION = timedelta(minutes=5)
ROLE_NAMES = {"citizen": "Borger", "relative": "Pårørende"}

TABLES = ("backend_token", "backend_appsession", "backend_user", "backend_citizen", "backend_relative")
PROFILE_FIELDS = (
    "id",
    "given_name",
    "family_name",
    "address_line",
    "postcode",
    "city",
    "phone",
    "language",
    "time_zone",
)
TOUCH_SESSION_SQL = 'UPDATE "backend_appsession" SET "last_used_at" = %s WHERE "backend_appsession"."id" = %s'
INSERT_LOG_SQL = (
    'INSERT INTO "backend_accesslogentry" ("at", "actor_id", "actor_name", "actor_role", "citizen_id", '
    '"resource_type", "resource_id", "action", "purpose", "request_id") '
    'VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING "backend_accesslogentry"."id"'
)


def _select(table: str, columns: Iterable[str]) -> str:
    return ", ".join(f'"{table}"."{column}"' for column in columns)


class Statements:
    """The SELECTs Django writes for these models: every column, in the table's order (the models')."""

    def __init__(self, columns: dict[str, tuple[str, ...]]) -> None:
        self.columns = columns
        self.token = (
            f"SELECT {_select('backend_token', columns['backend_token'])}, "
            f"{_select('backend_appsession', columns['backend_appsession'])}, "
            f"{_select('backend_user', columns['backend_user'])} "
            'FROM "backend_token" '
            'INNER JOIN "backend_appsession" ON ("backend_token"."session_id" = "backend_appsession"."id") '
            'INNER JOIN "backend_user" ON ("backend_appsession"."user_id" = "backend_user"."id") '
            'WHERE ("backend_token"."kind" = %s AND "backend_token"."token_hash" = %s) '
            'ORDER BY "backend_token"."id" ASC LIMIT 1'
        )
        self.citizen = (
            f'SELECT {_select("backend_citizen", columns["backend_citizen"])} FROM "backend_citizen" '
            'WHERE "backend_citizen"."user_id" = %s LIMIT 21'
        )
        self.relative = (
            f'SELECT {_select("backend_relative", columns["backend_relative"])} FROM "backend_relative" '
            'WHERE "backend_relative"."user_id" = %s LIMIT 21'
        )


class Database:
    """One connection per thread; parameters and values converted to what each engine stores."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite:")
        self.local = threading.local()
        self._statements: Statements | None = None

    @property
    def statements(self) -> Statements:
        if self._statements is None:
            self._statements = Statements({table: self.table_columns(table) for table in TABLES})
        return self._statements

    def table_columns(self, table: str) -> tuple[str, ...]:
        if self.is_sqlite:
            rows = self.connection().execute(f'PRAGMA table_info("{table}")').fetchall()
            return tuple(row[1] for row in rows)
        rows = (
            self.connection()
            .execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
                (table,),
            )
            .fetchall()
        )
        return tuple(row[0] for row in rows)

    def connection(self) -> Any:
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = self._connect()
            self.local.connection = connection
        return connection

    def _connect(self) -> Any:
        if self.is_sqlite:
            path = unquote(urlsplit(self.url).path)[1:]
            connection = sqlite3.connect(path, timeout=20, isolation_level=None)
            connection.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
            return connection
        import psycopg

        return psycopg.connect(self.url, autocommit=True, connect_timeout=3)

    def sql(self, statement: str) -> str:
        return statement.replace("%s", "?") if self.is_sqlite else statement

    def query(self, statement: str, parameters: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return list(self.connection().execute(self.sql(statement), parameters).fetchall())

    def insert_in_transaction(self, statement: str, parameters: tuple[Any, ...]) -> None:
        connection = self.connection()
        if self.is_sqlite:
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.execute(self.sql(statement), parameters).fetchall()
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
            return
        with connection.transaction():
            connection.execute(statement, parameters).fetchall()

    def update(self, statement: str, parameters: tuple[Any, ...]) -> None:
        self.connection().execute(self.sql(statement), parameters)

    # Values in the representation each engine stores (SQLite: Django's text forms).
    def to_uuid(self, value: Any) -> uuid.UUID:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))

    def uuid_parameter(self, value: uuid.UUID) -> Any:
        return value.hex if self.is_sqlite else value

    def to_datetime(self, value: Any) -> datetime | None:
        if value is None:
            return None
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)

    def datetime_parameter(self, value: datetime) -> Any:
        return value.replace(tzinfo=None).isoformat(" ") if self.is_sqlite else value


def _problem(start_response: Callable[..., Any], status: str, code: str, title: str) -> list[bytes]:
    body = json.dumps({"type": "about:blank", "title": title, "status": int(status[:3]), "code": code}).encode()
    start_response(status, [("Content-Type", "application/problem+json"), ("Content-Length", str(len(body)))])
    return [body]


def me(database: Database, raw_token: str, request_id: str) -> dict[str, Any] | None:
    if not (raw_token.startswith(ACCESS_PREFIX) and len(raw_token) <= 200 and raw_token.isascii()):
        return None
    token_hash = hashlib.sha256(raw_token.encode()).hexdigest()
    statements = database.statements
    rows = database.query(statements.token, ("access", token_hash))
    if not rows:
        return None
    row = rows[0]
    token_columns = statements.columns["backend_token"]
    session_columns = statements.columns["backend_appsession"]
    session_end = len(token_columns) + len(session_columns)
    token = dict(zip(token_columns, row[: len(token_columns)], strict=True))
    session = dict(zip(session_columns, row[len(token_columns) : session_end], strict=True))
    user = dict(zip(statements.columns["backend_user"], row[session_end:], strict=True))
    now = datetime.now(UTC)
    token_expires_at = database.to_datetime(token["expires_at"])
    session_expires_at = database.to_datetime(session["expires_at"])
    if token_expires_at is None or token_expires_at <= now:
        return None
    if session["revoked_at"] is not None or session_expires_at is None or session_expires_at <= now:
        return None
    if not user["is_active"]:
        return None
    last_used_at = database.to_datetime(session["last_used_at"])
    if last_used_at is None or now - last_used_at > LAST_USED_RESOLUTION:
        database.update(TOUCH_SESSION_SQL, (database.datetime_parameter(now), session["id"]))

    user_id = database.to_uuid(user["id"])
    citizen = None
    relative = None
    if session["audience"] != "staff":
        citizen_rows = database.query(statements.citizen, (database.uuid_parameter(user_id),))
        citizen_columns = statements.columns["backend_citizen"]
        citizen = dict(zip(citizen_columns, citizen_rows[0], strict=True)) if citizen_rows else None
        relative_rows = database.query(statements.relative, (database.uuid_parameter(user_id),))
        relative = relative_rows[0] if relative_rows else None
    roles = sorted(({"citizen"} if citizen else set()) | ({"relative"} if relative else set()))

    profile = None
    if citizen is not None:
        citizen_id = database.to_uuid(citizen["id"])
        database.insert_in_transaction(
            INSERT_LOG_SQL,
            (
                database.datetime_parameter(now),
                database.uuid_parameter(user_id),
                user["display_name"],
                "citizen",
                database.uuid_parameter(citizen_id),
                "profile",
                str(citizen_id),
                "read",
                "own_use",
                request_id,
            ),
        )
        profile = {field: citizen[field] for field in PROFILE_FIELDS} | {"id": str(citizen_id)}
    return {
        "id": str(user_id),
        "display_name": user["display_name"],
        "audience": session["audience"],
        "roles": [{"code": role, "name": ROLE_NAMES[role]} for role in roles],
        "citizen": profile,
        "memberships": [],
        "session_expires_at": json_datetime(session_expires_at),
    }


def json_datetime(value: datetime) -> str:
    """A datetime as the API writes it (Django's JSON encoder): ISO 8601, milliseconds, UTC as ``Z``."""
    text = value.astimezone(UTC).isoformat()
    if value.microsecond:
        text = text[:23] + text[26:]
    return text.removesuffix("+00:00") + "Z"


def make_application(url: str) -> Callable[..., list[bytes]]:
    database = Database(url)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if environ.get("PATH_INFO") != "/api/v1/me" or environ.get("REQUEST_METHOD") != "GET":
            return _problem(start_response, "404 Not Found", "not_found", "Not found.")
        scheme, _, raw_token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        request_id = uuid.uuid4().hex
        payload = me(database, raw_token.strip(), request_id) if scheme.lower() == "bearer" else None
        if payload is None:
            return _problem(start_response, "401 Unauthorized", "not_authenticated", "Not authenticated.")
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
