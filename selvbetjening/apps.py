from django.apps import AppConfig


class SelvbetjeningConfig(AppConfig):
    name = "selvbetjening"
    verbose_name = "Selvbetjening"

    def ready(self) -> None:
        from backend import care_events
        from selvbetjening import export  # noqa: F401  (registers the export section)
        from selvbetjening.selectors.episodes import care_reference_problems

        care_events.on_care_reference_check(care_reference_problems)
