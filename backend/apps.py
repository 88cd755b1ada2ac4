from django.apps import AppConfig


class BackendConfig(AppConfig):
    name = "backend"
    verbose_name = "Mestring"

    def ready(self) -> None:
        from backend import checks  # noqa: F401  (registers the system checks)
