"""Mit team: the team's citizens in training, most urgent first, with the reasons in words."""

from django.http import HttpResponse

from backend.actors import CARE
from backend.errors import InvalidInput
from selvbetjening.selectors import caseload as caseload_reads
from staffweb.forms import TriageFilterForm, add_error
from staffweb.present import triage_cards
from staffweb.selectors import contact_people
from staffweb.views.base import StaffRequest, page, staff_page

PAGE_SIZE = 25


@staff_page(CARE)
def triage(request: StaffRequest) -> HttpResponse:
    actor = request.actor
    teams = [membership.team for membership in actor.memberships if membership.role in CARE]
    form = TriageFilterForm(request.GET, teams=teams)
    asked = form.team_asked_for()
    if asked is not None:
        form.offer_contact_people(contact_people(asked))
    caseload = None
    team = None
    if form.is_valid():
        team = form.chosen_team()
        try:
            # The access log: the caseload's access function logs one row per citizen shown.
            team, caseload = caseload_reads.team_caseload_for(
                actor,
                team.pk,
                sort=form.cleaned_data.get("sort") or "status",
                cursor=form.cleaned_data.get("cursor") or None,
                limit=PAGE_SIZE,
                contact_person=form.cleaned_data.get("contact_person") or None,
                reason=form.cleaned_data.get("reason") or None,
            )
        except InvalidInput as error:
            add_error(form, error, {field: field for field in ("cursor", "sort", "contact_person", "reason")})
    rows = caseload.rows if caseload is not None else []
    context = {
        "form": form,
        "team": team,
        "cards": triage_cards(rows),
        "next_cursor": caseload.next_cursor if caseload is not None else None,
        "computed_at": caseload.moments.now if caseload is not None else None,
        "nav": "triage",
    }
    template = "staffweb/triage.html#caseload" if request.htmx else "staffweb/triage.html"  # type: ignore[attr-defined]
    return page(request, template, context)
