"""The team leader's page: the team's members and who is on duty now."""

from django.http import HttpResponse

from staffweb.selectors import teams_led_by
from staffweb.views.base import TEAM_LEAD, StaffRequest, page, staff_page


@staff_page(TEAM_LEAD)
def team(request: StaffRequest) -> HttpResponse:
    return page(request, "staffweb/team.html", {"teams": teams_led_by(request.actor), "nav": "team"})
