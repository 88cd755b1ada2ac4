"""Django's database sessions, read with one SQL statement instead of an ORM query.

Every staff page and every citizen-app request reads its browser session first; compiling the ORM's
``Session.objects.get(...)`` costs several times what the database spends answering it. The statement asks
exactly what the ORM would (the key, and an expiry after now); writing, cycling and deleting sessions are
Django's own.
"""

from typing import Any

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Any:
        key = self.session_key
        if key is None:
            self._session_key = None
            return None
        model = self.model
        connection = connections[router.db_for_read(model)]
        meta = model._meta

        def quote(name: str | None) -> str:
            return connection.ops.quote_name(str(name))

        statement = (
            f"SELECT {quote(meta.get_field('session_data').column)} FROM {quote(meta.db_table)} "  # noqa: S608
            f"WHERE {quote(meta.get_field('session_key').column)} = %s "
            f"AND {quote(meta.get_field('expire_date').column)} > %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(statement, [key, connection.ops.adapt_datetimefield_value(timezone.now())])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return model(session_key=key, session_data=row[0])
