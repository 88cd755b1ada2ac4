from django.apps import AppConfig


class EffektConfig(AppConfig):
    name = "effekt"
    verbose_name = "Effekt"

    def ready(self) -> None:
        from effekt import fhir  # noqa: F401  (registers the FHIR format of the citizen's export)
