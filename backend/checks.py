"""System checks that keep demo logins and embedded secrets out of production, and the database's access
triggers in step with the access declaration."""

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.db import DatabaseError, OperationalError, ProgrammingError


def demo_login_errors() -> list[Error]:
    if settings.DEBUG:
        return []
    errors: list[Error] = []
    from backend.models import User

    try:
        has_demo_users = User.objects.filter(is_demo=True, is_active=True).exists()
    except DatabaseError:
        return errors  # no database yet (e.g. before the first migrate): nothing to refuse
    if has_demo_users:
        errors.append(
            Error(
                "Demo logins exist and DEBUG is off.",
                hint="Run 'manage.py seed_demo --remove' or deactivate the demo users before serving.",
                id="mestring.E001",
            )
        )
    return errors


@register(Tags.security, deploy=False)
def check_demo_logins(app_configs: Any, **kwargs: Any) -> list[Error]:
    if not kwargs.get("databases"):
        return []
    return demo_login_errors()


def _fully_migrated(connection: Any) -> bool:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    return not executor.migration_plan(executor.loader.graph.leaf_nodes())


@register("access")
def check_access_triggers(app_configs: Any, **kwargs: Any) -> list[Error]:
    """The database's access triggers are the declaration's (``backend.access.triggers``): checked by
    ``manage.py check`` on every database it is given, or on the default one, once it is fully migrated
    (``migrate`` itself installs them at its end)."""
    from django.db import connections

    from backend.access import triggers

    errors: list[Error] = []
    for alias in kwargs.get("databases") or ["default"]:
        connection = connections[alias]
        try:
            if not _fully_migrated(connection):
                continue
        except (OperationalError, ProgrammingError):
            continue  # no database to compare with yet: none to connect to, or not migrated
        try:
            found = triggers.differences(connection)
        except DatabaseError as exc:
            # A migrated database whose triggers cannot be read (one they are not written for, a refused
            # query): the websocket hub cannot rely on it, so say so.
            errors.append(
                Error(
                    f"The access triggers of database '{alias}' could not be compared with the access "
                    f"declaration: {exc}",
                    hint="The access version triggers are written for PostgreSQL and SQLite.",
                    id="mestring.E003",
                )
            )
            continue
        if found:
            errors.append(
                Error(
                    f"The access triggers of database '{alias}' do not match the access declaration: "
                    + "; ".join(found)
                    + ".",
                    hint="Run 'manage.py migrate', which installs the declared triggers.",
                    id="mestring.E002",
                )
            )
    return errors


def assert_safe_to_serve() -> None:
    """Called by the web and worker entry points: refuse to start on demo logins with DEBUG off."""
    errors = demo_login_errors()
    if errors:
        raise SystemExit("Refusing to start: " + "; ".join(f"{error.msg} {error.hint}" for error in errors))
