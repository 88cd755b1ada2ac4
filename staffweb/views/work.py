"""Work lists: training and device alerts to acknowledge and resolve, evaluation tasks, and on duty."""

from uuid import UUID

from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from backend.access import access_care_team
from backend.actors import CARE
from backend.errors import ApplicationError
from backend.services import duty as duty_services
from selvbetjening.access import alerts as alert_access
from selvbetjening.services import training_alerts as training_alert_services
from staffweb import problems
from staffweb.access import access_work_lists
from staffweb.forms import ResolveForm
from staffweb.present import device_troubles
from staffweb.views.base import StaffRequest, page, staff_page
from velfaerdsteknologi.access import access_alert
from velfaerdsteknologi.services import alerts as device_alert_services


def _work(request: StaffRequest, *, problem: str = "", form: ResolveForm | None = None, status: int = 200):
    # The access log: the work list's access function logs one row per citizen shown.
    lists = access_work_lists(request.actor)
    context = {
        "lists": lists,
        "device_troubles": device_troubles(lists.device_troubles),
        "problem": problem,
        "resolve_form": form,
        "nav": "work",
    }
    return page(request, "staffweb/work.html", context, status=status)


@staff_page(CARE)
def work(request: StaffRequest) -> HttpResponse:
    return _work(request)


def _done() -> HttpResponse:
    return HttpResponseRedirect(reverse("staffweb:work"))


@require_POST
@staff_page(CARE)
def training_alert_acknowledge(request: StaffRequest, alert_id: UUID) -> HttpResponse:
    alert = alert_access.access_training_alert_for_change(request.actor, alert_id)
    try:
        training_alert_services.training_alert_acknowledge(alert=alert, by=request.actor)
    except ApplicationError as error:
        return _work(request, problem=problems.message(error), status=409)
    return _done()


@require_POST
@staff_page(CARE)
def training_alert_resolve(request: StaffRequest, alert_id: UUID) -> HttpResponse:
    alert = alert_access.access_training_alert_for_change(request.actor, alert_id)
    form = ResolveForm(request.POST, prefix=str(alert.pk))
    if not form.is_valid():
        return _work(request, form=form, status=422)
    try:
        training_alert_services.training_alert_resolve(alert=alert, by=request.actor, note=form.cleaned_data["note"])
    except ApplicationError as error:
        return _work(request, problem=problems.message(error), status=409)
    return _done()


@require_POST
@staff_page(CARE)
def device_alert_change(request: StaffRequest, alert_id: UUID, action: str) -> HttpResponse:
    alert = access_alert(request.actor, alert_id)
    try:
        if action == "acknowledge":
            device_alert_services.alert_acknowledge(alert=alert, by=request.actor)
        else:
            device_alert_services.alert_resolve(alert=alert, by=request.actor)
    except ApplicationError as error:
        return _work(request, problem=problems.message(error), status=409)
    return _done()


@require_POST
@staff_page(CARE)
def duty(request: StaffRequest, team_id: UUID) -> HttpResponse:
    team = access_care_team(request.actor, team_id)
    if request.POST.get("on") == "1":
        duty_services.duty_start(actor=request.actor, team=team)
    else:
        duty_services.duty_end(actor=request.actor, team=team)
    return _done()
