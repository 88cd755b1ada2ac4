"""Idempotent creates, after the IETF Idempotency-Key draft.

A phone that may retry sends an ``Idempotency-Key`` header (or a client-generated UUID in the body).
The first request with a key performs the operation and stores its response; a retry with the same key
and the same body gets that response again and creates nothing; the same key with a different body
is 422; a retry while the first is still in flight is 409. Keys are scoped to the caller.
"""

import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from pydantic import BaseModel

from backend.errors import ApplicationError, Conflict, InvalidInput
from backend.models import IdempotencyRecord

HEADER = "Idempotency-Key"
IN_FLIGHT_TIMEOUT = timedelta(minutes=2)
_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")


class IdempotencyKeyReused(ApplicationError):
    status = 422
    code = "idempotency_key_reused"
    title = "This Idempotency-Key was used with a different request body."


class IdempotencyInFlight(Conflict):
    code = "idempotency_in_flight"
    title = "A request with this Idempotency-Key is still being processed."

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


def idempotency_key(request: HttpRequest) -> str | None:
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    key = raw.strip().strip('"')
    if not _VALID_KEY.match(key):
        raise InvalidInput(HEADER, "An Idempotency-Key is 1–128 visible ASCII characters.")
    return key


def _as_json(data: Any) -> Any:
    if isinstance(data, BaseModel):
        return data.model_dump(mode="json")
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def request_fingerprint(payload: Any) -> str:
    canonical = json.dumps(_as_json(payload), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent(
    *,
    scope: str,
    operation: str,
    key: str | None,
    payload: Any,
    perform: Callable[[], tuple[int, Any]],
) -> tuple[int, Any]:
    """Run ``perform`` once per (scope, operation, key); replay its stored (status, body) on retries.

    ``perform`` runs in a transaction with the stored response, so a crash leaves no half result; if
    it raises, the key is released and the client may retry.
    """
    if key is None:
        status, body = perform()
        return status, _as_json(body)
    fingerprint = request_fingerprint(payload)
    record = _claim(scope=scope, operation=operation, key=key, fingerprint=fingerprint)
    if record.completed_at is not None:
        assert record.response_status is not None
        return record.response_status, record.response_body
    try:
        with transaction.atomic():
            status, body = perform()
            stored = _as_json(body)
            IdempotencyRecord.objects.filter(pk=record.pk).update(
                response_status=status, response_body=stored, completed_at=timezone.now()
            )
    except BaseException:
        IdempotencyRecord.objects.filter(pk=record.pk, completed_at__isnull=True).delete()
        raise
    return status, stored


def _claim(*, scope: str, operation: str, key: str, fingerprint: str) -> IdempotencyRecord:
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(scope=scope, operation=operation, key=key, request_hash=fingerprint)
    except IntegrityError:
        pass
    existing = IdempotencyRecord.objects.get(scope=scope, operation=operation, key=key)
    if existing.request_hash != fingerprint:
        raise IdempotencyKeyReused()
    if existing.completed_at is None:
        if timezone.now() - existing.created_at < IN_FLIGHT_TIMEOUT:
            raise IdempotencyInFlight("Retry in a moment: the first request's answer is then given again.")
        # The first attempt died mid-way (its transaction rolled back): take the key over.
        IdempotencyRecord.objects.filter(pk=existing.pk).update(created_at=timezone.now())
    return existing


# --- Every create of the API, by header -----------------------------------------------------------

API_PREFIX = "/api/v1/"
# Logging in answers with new secrets each time: a replay would hand out a stored token.
NOT_KEYED_PREFIXES = ("/api/v1/auth/",)


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    body = request.body
    try:
        digest.update(json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode())
    except ValueError:
        digest.update(body)
    return digest.hexdigest()


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = JsonResponse(record.response_body, status=record.response_status or 200, safe=False)
    response["Idempotent-Replayed"] = "true"
    return response


class IdempotencyKeyMiddleware:
    """``Idempotency-Key`` on every ``POST`` of the API (DESIGN.md, after the IETF draft).

    With the header, the first request runs in one transaction with the record of its key, and a 2xx
    answer is stored; a retry with the same key and body gets the stored answer (``Idempotent-Replayed:
    true``) and changes nothing; the same key with another body is 422 ``idempotency_key_reused``; a
    retry while the first is still running is 409 ``idempotency_in_flight`` with ``Retry-After``. A
    refused or failed first attempt stores nothing and frees the key. Keys belong to the caller (the
    logged-in user), so two users' keys never meet. Creates that carry a client-made id (session logs,
    ratings, requests, questionnaire answers) are idempotent by that id as well, with or without a key.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method != "POST"
            or HEADER not in request.headers
            or not request.path.startswith(API_PREFIX)
            or request.path.startswith(NOT_KEYED_PREFIXES)
        ):
            return self.get_response(request)
        try:
            key = idempotency_key(request)
        except ApplicationError as exc:
            return _problem(exc)
        scope = _caller_scope(request)
        if key is None or scope is None:
            return self.get_response(request)  # not logged in: the operation answers 401 itself
        operation = f"POST {request.path}"[:120]
        try:
            record = _claim(scope=scope, operation=operation, key=key, fingerprint=_fingerprint(request))
        except ApplicationError as exc:
            return _problem(exc)
        if record.completed_at is not None:
            return _replay(record)
        try:
            with transaction.atomic():
                response = self.get_response(request)
                stored = _stored_body(response)
                if stored is _NOT_STORED:
                    transaction.set_rollback(response.status_code >= 400)
                else:
                    IdempotencyRecord.objects.filter(pk=record.pk).update(
                        response_status=response.status_code, response_body=stored, completed_at=timezone.now()
                    )
        except BaseException:
            IdempotencyRecord.objects.filter(pk=record.pk, completed_at__isnull=True).delete()
            raise
        if stored is _NOT_STORED:
            IdempotencyRecord.objects.filter(pk=record.pk, completed_at__isnull=True).delete()
        return response


_NOT_STORED = object()


def _stored_body(response: HttpResponse) -> Any:
    """The JSON body of a 2xx answer, to replay; ``_NOT_STORED`` for anything else."""
    if not 200 <= response.status_code < 300 or getattr(response, "streaming", False):
        return _NOT_STORED
    if not response.get("Content-Type", "").startswith("application/json"):
        return _NOT_STORED
    try:
        return json.loads(response.content or b"null")
    except ValueError:
        return _NOT_STORED


def _caller_scope(request: HttpRequest) -> str | None:
    from backend.auth import actor_for_access_token

    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    actor = actor_for_access_token(token.strip())
    return actor.principal_id if actor is not None else None


def _problem(exc: ApplicationError) -> HttpResponse:
    from backend.problems import problem_response

    return problem_response(
        status=exc.status, code=exc.code, title=exc.title, detail=exc.detail, headers=exc.headers(), **exc.extra
    )
