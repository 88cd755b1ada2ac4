"""Taking on and closing a device's alert for IT (a health alert belongs to the care team's pages)."""

from collections.abc import Callable
from uuid import UUID

from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from backend.actors import IT
from backend.errors import ApplicationError
from staffweb.views.base import StaffRequest, staff_page
from staffweb.views.it.devices import device_page
from staffweb.views.it.forms import message, refusal
from velfaerdsteknologi.access import access_alert, access_device
from velfaerdsteknologi.models import AlertAudience
from velfaerdsteknologi.services import alerts as alert_services


def _alert_step(request: StaffRequest, alert_id: UUID, step: Callable[..., object]) -> HttpResponse:
    actor = request.actor
    alert = access_alert(actor, alert_id)
    if alert.audience != AlertAudience.IT:
        raise Http404
    try:
        step(alert=alert, by=actor)
    except ApplicationError as error:
        device = access_device(actor, alert.device_id)
        return device_page(request, device, notice=message(error), status=refusal(error))
    return HttpResponseRedirect(reverse("staffweb:it:device", args=[alert.device_id]) + "#alerts-heading")


@require_POST
@staff_page(IT)
def acknowledge(request: StaffRequest, alert_id: UUID) -> HttpResponse:
    return _alert_step(request, alert_id, alert_services.alert_acknowledge)


@require_POST
@staff_page(IT)
def resolve(request: StaffRequest, alert_id: UUID) -> HttpResponse:
    return _alert_step(request, alert_id, alert_services.alert_resolve)
