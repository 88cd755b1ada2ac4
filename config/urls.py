from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import TemplateView

from backend.health import healthz, readyz
from backend.problems import problem_response
from backend.routers.auth import web_login_start
from config.api import api
from staffweb.views.errors import not_found as staff_not_found


def staff_web_login(request: HttpRequest) -> HttpResponse:
    return web_login_start(request, "staff", request.GET.get("next", "/admin/"))


urlpatterns = [
    path("", TemplateView.as_view(template_name="landing.html"), name="landing"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("auth/staff/login", staff_web_login, name="staff-web-login"),
    path("staff/", include("staffweb.urls")),
    path("app/", include("borgerapp.urls")),
    path("healthz", healthz),
    path("readyz", readyz),
    # Any other /api/ path is a problem 404, also for an unsafe method from a browser (the API's own
    # operations check CSRF themselves where a cookie login allows it).
    re_path(r"^api/", csrf_exempt(lambda request, *args, **kwargs: not_found(request, Exception()))),
]


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/staff/"):
        return staff_not_found(request)
    return problem_response(status=404, code="not_found", title="Not found.")


def server_error(request: HttpRequest) -> HttpResponse:
    return problem_response(status=500, code="internal_error", title="Something went wrong on our side.")


handler404 = not_found
handler500 = server_error
