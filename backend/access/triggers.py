"""The database triggers that raise the access version (``backend.models.AccessVersion``), made from the
declaration's watched rules.

For every watched rule's table: an update raises the version when one of the rule's columns really
changes, a delete (or TRUNCATE) when a row goes, and an insert too for rules whose rows grant access.
Columns that change on every use (``last_used_at``, a refresh token's ``used_at``) are in no rule, so they
raise nothing, and neither does a statement that touches no row. The first raise starts the counter at
the clock's microseconds, so that a counter made again (after a TRUNCATE of its own table) never repeats a
value a process still holds.

The triggers are installed after every ``migrate`` when the database's differ from the declaration (a
changed rule, or SQLite dropping a table's triggers when a migration rebuilds the table), and the system
check ``mestring.E002`` reports a database whose triggers do not match.
"""

import re
from dataclasses import dataclass

from django.db import NotSupportedError
from django.db.backends.base.base import BaseDatabaseWrapper

from backend import sql
from backend.access.declaration import declared
from backend.models import AccessVersion

SUFFIX = "_access_changed_"
PG_START = "(extract(epoch FROM clock_timestamp()) * 1000000)::bigint"
SQLITE_START = "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)"
SUPPORTED = ("postgresql", "sqlite")


@dataclass(frozen=True)
class Watched:
    """One table's triggers: the columns an update must change, and whether an insert raises the version."""

    table: str
    columns: tuple[str, ...]
    insert_raises: bool

    def events(self, vendor: str) -> tuple[str, ...]:
        events = ("update", "delete") + (("truncate",) if vendor == "postgresql" else ())
        return events + (("insert",) if self.insert_raises else ())


def watched_tables() -> tuple[Watched, ...]:
    """What the declaration says must raise the version, one entry per table."""
    by_table: dict[str, Watched] = {}
    for rule in declared().watched():
        known = by_table.get(rule.table)
        columns = set(rule.columns()) | (set(known.columns) if known else set())
        by_table[rule.table] = Watched(
            rule.table, tuple(sorted(columns)), rule.grants or (known.insert_raises if known else False)
        )
    return tuple(by_table.values())


def _name(table: str, event: str) -> str:
    return f"{table}{SUFFIX}{event}"


def _changed(quote, columns: tuple[str, ...], distinct: str) -> str:
    return " OR ".join(f"OLD.{quote(column)} {distinct} NEW.{quote(column)}" for column in columns)


def _statements(connection: BaseDatabaseWrapper) -> list[str]:
    quote = connection.ops.quote_name
    version = sql.table(AccessVersion)
    key, value = sql.column(AccessVersion, "id"), sql.column(AccessVersion, "value")
    statements: list[str] = []
    if connection.vendor == "postgresql":
        raise_version = (
            f"INSERT INTO {version} ({key}, {value}) VALUES (1, {PG_START}) "  # noqa: S608 — identifiers only
            f"ON CONFLICT ({key}) DO UPDATE SET {value} = {version}.{value} + 1"
        )
        statements += [
            "CREATE OR REPLACE FUNCTION mestring_access_changed() RETURNS trigger AS $$ "
            f"BEGIN {raise_version}; RETURN NULL; END; $$ LANGUAGE plpgsql",
            # Statement triggers see the rows a statement inserted or deleted: one that touched none raises
            # nothing.
            "CREATE OR REPLACE FUNCTION mestring_access_rows_changed() RETURNS trigger AS $$ "  # noqa: S608
            f"BEGIN IF EXISTS (SELECT 1 FROM changed_rows) THEN {raise_version}; END IF; RETURN NULL; END; "
            "$$ LANGUAGE plpgsql",
        ]
        for watched in watched_tables():
            table = quote(watched.table)
            statements += [
                f"CREATE TRIGGER {_name(watched.table, 'update')} AFTER UPDATE ON {table} FOR EACH ROW "
                f"WHEN ({_changed(quote, watched.columns, 'IS DISTINCT FROM')}) "
                "EXECUTE FUNCTION mestring_access_changed()",
                f"CREATE TRIGGER {_name(watched.table, 'delete')} AFTER DELETE ON {table} "
                "REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT "
                "EXECUTE FUNCTION mestring_access_rows_changed()",
                f"CREATE TRIGGER {_name(watched.table, 'truncate')} AFTER TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION mestring_access_changed()",
            ]
            if watched.insert_raises:
                statements.append(
                    f"CREATE TRIGGER {_name(watched.table, 'insert')} AFTER INSERT ON {table} "
                    "REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT "
                    "EXECUTE FUNCTION mestring_access_rows_changed()"
                )
    else:
        raise_version = (
            f"INSERT OR IGNORE INTO {version} ({key}, {value}) VALUES (1, {SQLITE_START}); "  # noqa: S608 — identifiers only
            f"UPDATE {version} SET {value} = {value} + 1 WHERE {key} = 1;"
        )
        for watched in watched_tables():
            table = quote(watched.table)
            statements += [
                f"CREATE TRIGGER {_name(watched.table, 'update')} AFTER UPDATE ON {table} FOR EACH ROW "
                f"WHEN {_changed(quote, watched.columns, 'IS NOT')} BEGIN {raise_version} END",
                f"CREATE TRIGGER {_name(watched.table, 'delete')} AFTER DELETE ON {table} FOR EACH ROW "
                f"BEGIN {raise_version} END",
            ]
            if watched.insert_raises:
                statements.append(
                    f"CREATE TRIGGER {_name(watched.table, 'insert')} AFTER INSERT ON {table} FOR EACH ROW "
                    f"BEGIN {raise_version} END"
                )
    return statements


