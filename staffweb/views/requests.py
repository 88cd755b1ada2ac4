"""The team's request inbox: overdue first; a request's thread, the reply and closing it."""

from uuid import UUID

from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from backend.actors import CARE
from backend.audit import read_logged
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
    items = list(
        request_reads.team_inbox(request.actor, statuses=request_reads.OPEN_STATUSES).order_by("respond_by", "id")[
            :INBOX_SIZE
        ]
    )
    # The access log: one row per citizen shown.
    read_logged(request.actor, [item.citizen for item in items], "request")
    return page(request, "staffweb/inbox.html", {"items": items, "nav": "inbox"})


def _thread(request: StaffRequest, citizen_request: CitizenRequest, form: ReplyForm, status: int) -> HttpResponse:
    messages = list(request_reads.messages_of(citizen_request))
    # The access log: one row for the citizen whose request is shown.
    read_logged(request.actor, [citizen_request.citizen], "request", citizen_request.pk)
    context = {"item": citizen_request, "messages": messages, "form": form, "nav": "inbox"}
    return page(request, "staffweb/request.html", context, status=status)


@staff_page(CARE)
def request_detail(request: StaffRequest, request_id: UUID) -> HttpResponse:
    if request.method == "POST":
        citizen_request = request_access.access_request_for_change(request.actor, request_id)
    else:
        citizen_request = request_access.access_request(request.actor, request_id)
    form = ReplyForm(request.POST or None)
    status = 200
    if request.method == "POST":
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
    return _thread(request, citizen_request, form, status)


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
        return _thread(request, citizen_request, form, 409)
    return HttpResponseRedirect(reverse("staffweb:inbox"))


@staff_page(CARE)
def request_photo(request: StaffRequest, request_id: UUID) -> HttpResponse:
    size = "thumbnail" if request.GET.get("size") == "thumbnail" else "full"
    return photo_response(request_access.access_request_photo(request.actor, request_id, size))
