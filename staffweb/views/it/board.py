"""IT's health board: devices offline, low batteries, open alerts, maintenance (test calls among it) due and
overdue, devices to fetch back and consent reviews coming due. The board refreshes itself (see the template)."""

from django.http import HttpResponse

from backend.actors import IT
from staffweb.views.base import StaffRequest, page, staff_page
from staffweb.views.it import present
from velfaerdsteknologi import selectors

OPEN_ALERTS = 20


@staff_page(IT)
def board(request: StaffRequest) -> HttpResponse:
    actor = request.actor
    alerts, more_alerts = selectors.alerts_page(actor, cursor=None, limit=OPEN_ALERTS, status="unresolved")
    context = {
        "board": present.board(selectors.health_board(actor)),
        "alerts": present.alerts(alerts),
        "more_alerts": more_alerts is not None,
        "nav": "it-board",
    }
    template = "staffweb/it/board.html#board" if request.htmx else "staffweb/it/board.html"  # type: ignore[attr-defined]
    return page(request, template, context)
