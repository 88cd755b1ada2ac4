"""Per-request context that code deep in a call can read without passing the request along."""

from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")


def current_request_id() -> str:
    return request_id_var.get()


# The citizens whose access-log row this request has written: a citizen is logged once per request.
logged_citizens_var: ContextVar[set[str] | None] = ContextVar("logged_citizens", default=None)

# The language the request asked for (Accept-Language, or the language cookie): problems are said in it even
# when they are answered before Django's locale middleware has run.
request_language_var: ContextVar[str | None] = ContextVar("request_language", default=None)
