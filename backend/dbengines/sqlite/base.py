"""SQLite for the embedded mode, with writers queued instead of polling.

SQLite lets one connection write at a time. A writer that finds the database locked is left to SQLite's
busy handler, which sleeps in growing steps (up to 100 ms) and tries again: with a dozen requests each
writing its access-log row, waiters oversleep releases and the unlucky ones retry for a second. Here every
write — a transaction (begun ``IMMEDIATE``) or a single write statement under autocommit — first takes a
process-shared lock on a file next to the database (``flock``), held until the commit or rollback. The
kernel hands the lock to the next waiter as soon as it is released, so a write waits only as long as the
writes before it take, and SQLite's busy handler is left for writers that do not use this engine.

Threads of one process queue on a ``threading.Lock`` first, so at most one thread per process polls the
file lock; the wait is bounded by the database's ``timeout`` option, after which the write fails with
SQLite's own "database is locked".
"""

import fcntl
import os
import sqlite3
import threading
import time
from typing import Any

from django.db.backends.sqlite3 import base

WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "REPLACE")
# Polling of the file lock by the one waiting thread of a process: short sleeps, growing to a small cap.
FIRST_SLEEP_SECONDS = 0.0002
MAX_SLEEP_SECONDS = 0.002

_process_locks: dict[str, threading.Lock] = {}
_process_locks_guard = threading.Lock()


def _process_lock(path: str) -> threading.Lock:
    with _process_locks_guard:
        return _process_locks.setdefault(path, threading.Lock())


def is_write(sql: str) -> bool:
    return sql.lstrip()[:7].upper().startswith(WRITE_VERBS)


class WriteQueue:
    """The write lock of one database file, taken by one connection at a time."""

    def __init__(self, database_path: str, timeout: float) -> None:
        self.path = f"{database_path}-writelock"
        self.timeout = timeout
        self.thread_lock = _process_lock(self.path)
        self.fd: int | None = None
        self.held = False

    def acquire(self) -> None:
        if self.held:
            return
        deadline = time.monotonic() + self.timeout
        if not self.thread_lock.acquire(timeout=self.timeout):
            raise sqlite3.OperationalError("database is locked")
        try:
            if self.fd is None:
                self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            sleep = FIRST_SLEEP_SECONDS
            while True:
                try:
                    fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise sqlite3.OperationalError("database is locked") from None
                    time.sleep(sleep)
                    sleep = min(sleep * 2, MAX_SLEEP_SECONDS)
        except BaseException:
            self.thread_lock.release()
            raise
        self.held = True

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        try:
            if self.fd is not None:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            self.thread_lock.release()

    def close(self) -> None:
        self.release()
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class QueuedWriteCursor(base.SQLiteCursorWrapper):
    """Takes the write lock around a write statement run under autocommit (inside a transaction the
    transaction holds it already)."""

    queue: WriteQueue | None = None

    def execute(self, query: str, params: Any = None) -> Any:
        queue = self.queue
        if queue is None or queue.held or not is_write(query):
            return super().execute(query, params)
        queue.acquire()
        try:
            return super().execute(query, params)
        finally:
            queue.release()

    def executemany(self, query: str, param_list: Any) -> Any:
        queue = self.queue
        if queue is None or queue.held or not is_write(query):
            return super().executemany(query, param_list)
        queue.acquire()
        try:
            return super().executemany(query, param_list)
        finally:
            queue.release()


class DatabaseWrapper(base.DatabaseWrapper):
    write_queue: WriteQueue | None = None

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        connection = super().get_new_connection(conn_params)
        if self.write_queue is not None:
            self.write_queue.close()
        self.write_queue = None
        if not self.is_in_memory_db():
            timeout = float(self.settings_dict["OPTIONS"].get("timeout", 5))
            self.write_queue = WriteQueue(os.fspath(self.settings_dict["NAME"]), timeout)
        return connection

    def create_cursor(self, name: str | None = None) -> Any:
        cursor = self.connection.cursor(factory=QueuedWriteCursor)
        cursor.queue = self.write_queue
        return cursor

    def _start_transaction_under_autocommit(self) -> None:
        if self.write_queue is None:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]  # not in django-stubs
            return
        self.write_queue.acquire()
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]  # not in django-stubs
        except BaseException:
            self.write_queue.release()
            raise

    def _commit(self) -> None:
        try:
            super()._commit()  # type: ignore[misc]  # not in django-stubs
        finally:
            if self.write_queue is not None and not self.in_atomic_block:
                self.write_queue.release()

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]  # not in django-stubs
        finally:
            if self.write_queue is not None and not self.in_atomic_block:
                self.write_queue.release()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]  # not in django-stubs
        finally:
            if self.write_queue is not None:
                self.write_queue.close()
                self.write_queue = None
