from django.apps import AppConfig


class EffektConfig(AppConfig):
    name = "effekt"
    verbose_name = "Effekt"
