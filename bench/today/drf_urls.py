"""The URL configuration of the DRF comparison: the endpoint under test; anything else is the API's 404."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from backend.problems import problem_response
from bench.today.drf_app import TodayView

urlpatterns = [
    path("api/v1/me/today", TodayView.as_view()),
]


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return problem_response(status=404, code="not_found", title="Not found.")


handler404 = not_found
