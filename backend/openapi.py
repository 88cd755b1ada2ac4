"""The problem responses of every operation, documented from the operation itself.

Every error of the API is an RFC 9457 problem (``application/problem+json``, ``ProblemOut``). Which
statuses an operation can answer follows from what it takes and who may call it, by the same rules the
kernel applies to every request, so no handler lists them:

- every operation: 503 when the database cannot be reached;
- a login (``security``): 401 without a valid one, 403 for a role that may not (or a cookie login's unsafe
  request without its CSRF token);
- a path parameter, or an id in the body (a field named ``…_id`` or ``…_ids``): 404 for what does not exist
  or the caller may not see (the same answer);
- query parameters, header parameters or a body: 422 for values that are not valid;
- a body: 400 for one that cannot be read, 413 for one over the limit;
- a write (POST, PUT, PATCH, DELETE): 409 when the state forbids it or another change got there first, 429
  above the caller's write quota; a POST also takes an ``Idempotency-Key`` (422 when malformed or reused);
- a login operation (``/auth/``): 401 for credentials or codes that are refused, 429 after too many.

It also documents each decimal a request body takes as a JSON number, where pydantic would say "a number or
any string" (the server reads a number written as a string too, which clients are not promised).
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


def _names_an_id(schema: Any, components: dict[str, Any], seen: frozenset[str] = frozenset()) -> bool:
    """Whether a body schema has a field, at any depth, that names another object by its id."""
    if isinstance(schema, list):
        return any(_names_an_id(item, components, seen) for item in schema)
    if not isinstance(schema, dict):
        return False
    reference = schema.get("$ref")
    if isinstance(reference, str):
        name = reference.rsplit("/", 1)[-1]
        return name not in seen and _names_an_id(components.get(name), components, seen | {name})
    properties = schema.get("properties", {})
    if any(name.endswith(("_id", "_ids")) for name in properties):
        return True
    nested = [*properties.values(), schema.get("items"), *schema.get("anyOf", []), *schema.get("oneOf", [])]
    return any(_names_an_id(item, components, seen) for item in nested if item is not None)


def problem_statuses(
    path: str, method: str, operation: dict[str, Any], components: dict[str, Any] | None = None
) -> set[int]:
    """The problem statuses the operation ``method path`` can answer, by the rules in this module's docstring."""
    parameters = operation.get("parameters", [])
    places = {parameter.get("in") for parameter in parameters}
    has_body = "requestBody" in operation
    statuses = {503}
    if operation.get("security"):
        statuses |= {401, 403}
    bodies = [media.get("schema") for media in operation.get("requestBody", {}).get("content", {}).values()]
    if "path" in places or _names_an_id(bodies, components or {}):
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


def _referenced(node: Any, components: dict[str, Any], found: set[str]) -> set[str]:
    """The names of the components ``node`` refers to, at any depth."""
    if isinstance(node, list):
        for item in node:
            _referenced(item, components, found)
    elif isinstance(node, dict):
        reference = node.get("$ref")
        if isinstance(reference, str):
            name = reference.rsplit("/", 1)[-1]
            if name not in found:
                found.add(name)
                _referenced(components.get(name), components, found)
        for value in node.values():
            _referenced(value, components, found)
    return found


def _decimals_as_numbers(node: Any) -> None:
    """pydantic documents a decimal it reads as "a number or any string"; a request sends a JSON number."""
    if isinstance(node, list):
        for item in node:
            _decimals_as_numbers(item)
        return
    if not isinstance(node, dict):
        return
    branches = node.get("anyOf")
    if isinstance(branches, list):
        numbers = [branch for branch in branches if branch.get("type") == "number"]
        free_strings = [branch for branch in branches if branch == {"type": "string"}]
        if numbers and free_strings:
            node["anyOf"] = [branch for branch in branches if branch not in free_strings]
            if len(node["anyOf"]) == 1:
                node.update(node.pop("anyOf")[0])
            if isinstance(node.get("default"), str):
                node["default"] = float(node["default"])
    for value in node.values():
        _decimals_as_numbers(value)


def document_decimal_inputs(schema: dict[str, Any]) -> None:
    """Every decimal a request body takes is documented as a JSON number (responses keep their strings)."""
    components = schema.get("components", {}).get("schemas", {})
    bodies = [
        operation["requestBody"]
        for item in schema.get("paths", {}).values()
        for method, operation in item.items()
        if method in HTTP_METHODS and "requestBody" in operation
    ]
    _decimals_as_numbers(bodies)
    for name in _referenced(bodies, components, set()):
        _decimals_as_numbers(components.get(name))


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
            for status in sorted(problem_statuses(path, method, operation, components)):
                responses.setdefault(status, problem_response(status))
    document_decimal_inputs(schema)
    return schema
