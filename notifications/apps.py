from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self) -> None:
        from backend.partitions import register
        from notifications.partitioning import HISTORY_TABLES

        register(*HISTORY_TABLES)
