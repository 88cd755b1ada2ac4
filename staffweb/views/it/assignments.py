"""Assigning a device to a citizen with the consent it needs, installing it, and taking it back."""

from collections.abc import Callable
from uuid import UUID

from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from backend.actors import IT
from backend.errors import ApplicationError, NotFound
from staffweb.views.base import StaffRequest, page, staff_page
from staffweb.views.it.devices import device_page
from staffweb.views.it.forms import AssignForm, add_error, message, refusal
from velfaerdsteknologi import selectors
from velfaerdsteknologi.access import access_assignment, access_device
from velfaerdsteknologi.services import assignments as assignment_services


@staff_page(IT)
def assign(request: StaffRequest, device_id: UUID) -> HttpResponse:
    actor = request.actor
    device = access_device(actor, device_id)
    form = AssignForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                citizen = selectors.citizen_contact_by_cpr(actor, form.cleaned_data["cpr"])
                assignment_services.device_assign(device=device, citizen=citizen, by=actor, **form.service_arguments())
            except NotFound as error:
                add_error(form, error, field="cpr")
            except ApplicationError as error:
                add_error(form, error, form.service_fields())
                status = refusal(error)
            else:
                return HttpResponseRedirect(reverse("staffweb:it:device", args=[device.pk]) + "#assignments-heading")
    context = {"device": device, "form": form, "nav": "it-devices"}
    return page(request, "staffweb/it/assign.html", context, status=status)


def _assignment_step(request: StaffRequest, assignment_id: UUID, step: Callable[..., object]) -> HttpResponse:
    actor = request.actor
    assignment = access_assignment(actor, assignment_id)
    target = reverse("staffweb:it:device", args=[assignment.device_id]) + "#assignments-heading"
    try:
        step(assignment=assignment, by=actor)
    except ApplicationError as error:
        device = access_device(actor, assignment.device_id)
        return device_page(request, device, notice=message(error), status=refusal(error))
    return HttpResponseRedirect(target)


@require_POST
@staff_page(IT)
def install(request: StaffRequest, assignment_id: UUID) -> HttpResponse:
    return _assignment_step(request, assignment_id, assignment_services.assignment_install)


@require_POST
@staff_page(IT)
def give_back(request: StaffRequest, assignment_id: UUID) -> HttpResponse:
    return _assignment_step(request, assignment_id, assignment_services.assignment_return)
