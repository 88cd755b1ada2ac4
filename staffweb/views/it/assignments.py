"""Assigning a device to a citizen with the consent it needs, installing it, and taking it back."""

from collections.abc import Callable
from contextlib import suppress
from uuid import UUID

from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from backend import care_links
from backend.actors import IT
from backend.errors import ApplicationError, NotFound
from staffweb.views.base import StaffRequest, page, staff_page
from staffweb.views.it.devices import device_page
from staffweb.views.it.forms import AssignForm, ConsentForm, CprSearchForm, add_error, message, refusal
from velfaerdsteknologi import selectors
from velfaerdsteknologi.access import access_assignment, access_device
from velfaerdsteknologi.services import assignments as assignment_services


@staff_page(IT)
def assign(request: StaffRequest, device_id: UUID) -> HttpResponse:
    """Two steps in one form: "Find borgeren" looks the CPR number up (in the body) and shows who it is, with the
    citizen's running episodes and their goals to choose from; "Tildel" assigns."""
    actor = request.actor
    device = access_device(actor, device_id)
    form = AssignForm()
    citizen = None
    status = 200
    if request.method == "POST":
        lookup = CprSearchForm(request.POST)
        if lookup.is_valid():
            # Shown to confirm who it is: the read is logged.
            with suppress(NotFound):
                citizen = selectors.citizen_contact_by_cpr(actor, lookup.cleaned_data["cpr"])
        episodes = care_links.open_episodes(citizen.pk) if citizen is not None else []
        form = AssignForm(request.POST, episodes=episodes)
        if form.is_valid() and citizen is None:
            form.add_error("cpr", message(NotFound()))
        if form.errors:
            status = 422
        elif citizen is not None and request.POST.get("action") != "find":
            try:
                assignment_services.device_assign(device=device, citizen=citizen, by=actor, **form.service_arguments())
            except ApplicationError as error:
                add_error(form, error, form.service_fields())
                status = refusal(error)
            else:
                return HttpResponseRedirect(reverse("staffweb:it:device", args=[device.pk]) + "#assignments-heading")
    context = {"device": device, "form": form, "citizen": citizen, "nav": "it-devices"}
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
def consent(request: StaffRequest, assignment_id: UUID) -> HttpResponse:
    """Record or renew the consent or legal basis of an assignment, with its next review date."""
    actor = request.actor
    assignment = access_assignment(actor, assignment_id)
    form = ConsentForm(request.POST, prefix=f"consent-{assignment.pk}")
    status = 422
    if form.is_valid():
        try:
            assignment_services.assignment_consent_record(assignment=assignment, by=actor, **form.service_arguments())
        except ApplicationError as error:
            add_error(form, error, form.service_fields())
            status = refusal(error)
        else:
            target = reverse("staffweb:it:device", args=[assignment.device_id])
            return HttpResponseRedirect(target + "#assignments-heading")
    device = access_device(actor, assignment.device_id)
    return device_page(request, device, consent_form=form, status=status)


@require_POST
@staff_page(IT)
def install(request: StaffRequest, assignment_id: UUID) -> HttpResponse:
    return _assignment_step(request, assignment_id, assignment_services.assignment_install)


@require_POST
@staff_page(IT)
def give_back(request: StaffRequest, assignment_id: UUID) -> HttpResponse:
    return _assignment_step(request, assignment_id, assignment_services.assignment_return)
