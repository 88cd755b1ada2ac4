"""Domain errors. ``config.api`` maps every one of them to an RFC 9457 problem response once."""

from typing import Any


class ApplicationError(Exception):
    status = 400
    code = "bad_request"
    title = "The request cannot be carried out."

    def __init__(self, detail: str = "", *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        if code:
            self.code = code
        self.extra = extra

    def headers(self) -> dict[str, str]:
        return {}


class NotAuthenticated(ApplicationError):
    status = 401
    code = "not_authenticated"
    title = "Authentication is required."

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="mestring"'}


class Forbidden(ApplicationError):
    status = 403
    code = "forbidden"
    title = "Your role does not allow this operation."


class NotFound(ApplicationError):
    status = 404
    code = "not_found"
    title = "Not found."


class Conflict(ApplicationError):
    status = 409
    code = "conflict"
    title = "The request conflicts with the current state."


class PayloadTooLarge(ApplicationError):
    status = 413
    code = "payload_too_large"
    title = "The request body is too large."


class InvalidInput(ApplicationError):
    """A semantic validation failure that names the field it is about."""

    status = 422
    code = "invalid"
    title = "The request contains invalid data."

    def __init__(self, field: str, message: str, *, code: str | None = None) -> None:
        super().__init__(f"{field}: {message}", code=code, errors=[{"field": field, "message": message}])
        self.field = field


class RateLimited(ApplicationError):
    status = 429
    code = "rate_limited"
    title = "Too many attempts. Try again later."

    def __init__(self, detail: str = "", *, retry_after: int, code: str | None = None) -> None:
        super().__init__(detail, code=code)
        self.retry_after = max(1, int(retry_after))

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class ServiceUnavailable(ApplicationError):
    status = 503
    code = "service_unavailable"
    title = "The service is temporarily unavailable."

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "5"}
