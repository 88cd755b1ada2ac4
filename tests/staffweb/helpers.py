"""Logging a browser in to the staff pages without the form (the form has its own tests)."""

from datetime import timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.test import Client
from django.utils import timezone

import tests.matrix  # noqa: F401  (the matrix imports the rows modules first: no circular import)
from backend.models import AccessLogEntry, AppSession
from backend.services.identity import ClientInfo, session_start
from selvbetjening.models import Condition, TrainingAlert
from tests.selvbetjening.matrix_rows import episode, goal  # noqa: F401 — for the tests
from tests.selvbetjening.training_factories import SessionLogFactory, make_plan

SESSION_KEY = "web_session:staff"


def web_client(user: Any, audience: str = AppSession.Audience.STAFF) -> Client:
    """A browser logged in as ``user``: an AppSession, its id in the Django session."""
    client = Client()
    pair = session_start(user=user, audience=audience, client=ClientInfo("127.0.0.1", "pytest"))
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[f"web_session:{audience}"] = str(pair.session.pk)
    session.save()
    # The citizen app's login has a cookie of its own (backend/web_session_cookies.py).
    is_app = audience == AppSession.Audience.CITIZEN
    client.cookies[settings.APP_SESSION_COOKIE_NAME if is_app else settings.SESSION_COOKIE_NAME] = session.session_key
    client.app_session = pair.session  # type: ignore[attr-defined]
    return client


def plan_with_pain_alert(world: Any) -> Any:
    """The world's citizen in training with the team, with a session at pain 8 and its open alert."""
    plan = make_plan(episode=episode(world), title="Styrke og balance")
    log = SessionLogFactory(plan=plan, performed_at=timezone.now() - timedelta(hours=2), pain_before=5, pain_after=8)
    TrainingAlert.objects.create(
        citizen=plan.citizen,
        episode=plan.episode,
        plan=plan,
        session_log=log,
        kind=TrainingAlert.Kind.PAIN_STOP,
        pain=8,
        contact_person=world.staff_in_team,
    )
    return plan


def access_rows(citizen: Any) -> list[AccessLogEntry]:
    return list(AccessLogEntry.objects.filter(citizen=citizen))


def access_log_cleared_for_flush() -> None:
    """A committing test's access-log rows removed before the test database is flushed.

    SQLite's flush deletes row by row, which the access log's delete floor refuses for rows under a year
    old (``backend/0004``); the floor's trigger is lifted for this one statement and put back as it was.
    PostgreSQL's flush truncates, which the row trigger does not see.
    """
    from django.db import connection

    if connection.vendor != "sqlite":
        return
    table = AccessLogEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table])
        triggers = cursor.fetchall()
        for name, _ in triggers:
            cursor.execute(f'DROP TRIGGER "{name}"')
        cursor.execute(f'DELETE FROM "{table}"')  # noqa: S608 — the model's own table name
        for _, sql in triggers:
            cursor.execute(sql)


WALKING_CODE = "6c3f2a55-5b87-4d55-9b6c-0b8b6fb2c5a1"


def listed_conditions() -> None:
    """A small FSIII condition code list: two mobility conditions, one household task, one taken off."""
    for code, display, area, active in (
        (WALKING_CODE, "Gå", "mobility", True),
        ("6c3f2a55-5b87-4d55-9b6c-0b8b6fb2c5a2", "Gå på trapper", "mobility", True),
        ("6c3f2a55-5b87-4d55-9b6c-0b8b6fb2c5a3", "Lave mad", "household", True),
        ("6c3f2a55-5b87-4d55-9b6c-0b8b6fb2c5a4", "Færden i forskellige omgivelser", "mobility", False),
    ):
        Condition.objects.create(code=code, display=display, area=area, active=active)
