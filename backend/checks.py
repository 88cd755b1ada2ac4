"""System checks that keep demo logins and embedded secrets out of production."""

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.db import DatabaseError


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


def assert_safe_to_serve() -> None:
    """Called by the web and worker entry points: refuse to start on demo logins with DEBUG off."""
    errors = demo_login_errors()
    if errors:
        raise SystemExit("Refusing to start: " + "; ".join(f"{error.msg} {error.hint}" for error in errors))
