"""The citizen page: episode, goals and ratings, plan with its versions and progression decisions, the
network, devices, adherence, pain and effort, sessions, questionnaires and requests."""

from uuid import UUID

from django.http import HttpResponse
from django.utils import timezone

from backend.actors import CARE
from staffweb import charts, present
from staffweb.selectors import citizen_overview
from staffweb.views.base import StaffRequest, page, staff_page


@staff_page(CARE)
def citizen(request: StaffRequest, citizen_id: UUID) -> HttpResponse:
    # The access log: citizen_overview's access function logs the one citizen shown.
    overview = citizen_overview(request.actor, citizen_id)
    context = {
        "overview": overview,
        "pain_chart": charts.pain_and_effort(overview.adherence.days),
        "adherence_chart": charts.weekly_adherence(overview.adherence.weeks),
        "network": present.network_lines(overview.network, timezone.now()),
        "nav": "triage",
    }
    return page(request, "staffweb/citizen.html", context)
