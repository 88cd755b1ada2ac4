"""RFC 9457 problem responses, the one shape every error of the platform takes."""

import json
from typing import Any

from django.http import HttpResponse

from backend.context import current_request_id
from backend.errors import ApplicationError
from backend.problem_details import detail_for, message_for
from backend.problem_texts import title_for

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_response(
    *,
    status: int,
    code: str,
    title: str,
    detail: str = "",
    headers: dict[str, str] | None = None,
    localized: bool = False,
    **extra: Any,
) -> HttpResponse:
    """The problem in the request's language: ``title`` by its code, ``detail`` and the ``errors``' messages
    (English where they are raised) translated, unless the caller has ``localized`` them already."""
    body: dict[str, Any] = {
        "type": f"https://mestring.dk/problems/{code}",
        "title": title_for(code, status, title),
        "status": status,
        "code": code,
        "detail": (detail or title) if localized else detail_for(detail or title, code=code, status=status),
        "request_id": current_request_id(),
    }
    errors = extra.get("errors")
    if errors is not None and not localized:
        extra = {**extra, "errors": [{**error, "message": message_for(str(error["message"]))} for error in errors]}
    body.update(extra)
    response = HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def problem_for(exc: ApplicationError) -> HttpResponse:
    """The problem response for a domain error: its status, code, title, detail, headers and extra fields."""
    return problem_response(
        status=exc.status, code=exc.code, title=exc.title, detail=exc.detail, headers=exc.headers(), **exc.extra
    )
