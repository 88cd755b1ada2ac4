from django.apps import AppConfig


class VelfaerdsteknologiConfig(AppConfig):
    name = "velfaerdsteknologi"
    verbose_name = "Velfærdsteknologi"
