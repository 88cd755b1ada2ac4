"""The device register, a device's page, registering a device, moving it in its lifecycle and its credentials."""

from uuid import UUID

from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from backend.actors import IT
from backend.errors import ApplicationError, InvalidInput
from staffweb.views.base import StaffRequest, page, staff_page
from staffweb.views.it import charts, present
from staffweb.views.it.forms import (
    AssignForm,
    ConsentForm,
    CprSearchForm,
    DeviceChangeForm,
    DeviceForm,
    RegisterFilterForm,
    TransitionForm,
    add_error,
    message,
    refusal,
)
from velfaerdsteknologi import selectors
from velfaerdsteknologi.access import access_device
from velfaerdsteknologi.models import Assignment, Device, DeviceStatus
from velfaerdsteknologi.services import devices as device_services

PAGE_SIZE = 25


@staff_page(IT)
def register(request: StaffRequest) -> HttpResponse:
    """The register: filters in the address line (GET), or a CPR number in the body (POST), never in the URL."""
    actor = request.actor
    models = selectors.device_model_choices()
    # The categories the catalogue's models have (a category without models finds no device): one query less.
    categories = sorted({(model.category_code, present.category_name(model)) for model in models}, key=lambda c: c[1])
    form = RegisterFilterForm(request.GET, categories=categories, models=models)
    cpr_form = CprSearchForm(request.POST or None)
    devices: list[Device] = []
    next_cursor = None
    searched_cpr = False
    if request.method == "POST":
        if cpr_form.is_valid():
            searched_cpr = True
            try:
                citizens = selectors.citizens_with_cpr(actor, cpr_form.cleaned_data["cpr"])
                devices, next_cursor = selectors.devices_register_page(
                    actor, cursor=None, limit=PAGE_SIZE, citizens=citizens
                )
            except InvalidInput as error:
                add_error(cpr_form, error)
    elif form.is_valid():
        filters = form.filters()
        name = form.cleaned_data.get("citizen_name")
        if name:
            filters["citizens"] = selectors.citizens_named(actor, name)
        try:
            devices, next_cursor = selectors.devices_register_page(
                actor, cursor=form.cleaned_data.get("cursor") or None, limit=PAGE_SIZE, sort=form.chosen_sort, **filters
            )
        except InvalidInput as error:
            add_error(form, error)
    context = {
        "form": form,
        "cpr_form": cpr_form,
        "devices": present.register_rows(devices, models) if devices else "",
        "next_cursor": next_cursor,
        "searched_cpr": searched_cpr,
        "next_query": _next_query(request, next_cursor),
        "nav": "it-devices",
    }
    status = 422 if cpr_form.errors else 200
    return page(request, "staffweb/it/register.html", context, status=status)


def _next_query(request: StaffRequest, next_cursor: str | None) -> str:
    if not next_cursor or request.method != "GET":
        return ""
    query = request.GET.copy()
    query["cursor"] = next_cursor
    return query.urlencode()


def device_page(
    request: StaffRequest,
    device: Device,
    *,
    transition_form: TransitionForm | None = None,
    credential_token: str = "",
    credential_error: str = "",
    notice: str = "",
    consent_form: ConsentForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The device's page, with a refused form or a refusal (``notice``) where there is one."""
    overview = selectors.device_overview(request.actor, device)
    context = {
        "overview": overview,
        "transitions": present.transitions(overview.transitions),
        "maintenance": present.maintenance(overview.maintenance),
        "alerts": present.alerts(overview.alerts),
        "device": overview.device,
        "transition_form": transition_form or TransitionForm(current_status=device.status),
        "assign_form": AssignForm() if device.status == DeviceStatus.IN_STOCK else None,
        "battery_chart": charts.battery(overview.telemetry),
        "activity_chart": charts.activity(overview.telemetry),
        "credential_token": credential_token,
        "credential_error": credential_error,
        "notice": notice,
        "consent_form": _consent_form(overview.active_assignment, consent_form),
        "nav": "it-devices",
    }
    return page(request, "staffweb/it/device.html", context, status=status)


def _consent_form(assignment: Assignment | None, refused: ConsentForm | None) -> ConsentForm | None:
    """The form to record or renew the active assignment's consent: the refused one with its errors, else one
    filled in with what is recorded now."""
    if assignment is None:
        return None
    if refused is not None:
        return refused
    initial = {
        "consent_basis": assignment.consent_basis,
        "consent_reference": assignment.consent_reference,
        "consent_review_on": assignment.consent_review_on,
    }
    return ConsentForm(initial=initial, prefix=f"consent-{assignment.pk}")


@staff_page(IT)
def device_detail(request: StaffRequest, device_id: UUID) -> HttpResponse:
    return device_page(request, access_device(request.actor, device_id))


@staff_page(IT)
def device_new(request: StaffRequest) -> HttpResponse:
    actor = request.actor
    form = DeviceForm(request.POST or None, models=selectors.device_models_all())
    status = 200
    if request.method == "POST":
        if form.is_valid():
            assert actor.staff is not None
            try:
                device = device_services.device_register(
                    municipality=actor.staff.municipality,
                    device_model=form.device_model(),
                    by=actor.user,
                    **form.service_arguments(),
                )
            except ApplicationError as error:
                add_error(form, error)
                status = refusal(error)
            else:
                return HttpResponseRedirect(reverse("staffweb:it:device", args=[device.pk]))
        else:
            status = 422
    return page(request, "staffweb/it/device_new.html", {"form": form, "nav": "it-devices"}, status=status)


@staff_page(IT)
def device_change(request: StaffRequest, device_id: UUID) -> HttpResponse:
    actor = request.actor
    device = access_device(actor, device_id)
    initial = {name: getattr(device, name) for name in DeviceChangeForm.base_fields}
    form = DeviceChangeForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                device_services.device_update(device=device, changes=form.changes())
            except ApplicationError as error:
                add_error(form, error)
                status = refusal(error)
            else:
                return HttpResponseRedirect(reverse("staffweb:it:device", args=[device.pk]))
    context = {"device": device, "form": form, "nav": "it-devices"}
    return page(request, "staffweb/it/device_change.html", context, status=status)


@require_POST
@staff_page(IT)
def device_transition(request: StaffRequest, device_id: UUID) -> HttpResponse:
    actor = request.actor
    device = access_device(actor, device_id)
    form = TransitionForm(request.POST, current_status=device.status)
    if not form.is_valid():
        return device_page(request, device, transition_form=form, status=422)
    try:
        device_services.device_transition(
            device=device, to_status=form.cleaned_data["to_status"], by=actor.user, reason=form.cleaned_data["reason"]
        )
    except ApplicationError as error:
        add_error(form, error)
        return device_page(request, access_device(actor, device_id), transition_form=form, status=refusal(error))
    return HttpResponseRedirect(reverse("staffweb:it:device", args=[device.pk]) + "#lifecycle-heading")


@require_POST
@staff_page(IT)
def device_credential(request: StaffRequest, device_id: UUID) -> HttpResponse:
    """Issue or rotate the device's token. The token is in this one response only (not stored in clear, not
    put in a redirect); the page is not cached."""
    actor = request.actor
    device = access_device(actor, device_id)
    try:
        _, token = device_services.device_credential_rotate(device=device, by=actor.user)
    except ApplicationError as error:
        return device_page(request, device, credential_error=message(error), status=refusal(error))
    response = device_page(request, access_device(actor, device_id), credential_token=token)
    response["Cache-Control"] = "no-store"
    return response
