"""Mestring's settings with psycopg's connection pool instead of persistent connections.

Django's documentation advises pooling rather than persistent connections under ASGI, where a
persistent connection lives per request and they pile up. The benchmark serves ``config.asgi``
with these settings (scenario ``mestring-asgi-pool``) so that ASGI is measured without paying a new
PostgreSQL connection per request. Needs the ``psycopg_pool`` package; PostgreSQL only.
"""

from config.settings import *  # noqa: F403
from config.settings import DATABASES, env_int

DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
    "min_size": 2,
    "max_size": env_int("BENCH_POOL_SIZE", 8),
    "timeout": 10,
}
