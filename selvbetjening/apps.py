from django.apps import AppConfig


class SelvbetjeningConfig(AppConfig):
    name = "selvbetjening"
