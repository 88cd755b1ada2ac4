"""The team's request inbox: overdue first; a request's thread, the reply and closing it."""

from uuid import UUID

from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from backend.actors import CARE
from backend.errors import ApplicationError
from selvbetjening.access import requests as request_access
from selvbetjening.api.photos import photo_response
from selvbetjening.models import CitizenRequest
from selvbetjening.selectors import requests as request_reads
from selvbetjening.services import requests as request_services
from staffweb.forms import ReplyForm, add_error
from staffweb.views.base import StaffRequest, page, staff_page

INBOX_SIZE = 50


@staff_page(CARE)
def inbox(request: StaffRequest) -> HttpResponse:
    # The access log: the inbox's access function logs one row per citizen shown.
    items = request_access.inbox_page(request.actor, statuses=request_reads.OPEN_STATUSES, limit=INBOX_SIZE)
    return page(request, "staffweb/inbox.html", {"items": items, "nav": "inbox"})


def _thread(request: StaffRequest, request_id: UUID, form: ReplyForm, status: int) -> HttpResponse:
    """The request's thread as it is now; its access function logs the one citizen shown."""
    citizen_request, messages = request_access.access_request_thread(request.actor, request_id)
    context = {"item": citizen_request, "messages": messages, "form": form, "nav": "inbox"}
    return page(request, "staffweb/request.html", context, status=status)


@staff_page(CARE)
def request_detail(request: StaffRequest, request_id: UUID) -> HttpResponse:
    form = ReplyForm(request.POST or None)
    if request.method != "POST":
        return _thread(request, request_id, form, 200)
    citizen_request = request_access.access_request_for_change(request.actor, request_id)
    if form.is_valid():
        try:
            request_services.request_message_add(
                request=citizen_request, by=request.actor, text=form.cleaned_data["text"]
            )
        except ApplicationError as error:
            add_error(form, error, {"text": "text"})
            status = 409
        else:
            return HttpResponseRedirect(reverse("staffweb:request", args=[request_id]))
    else:
        status = 422
    return _thread(request, request_id, form, status)


@require_POST
@staff_page(CARE)
def request_close(request: StaffRequest, request_id: UUID) -> HttpResponse:
    citizen_request = request_access.access_request_for_change(request.actor, request_id)
    try:
        request_services.request_status_set(
            request=citizen_request, by=request.actor, status=CitizenRequest.Status.CLOSED
        )
    except ApplicationError as error:
        form = ReplyForm()
        add_error(form, error)
        return _thread(request, request_id, form, 409)
    return HttpResponseRedirect(reverse("staffweb:inbox"))


@staff_page(CARE)
def request_photo(request: StaffRequest, request_id: UUID) -> HttpResponse:
    size = "thumbnail" if request.GET.get("size") == "thumbnail" else "full"
    return photo_response(request_access.access_request_photo(request.actor, request_id, size))
