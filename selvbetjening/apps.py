from django.apps import AppConfig


class SelvbetjeningConfig(AppConfig):
    name = "selvbetjening"
    verbose_name = "Selvbetjening"

    def ready(self) -> None:
        from backend import care_links
        from selvbetjening import export  # noqa: F401  (registers the export section)
        from selvbetjening.care_links import open_episodes

        care_links.provide_open_episodes(open_episodes)
