from typing import Any

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db import connections
from django.db.models.signals import post_migrate


def synchronise_access_triggers(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """After every ``migrate`` (and test-database flush): the access triggers as the declaration has them."""
    from backend.access import triggers

    triggers.synchronise(connections[using])


class BackendConfig(AppConfig):
    default = True
    name = "backend"
    verbose_name = "Mestring"

    def ready(self) -> None:
        from backend import checks  # noqa: F401  (registers the system checks)

        post_migrate.connect(synchronise_access_triggers, sender=self, dispatch_uid="mestring-access-triggers")


class MestringAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "backend.admin_site.MestringAdminSite"
