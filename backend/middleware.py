import io
import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language_from_request

from backend.context import logged_citizens_var, request_id_var, request_language_var
from backend.errors import PayloadTooLarge
from backend.problems import problem_for, problem_response

_ACCEPTED_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")


class RequestIdMiddleware:
    """Gives every request an id (the proxy's, if well-formed) and returns it in ``X-Request-ID``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _ACCEPTED_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        logged = logged_citizens_var.set(set())
        language = request_language_var.set(get_language_from_request(request))
        try:
            request.request_id = request_id  # type: ignore[attr-defined]
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            return response
        finally:
            request_language_var.reset(language)
            logged_citizens_var.reset(logged)
            request_id_var.reset(token)


class DatabaseUnavailableMiddleware:
    """Answers 503 with ``Retry-After`` when the database cannot be reached, instead of a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError | InterfaceError) or type(exception) is DatabaseError:
            return database_unavailable()
        return None


def database_unavailable() -> HttpResponse:
    return problem_response(
        status=503,
        code="database_unavailable",
        title="The service is temporarily unavailable.",
        detail="The database cannot be reached. Try again shortly.",
        headers={"Retry-After": "5"},
    )


_DECLARED_LENGTH = re.compile(r"[0-9]{1,18}")


class BodySizeLimitMiddleware:
    """Refuses bodies over the limit: by their declared length before anything reads them, and by
    their real length when no length was declared (a chunked body over ASGI)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.MAX_UPLOAD_BYTES if request.content_type == "multipart/form-data" else settings.MAX_BODY_BYTES
        declared = request.META.get("CONTENT_LENGTH")
        if declared is None or declared == "":
            if _undeclared_body_exceeds(request, limit):
                return _too_large(limit)
            return self.get_response(request)
        if not _DECLARED_LENGTH.fullmatch(declared):
            return problem_response(
                status=400,
                code="bad_content_length",
                title="Invalid Content-Length header.",
                detail="Content-Length must be a non-negative whole number of bytes.",
            )
        if int(declared) > limit:
            return _too_large(limit)
        return self.get_response(request)


def _undeclared_body_exceeds(request: HttpRequest, limit: int) -> bool:
    """Reads at most one byte past the limit; a body within it stays readable for the view."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    received = request.read(limit + 1)
    if len(received) > limit:
        return True
    request._body = received
    request._stream = io.BytesIO(received)
    return False


def _too_large(limit: int) -> HttpResponse:
    return problem_for(PayloadTooLarge(f"The body may be at most {limit} bytes."))


class ApiProblemMiddleware:
    """Responses the API's own handlers do not shape (a method the path does not allow) as problems."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 405 and request.path.startswith("/api/"):
            problem = problem_response(
                status=405,
                code="method_not_allowed",
                title="This method is not allowed here.",
                detail=f"{request.method} is not allowed on this path.",
            )
            if response.has_header("Allow"):
                problem["Allow"] = response["Allow"]
            return problem
        return response
