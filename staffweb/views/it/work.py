"""IT's work lists: maintenance due, overdue and done (completing a test call, a service or a battery check), and
devices to fetch back from citizens."""

from uuid import UUID

from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from backend.actors import IT
from backend.errors import ApplicationError, InvalidInput
from staffweb.views.base import StaffRequest, page, staff_page
from staffweb.views.it import present
from staffweb.views.it.forms import CompleteForm, message, refusal
from velfaerdsteknologi import selectors
from velfaerdsteknologi.access import access_maintenance_task
from velfaerdsteknologi.services import maintenance as maintenance_services

PAGE_SIZE = 50
VIEWS = {"due": _("Kommende 30 dage"), "overdue": _("Overskredet"), "done": _("Udført")}


def _maintenance_page(request: StaffRequest, *, notice: str = "", status: int = 200) -> HttpResponse:
    actor = request.actor
    view = request.GET.get("vis", "due")
    view = view if view in VIEWS else "due"
    cursor = request.GET.get("cursor") or None
    try:
        if view == "done":
            items, next_cursor = selectors.maintenance_done_page(actor, cursor=cursor, limit=PAGE_SIZE)
        else:
            items, next_cursor = selectors.maintenance_due_page(
                actor, cursor=cursor, limit=PAGE_SIZE, overdue_only=view == "overdue"
            )
    except InvalidInput as error:
        items, next_cursor, notice, status = [], None, message(error), 200
    context = {
        "items": present.maintenance(items),
        "next_cursor": next_cursor,
        "view": view,
        "views": VIEWS,
        "form": CompleteForm(),
        "notice": notice,
        "nav": "it-maintenance",
    }
    return page(request, "staffweb/it/maintenance.html", context, status=status)


@staff_page(IT)
def maintenance(request: StaffRequest) -> HttpResponse:
    return _maintenance_page(request)


@require_POST
@staff_page(IT)
def maintenance_complete(request: StaffRequest, task_id: UUID) -> HttpResponse:
    actor = request.actor
    task = access_maintenance_task(actor, task_id)
    form = CompleteForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(str(error) for errors in form.errors.values() for error in errors)
        notice = gettext("Opgaven blev ikke registreret: %(errors)s") % {"errors": errors}
        return _maintenance_page(request, notice=notice, status=422)
    try:
        maintenance_services.maintenance_complete(task=task, by=actor.user, **form.validated.model_dump())
    except ApplicationError as error:
        return _maintenance_page(request, notice=message(error), status=refusal(error))
    return HttpResponseRedirect(reverse("staffweb:it:maintenance") + "?vis=done")


@staff_page(IT)
def returns(request: StaffRequest) -> HttpResponse:
    """Devices to fetch back, oldest first, with what the pickup needs of each citizen (the reads are logged)."""
    notice = ""
    try:
        items, next_cursor = selectors.return_tasks_page(
            request.actor, cursor=request.GET.get("cursor") or None, limit=PAGE_SIZE
        )
    except InvalidInput as error:
        items, next_cursor, notice = [], None, message(error)
    context = {"items": present.returns(items), "next_cursor": next_cursor, "notice": notice, "nav": "it-returns"}
    return page(request, "staffweb/it/returns.html", context)
