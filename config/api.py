"""The one ``NinjaAPI`` of the platform: every app's router is mounted here, every error mapped here."""

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema

from backend.errors import ApplicationError, PayloadTooLarge
from backend.middleware import database_unavailable
from backend.openapi import document_problems
from backend.parser import StrictJsonParser
from backend.problem_details import field_error_message
from backend.problems import problem_for, problem_response

logger = logging.getLogger(__name__)


class MestringApi(NinjaAPI):
    """The API, whose OpenAPI schema also documents every problem response each operation can give."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        document_problems(schema)
        return schema


api = MestringApi(
    title="Mestring API",
    version="1",
    description=(
        "Borgerens selvbetjening, træning og velfærdsteknologi. "
        "Citizen self-service, training plans and welfare technology for Danish municipalities."
    ),
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
    parser=StrictJsonParser(),
)

_HTTP_ERROR_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def _field_name(location: Any) -> str:
    parts = [str(part) for part in location if part not in ("body", "payload", "query", "path", "header")]
    return ".".join(parts) or "body"


@api.exception_handler(ValidationError)
def validation_failed(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {"field": _field_name(error.get("loc", ())), "message": field_error_message(error)} for error in exc.errors
    ]
    first = errors[0] if errors else {"field": "body", "message": field_error_message({})}
    return problem_response(
        status=422,
        code="validation_failed",
        title="The request contains invalid data.",
        detail=f"{first['field']}: {first['message']}",
        errors=errors,
        localized=True,
    )


@api.exception_handler(ApplicationError)
def application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    return problem_for(exc)


@api.exception_handler(AuthenticationError)
def not_authenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem_response(
        status=401,
        code="not_authenticated",
        title="Authentication is required.",
        detail="A valid, unexpired access token is required.",
        headers={"WWW-Authenticate": 'Bearer realm="mestring"'},
    )


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = _HTTP_ERROR_CODES.get(exc.status_code, "error")
    return problem_response(status=exc.status_code, code=code, title=str(exc.message), detail=str(exc.message))


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem_response(status=404, code="not_found", title="Not found.")


@api.exception_handler(RequestDataTooBig)
def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return problem_for(PayloadTooLarge())


@api.exception_handler(MultiPartParserError)
def malformed_multipart(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
    return problem_response(
        status=400, code="bad_request", title="The multipart body cannot be read.", detail=str(exc)[:200]
    )


@api.exception_handler(OverflowError)
def out_of_range(request: HttpRequest, exc: OverflowError) -> HttpResponse:
    # Dates or numbers at the edge of what can be represented, e.g. a date in year 1 minus a week.
    return problem_response(
        status=422, code="out_of_range", title="A value is out of range.", detail="A date or number is out of range."
    )


@api.exception_handler(IntegrityError)
def integrity_conflict(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
    # The database's constraints are the last word on races between two requests; the loser gets 409.
    logger.warning("integrity conflict: %s", type(exc).__name__)
    return problem_response(
        status=409,
        code="conflict",
        title="The request conflicts with the current state.",
        detail="Another change got there first. Reload and try again.",
    )


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def database_down(request: HttpRequest, exc: DatabaseError) -> HttpResponse:
    logger.error("database unavailable: %s", type(exc).__name__)
    return database_unavailable()


@api.exception_handler(Exception)
def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("unhandled error")
    return problem_response(
        status=500, code="internal_error", title="Something went wrong on our side.", detail="The error is logged."
    )


def _mount() -> None:
    """The core's routers, then each app's ``ROUTERS`` (a list of (prefix, Router) pairs)."""
    from backend.routers import auth, citizens, duty, me
    from effekt.api import ROUTERS as effect_routers
    from notifications.api import ROUTERS as notification_routers
    from selvbetjening.api import ROUTERS as self_service_routers
    from velfaerdsteknologi.api import ROUTERS as welfare_technology_routers

    api.add_router("/auth", auth.router)
    api.add_router("/me", me.router)
    api.add_router("/citizens", citizens.router)
    api.add_router("", duty.router)
    for prefix, router in [
        *self_service_routers,
        *welfare_technology_routers,
        *notification_routers,
        *effect_routers,
    ]:
        api.add_router(prefix, router)


_mount()
