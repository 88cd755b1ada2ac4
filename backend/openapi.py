"""The problem responses of every operation, documented from the operation itself.

Every error of the API is an RFC 9457 problem (``application/problem+json``, ``ProblemOut``). Which
statuses an operation can answer follows from what it takes and who may call it, by the same rules the
kernel applies to every request, so no handler lists them:

- every operation: 503 when the database cannot be reached;
- a login (``security``): 401 without a valid one, 403 for a role that may not (or a cookie login's unsafe
  request without its CSRF token);
- a path parameter: 404 for what does not exist or the caller may not see (the same answer);
- query parameters, header parameters or a body: 422 for values that are not valid;
- a body: 400 for one that cannot be read, 413 for one over the limit;
- a write (POST, PUT, PATCH, DELETE): 409 when the state forbids it or another change got there first, 429
  above the caller's write quota; a POST also takes an ``Idempotency-Key`` (422 when malformed or reused);
- a login operation (``/auth/``): 401 for credentials or codes that are refused, 429 after too many.
"""

from typing import Any

from backend.schemas import ProblemOut

PROBLEM_MEDIA_TYPE = "application/problem+json"
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
HTTP_METHODS = frozenset({"get", "post", "put", "patch", "delete"})
AUTH_PREFIX = "/api/v1/auth/"

DESCRIPTIONS: dict[int, str] = {
    400: "The request cannot be read (a body that is not JSON, an unreadable multipart body).",
    401: "No valid login: the access token or cookie is missing, expired or revoked, or the credentials are refused.",
    403: "The login's role may not do this, or a cookie login's unsafe request lacks its X-CSRFToken header.",
    404: "Not found, or not visible to the caller (the same answer).",
    409: "The current state forbids it, or another change got there first (the first of two retries is running).",
    413: "The body is over the size limit.",
    422: "A value is not valid; `errors` names each field.",
    429: "Too many requests; `Retry-After` says when to try again.",
    503: "The service is temporarily unavailable; `Retry-After` says when to try again.",
}
RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer", "minimum": 1}}
}


def problem_statuses(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    """The problem statuses the operation ``method path`` can answer, by the rules in this module's docstring."""
    parameters = operation.get("parameters", [])
    places = {parameter.get("in") for parameter in parameters}
    has_body = "requestBody" in operation
    statuses = {503}
    if operation.get("security"):
        statuses |= {401, 403}
    if "path" in places:
        statuses.add(404)
    if has_body or places & {"query", "header", "path"}:
        statuses.add(422)
    if has_body:
        statuses |= {400, 413}
    if method in WRITE_METHODS:
        statuses |= {409, 429}
    if method == "post":
        statuses.add(422)
    if path.startswith(AUTH_PREFIX):
        statuses |= {401, 429}
    return statuses


def problem_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": DESCRIPTIONS[status],
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemOut"}}},
    }
    if status in (429, 503):
        response["headers"] = RETRY_AFTER
    return response


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Adds ``ProblemOut`` and each operation's problem responses to an OpenAPI schema (in place)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = ProblemOut.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem_schema.pop("$defs", {}))
    components["ProblemOut"] = problem_schema
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status in sorted(problem_statuses(path, method, operation)):
                responses.setdefault(status, problem_response(status))
    return schema
