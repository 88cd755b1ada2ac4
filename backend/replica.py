"""Heavy reads on a PostgreSQL streaming replica, when one is configured and keeping up.

``DATABASE_REPLICA_URL`` names the replica (the ``replica`` database alias). Only code marked with
``reads_from_replica`` reads there — the indicators and their exports, the staff triage's caseload
statement — and only while the replica answers, is a standby that is streaming from its primary, and lags at
most ``DATABASE_REPLICA_MAX_LAG_SECONDS`` behind it. Otherwise, and for every write, every read inside a
transaction on the primary (it may read its own writes) and everything not marked, the primary serves. The
replica's state is checked at most every ``DATABASE_REPLICA_CHECK_SECONDS`` per process; a marked read
that fails on the replica is run again on the primary, and the replica is left alone until the next check.
"""

import functools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

REPLICA = "replica"

# A standby's lag: none while it has replayed all it received, otherwise the time since the last
# transaction it replayed; and whether its WAL receiver runs (its status shows only to roles with
# pg_read_all_stats; to others the row of a running receiver, with no status).
STATUS_SQL = (
    "SELECT pg_is_in_recovery(), "
    "EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE COALESCE(status, 'streaming') = 'streaming'), "
    "CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END"
)

_wanted: ContextVar[bool] = ContextVar("replica_reads_wanted", default=False)


@dataclass(frozen=True)
class Health:
    usable: bool
    reason: str
    lag_seconds: float | None
    checked_at: float


_health: Health | None = None
_health_lock = threading.Lock()


def configured() -> bool:
    return REPLICA in connections.settings


def forget_health() -> None:
    """Check the replica again at its next use."""
    global _health
    with _health_lock:
        _health = None


def _mark(usable: bool, reason: str, lag: float | None) -> Health:
    global _health
    health = Health(usable, reason, lag, time.monotonic())
    with _health_lock:
        _health = health
    return health


def check() -> Health:
    """Ask the replica how it is, now."""
    replica = connections[REPLICA]
    try:
        with replica.cursor() as cursor:
            cursor.execute(STATUS_SQL)
            in_recovery, streaming, lag = cursor.fetchone()
    except DatabaseError as error:
        replica.close()
        return _mark(False, f"down: {str(error).strip().splitlines()[0] if str(error).strip() else error!r}", None)
    lag = float(lag)
    if not in_recovery:
        return _mark(False, "not a standby", None)
    if not streaming:
        return _mark(False, "not streaming from its primary", lag)
    if lag > settings.DATABASE_REPLICA_MAX_LAG_SECONDS:
        return _mark(False, f"{lag:.1f} s behind", lag)
    return _mark(True, "streaming", lag)


def health() -> Health | None:
    """The replica's state, checked at most every DATABASE_REPLICA_CHECK_SECONDS; None without a replica."""
    if not configured():
        return None
    known = _health
    if known is not None and time.monotonic() - known.checked_at < settings.DATABASE_REPLICA_CHECK_SECONDS:
        return known
    return check()


def _usable_here() -> bool:
    """A read may go to the replica: it is usable, and the primary's connection is not in a transaction."""
    if connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return False
    known = health()
    return known is not None and known.usable


def _use_replica() -> bool:
    return _wanted.get() and _usable_here()


@contextmanager
def replica_reads() -> Iterator[None]:
    token = _wanted.set(True)
    try:
        yield
    finally:
        _wanted.reset(token)


def reads_from_replica[**P, R](function: Callable[P, R]) -> Callable[P, R]:
    """Run a function that only reads on the replica when it is usable; if it fails there, on the primary."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if not _usable_here():
            return function(*args, **kwargs)
        try:
            with replica_reads():
                return function(*args, **kwargs)
        except DatabaseError as error:
            # Down since the last check, or a query cancelled by the replay (a recovery conflict): the
            # function only reads, so it runs again on the primary.
            replica = connections[REPLICA]
            if replica.connection is None or not replica.is_usable():
                replica.close()
                _mark(False, f"failed a read: {error}", None)
            return function(*args, **kwargs)

    return wrapper


class ReplicaRouter:
    """Reads inside ``reads_from_replica`` go to the replica while it is usable; everything else to the
    primary. Nothing is migrated on the replica (it replays its primary's schema)."""

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return REPLICA if _use_replica() else DEFAULT_DB_ALIAS

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, first: Any, second: Any, **hints: Any) -> bool:
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db != REPLICA
