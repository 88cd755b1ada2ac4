from django.apps import AppConfig


class SelvbetjeningConfig(AppConfig):
    name = "selvbetjening"
    verbose_name = "Selvbetjening"

    def ready(self) -> None:
        from selvbetjening import export  # noqa: F401  (registers the export section)
