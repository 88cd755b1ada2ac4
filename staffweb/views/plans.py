"""Changing a training plan's dosage: a new version of the plan, with the reason."""

from uuid import UUID

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from backend.actors import CARE
from backend.concurrency import StaleVersion
from backend.errors import ApplicationError
from selvbetjening.access import plans as plan_access
from selvbetjening.models import TrainingPlan
from selvbetjening.services import plans as plan_services
from staffweb import problems
from staffweb.forms import DosageForm, PlanStatusForm, add_error
from staffweb.views.base import StaffRequest, page, shown, staff_page


@staff_page(CARE)
def plan_dosage(request: StaffRequest, plan_id: UUID) -> HttpResponse:
    actor = request.actor
    plan = plan_access.access_training_plan_for_change(actor, plan_id, reads=shown(request, plan_services.RESOURCE))
    items = list(plan.current_version.exercises.all()) if plan.current_version else []
    form = DosageForm(request.POST or None, items=items, initial={"version": plan.version})
    status = 200
    conflict = ""
    if request.method == "POST" and form.is_valid():
        try:
            plan_services.training_plan_revise(
                plan=plan,
                by=actor,
                version=form.cleaned_data["version"],
                exercises=form.exercises(),
                change_note=form.cleaned_data["change_note"],
            )
        except StaleVersion as error:
            # Someone else changed the plan: say so, and show the version now in force.
            plan = plan_access.access_training_plan_for_change(actor, plan_id, reads=plan_services.RESOURCE)
            items = list(plan.current_version.exercises.all()) if plan.current_version else []
            form = DosageForm(items=items, initial={"version": plan.version})
            conflict = problems.message(error)
            status = 409
        except ApplicationError as error:
            add_error(form, error, form.service_fields())
            status = 422
        else:
            return HttpResponseRedirect(reverse("staffweb:citizen", args=[plan.citizen_id]) + "#plans-heading")
    elif request.method == "POST":
        status = 422
    if request.method == "POST" and not conflict:
        # Shown again after a refused change: the access function logs the one citizen shown.
        plan = plan_access.access_training_plan_for_change(actor, plan_id, reads=plan_services.RESOURCE)
    context = {"plan": plan, "form": form, "conflict": conflict, "nav": "triage"}
    return page(request, "staffweb/plan_dosage.html", context, status=status)


@require_POST
@staff_page(CARE)
def plan_status(request: StaffRequest, plan_id: UUID) -> HttpResponse:
    """Pause, resume or end a plan; the outcome, or why not, is said on the citizen page."""
    plan = plan_access.access_training_plan_for_change(request.actor, plan_id)
    form = PlanStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, problems.text("invalid"))
    else:
        try:
            plan_services.training_plan_update(
                plan=plan, by=request.actor, version=form.cleaned_data["version"], status=form.cleaned_data["status"]
            )
        except ApplicationError as error:
            messages.error(request, problems.message(error))
        else:
            messages.success(request, STATUS_DONE[form.cleaned_data["status"]])
    return HttpResponseRedirect(reverse("staffweb:citizen", args=[plan.citizen_id]) + "#plans-heading")


STATUS_DONE = {
    TrainingPlan.Status.ACTIVE: _("Træningsplanen er genoptaget."),
    TrainingPlan.Status.PAUSED: _("Træningsplanen er sat på pause."),
    TrainingPlan.Status.ENDED: _("Træningsplanen er afsluttet."),
}
