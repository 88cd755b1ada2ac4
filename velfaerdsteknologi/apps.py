from django.apps import AppConfig


class VelfaerdsteknologiConfig(AppConfig):
    name = "velfaerdsteknologi"
    verbose_name = "Velfærdsteknologi"

    def ready(self) -> None:
        from backend import care_events
        from velfaerdsteknologi import export  # noqa: F401  (registers the export section)
        from velfaerdsteknologi.services.assignments import assignments_episode_ended

        care_events.on_episode_ended(assignments_episode_ended)
