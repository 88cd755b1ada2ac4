"""Django's database sessions, read with one SQL statement instead of an ORM query.

Every staff page and every citizen-app request reads its browser session first; compiling the ORM's
``Session.objects.get(...)`` costs several times what the database spends answering it. The statement asks
exactly what the ORM would (the key, and an expiry after now); writing, cycling and deleting sessions are
Django's own.
"""

from typing import Any

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.db.models import Model
from django.utils import timezone

from backend import sql

_statements: dict[tuple[str, type[Model]], str] = {}


def statement(vendor: str, model: type[Model]) -> str:
    """The session's data by its key while unexpired (parameters: the key, now), names from the model."""
    key = (vendor, model)
    if key not in _statements:
        _statements[key] = (
            "SELECT {s.session_data} FROM {s} WHERE {s.session_key} = %s AND {s.expire_date} > %s".format(  # noqa: S608 — names from the model
                **sql.aliases(s=model)
            )
        )
    return _statements[key]


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Any:
        key = self.session_key
        if key is None:
            self._session_key = None
            return None
        model = self.model
        connection = connections[router.db_for_read(model)]
        with connection.cursor() as cursor:
            cursor.execute(
                statement(connection.vendor, model), [key, connection.ops.adapt_datetimefield_value(timezone.now())]
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return model(session_key=key, session_data=row[0])
