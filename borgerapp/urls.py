from django.urls import path
from django.views.i18n import set_language

from borgerapp import views

app_name = "borgerapp"

urlpatterns = [
    path("", views.shell, name="shell"),
    path("log-ind/", views.login, name="login"),
    path("log-ind/mitid/", views.provider_login, name="provider-login"),
    path("log-ud/", views.logout, name="logout"),
    path("log-ud-alle/", views.logout_everywhere, name="logout-everywhere"),
    path("sprog/", set_language, name="language"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("sw.js", views.service_worker, name="service-worker"),
]
