"""Rate limits and lockouts for login, token and device-credential endpoints.

Counters live in the shared cache (Redis in production) and fall back to this process's memory when
that cache fails, so that a Redis outage degrades the limit instead of answering 500. Lockouts after
repeated failures are rows in the database so an administrator can see and lift them.
"""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from backend.errors import RateLimited
from backend.models import AccountLockout

logger = logging.getLogger(__name__)
_local_fallback = LocMemCache("mestring-ratelimit-fallback", {})


def _incr(key: str, window: int) -> int:
    for cache in (caches["shared"], _local_fallback):
        try:
            if cache.add(key, 0, timeout=window + 1):
                return int(cache.incr(key))
            return int(cache.incr(key))
        except ValueError:  # the key expired between add and incr
            cache.set(key, 1, timeout=window + 1)
            return 1
        except Exception:  # noqa: BLE001 — any cache failure degrades to the in-process counter
            logger.warning("rate-limit cache unavailable; using the in-process counter")
    return 0


def client_address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"


def rate_limit(*, scope: str, key: str, limit: tuple[int, int]) -> None:
    """Count one attempt in a fixed window; over the limit raises 429 with Retry-After."""
    attempts, window = limit
    bucket = int(time.time() // window)
    count = _incr(f"rl:{scope}:{key}:{bucket}", window)
    if count > attempts:
        retry_after = window - int(time.time() % window)
        raise RateLimited("Too many attempts. Try again later.", retry_after=retry_after)


def lockout_check(*, scope: str, key: str) -> None:
    lockout = AccountLockout.objects.filter(scope=scope, key=key).only("locked_until").first()
    if lockout is not None and lockout.is_locked:
        assert lockout.locked_until is not None
        retry_after = int((lockout.locked_until - timezone.now()).total_seconds())
        raise RateLimited(
            "Locked after repeated failed attempts. An administrator can lift the lock.",
            retry_after=retry_after,
            code="locked_out",
        )


def failure_record(*, scope: str, key: str) -> None:
    """Count a failed attempt; at the threshold the key is locked for LOCKOUT_SECONDS."""
    now = timezone.now()
    with transaction.atomic():
        lockout, _ = AccountLockout.objects.get_or_create(scope=scope, key=key)
        AccountLockout.objects.filter(pk=lockout.pk).update(failures=F("failures") + 1, last_failure_at=now)
        lockout.refresh_from_db(fields=["failures"])
        if lockout.failures >= settings.LOCKOUT_AFTER_FAILURES:
            AccountLockout.objects.filter(pk=lockout.pk).update(
                locked_until=now + timedelta(seconds=settings.LOCKOUT_SECONDS), failures=0
            )
            logger.warning("lockout engaged for a %s key after repeated failures", scope)


def failures_clear(*, scope: str, key: str) -> None:
    AccountLockout.objects.filter(scope=scope, key=key, failures__gt=0).update(failures=0)


def lockout_lift(lockout: AccountLockout, *, by) -> None:  # type: ignore[no-untyped-def]
    AccountLockout.objects.filter(pk=lockout.pk).update(
        locked_until=None, failures=0, lifted_at=timezone.now(), lifted_by=by
    )
