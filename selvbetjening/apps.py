from django.apps import AppConfig


class SelvbetjeningConfig(AppConfig):
    name = "selvbetjening"
    verbose_name = "Selvbetjening"

    def ready(self) -> None:
        from backend import care_links
        from backend.access import on_granted_citizens
        from selvbetjening import export  # noqa: F401  (registers the export section)
        from selvbetjening.care_links import open_episodes
        from selvbetjening.selectors.network import citizens_granted_to

        care_links.provide_open_episodes(open_episodes)
        on_granted_citizens(citizens_granted_to)
