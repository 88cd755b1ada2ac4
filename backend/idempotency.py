"""Idempotent creates, after the IETF Idempotency-Key draft: ``IdempotencyKeyMiddleware``.

A client that may retry a ``POST`` of the API sends an ``Idempotency-Key`` header (creates a phone queues
offline carry a client-made id instead, ``backend.client_ids``). The first request with a key performs
the operation and stores its answer; a retry with the same key and the same body gets that answer again
and creates nothing; the same key with a different body is 422; a retry while the first is still in
flight is 409. Keys are scoped to the caller, whether a bearer token or the citizen app's cookie login
sent the request.
"""

import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.core.exceptions import SuspiciousOperation
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone

from backend.errors import ApplicationError, Conflict, InvalidInput
from backend.models import IdempotencyRecord
from backend.problems import problem_for

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


API_PREFIX = "/api/v1/"
# Logging in answers with new secrets each time: a replay would hand out a stored token.
NOT_KEYED_PREFIXES = ("/api/v1/auth/",)


def _fingerprint(request: HttpRequest) -> str:
    """The request's method, path and body, the same however the client laid the body out: JSON with its
    keys in any order, a form (a photo upload) with any multipart boundary."""
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    body = request.body  # read first: parsing the form below, or a CSRF check later, then reads this copy
    if request.content_type == "multipart/form-data" and _digest_form(digest, request):
        return digest.hexdigest()
    try:
        digest.update(json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode())
    except ValueError:
        digest.update(body)
    return digest.hexdigest()


def _digest_form(digest: Any, request: HttpRequest) -> bool:
    """Add a multipart form's fields and files to ``digest``; False if it does not parse (the raw body
    is taken instead, and the operation refuses it)."""
    try:
        fields, files = sorted(request.POST.lists()), sorted(request.FILES.lists())
    except (MultiPartParserError, SuspiciousOperation):
        return False
    digest.update(json.dumps(fields, separators=(",", ":")).encode())
    for name, uploads in files:
        for upload in uploads:
            digest.update(json.dumps([name, upload.name, upload.content_type, upload.size]).encode())
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
    return True


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
    logged-in user, found as the operation's authentication finds them: a bearer token, or the citizen
    app's cookie login with its CSRF token), so two users' keys never meet; a request from no one the
    API would let in passes on untouched, to be refused by the operation. Creates that carry a
    client-made id (session logs, ratings, requests, questionnaire answers) are idempotent by that id as
    well, with or without a key.
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
            return problem_for(exc)
        fingerprint = _fingerprint(request)
        scope = _caller_scope(request)
        if key is None or scope is None:
            return self.get_response(request)  # no one the API lets in: the operation answers 401 or 403
        operation = f"POST {request.path}"[:120]
        try:
            record = _claim(scope=scope, operation=operation, key=key, fingerprint=fingerprint)
        except ApplicationError as exc:
            return problem_for(exc)
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
    from backend.auth import api_caller

    actor = api_caller(request)
    return actor.principal_id if actor is not None else None
