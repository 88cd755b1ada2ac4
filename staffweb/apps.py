from django.apps import AppConfig


class StaffWebConfig(AppConfig):
    name = "staffweb"
    verbose_name = "Medarbejder-web"