def _require_supported(connection: BaseDatabaseWrapper) -> None:
    if connection.vendor not in SUPPORTED:
        # Without the triggers the version would never move and the websocket hub would keep checks that a
        # change has ended: refuse rather than run open.
        raise NotSupportedError(
            f"The access version triggers are written for PostgreSQL and SQLite, not {connection.vendor}."
        )


# --- What the database has ----------------------------------------------------------------------

_COLUMN = re.compile(r"\bOLD\.\"?(\w+)\"?", re.IGNORECASE)


def installed(connection: BaseDatabaseWrapper) -> dict[str, tuple[str, tuple[str, ...]]]:
    """The access triggers in the database: name → (table, the columns its update condition compares)."""
    _require_supported(connection)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT t.tgname, c.relname, pg_get_triggerdef(t.oid) FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal"
            )
        else:
            cursor.execute("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")
        rows = cursor.fetchall()
    return {
        name: (table, tuple(sorted({column.lower() for column in _COLUMN.findall(definition or "")})))
        for name, table, definition in rows
        if SUFFIX in name
    }


def expected(vendor: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """The access triggers the declaration asks for, in the shape of ``installed``."""
    return {
        _name(watched.table, event): (watched.table, watched.columns if event == "update" else ())
        for watched in watched_tables()
        for event in watched.events(vendor)
    }


def differences(connection: BaseDatabaseWrapper) -> list[str]:
    """How the database's access triggers differ from the declaration; empty when they match."""
    have = installed(connection)
    want = expected(connection.vendor)
    found = []
    for name in sorted(want.keys() - have.keys()):
        found.append(f"missing trigger {name}")
    for name in sorted(have.keys() - want.keys()):
        found.append(f"trigger {name} is not declared")
    for name in sorted(want.keys() & have.keys()):
        if want[name] != have[name]:
            found.append(
                f"trigger {name} watches {', '.join(have[name][1]) or 'no columns'} "
                f"instead of {', '.join(want[name][1]) or 'no columns'}"
            )
    return found


# --- Installing ----------------------------------------------------------------------------------


def uninstall(connection: BaseDatabaseWrapper) -> None:
    _require_supported(connection)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for name, (table, _columns) in installed(connection).items():
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {quote(table)}")
            else:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


def install(connection: BaseDatabaseWrapper) -> None:
    """Replace the database's access triggers by the declaration's, in one transaction."""
    _require_supported(connection)
    from django.db import transaction

    with transaction.atomic(using=connection.alias):
        uninstall(connection)
        with connection.cursor() as cursor:
            for statement in _statements(connection):
                cursor.execute(statement)


def synchronise(connection: BaseDatabaseWrapper) -> bool:
    """Install the declaration's triggers when the database's differ; True when something changed. Run
    after every ``migrate``: an unchanged database takes no lock."""
    if connection.vendor not in SUPPORTED:
        _require_supported(connection)
    if not differences(connection):
        return False
    install(connection)
    return True
