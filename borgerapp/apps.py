from django.apps import AppConfig


class BorgerappConfig(AppConfig):
    """The citizen app at /app/: an installable, offline-first web app on the public API."""

    name = "borgerapp"
    verbose_name = "Borgerens app"
