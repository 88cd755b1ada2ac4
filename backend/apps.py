from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class BackendConfig(AppConfig):
    default = True
    name = "backend"
    verbose_name = "Mestring"

    def ready(self) -> None:
        from backend import checks  # noqa: F401  (registers the system checks)


class MestringAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "backend.admin_site.MestringAdminSite"
