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
from django.http import HttpRequest
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
            raise Conflict(
                "A request with this Idempotency-Key is still being processed.", code="idempotency_in_flight"
            )
        # The first attempt died mid-way (its transaction rolled back): take the key over.
        IdempotencyRecord.objects.filter(pk=existing.pk).update(created_at=timezone.now())
    return existing
