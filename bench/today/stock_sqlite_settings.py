"""Mestring's settings on Django's stock SQLite engine: writers wait in SQLite's own busy handler.

The embedded mode's "before" for the latency comparison of ``bench.today``: the same code, middleware and
database options (WAL, ``IMMEDIATE`` transactions, the busy timeout), without the engine that queues
writers on a file lock (``backend.dbengines.sqlite``).
"""

from config.settings import *  # noqa: F403
from config.settings import DATABASES

DATABASES["default"]["ENGINE"] = "django.db.backends.sqlite3"
