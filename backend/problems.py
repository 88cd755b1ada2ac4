"""RFC 9457 problem responses, the one shape every error of the platform takes."""

import json
from typing import Any

from django.http import HttpResponse

from backend.context import current_request_id
from backend.problem_texts import title_for

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_response(
    *,
    status: int,
    code: str,
    title: str,
    detail: str = "",
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> HttpResponse:
    body: dict[str, Any] = {
        "type": f"https://mestring.dk/problems/{code}",
        "title": title_for(code, status, title),
        "status": status,
        "code": code,
        "detail": detail or title,
        "request_id": current_request_id(),
    }
    body.update(extra)
    response = HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response
