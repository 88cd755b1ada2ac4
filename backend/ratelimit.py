"""Rate limits and lockouts for login, token and device-credential endpoints.

Counters live in the shared cache (Redis in production) and fall back to this process's memory when
that cache fails, so that a Redis outage degrades the limit instead of answering 500. Lockouts after
repeated failures are rows in the database so an administrator can see and lift them.
"""

import hashlib
import ipaddress
import logging
import time
from collections.abc import Callable
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from backend.errors import RateLimited
from backend.models import AccountLockout, User
from backend.problems import problem_for

logger = logging.getLogger(__name__)
_local_fallback = LocMemCache("mestring-ratelimit-fallback", {})

# A client address is shared by everyone behind one NAT (a care centre, a town hall), so it takes
# this many times the failures of a single account before it locks.
ADDRESS_FAILURE_FACTOR = 5


def _incr_in(cache: BaseCache, key: str, window: int) -> int:
    cache.add(key, 0, timeout=window + 1)
    try:
        return int(cache.incr(key))
    except ValueError:  # the key expired between add and incr
        cache.set(key, 1, timeout=window + 1)
        return 1


def _incr(key: str, window: int) -> int:
    try:
        return _incr_in(caches["shared"], key, window)
    except Exception as exc:  # noqa: BLE001 — any cache failure degrades to the in-process counter
        logger.warning("rate-limit cache unavailable (%s); using the in-process counter", type(exc).__name__)
    try:
        return _incr_in(_local_fallback, key, window)
    except Exception:  # noqa: BLE001
        logger.exception("in-process rate-limit counter failed")
        return 0


@cache
def _trusted_proxies() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in settings.TRUSTED_PROXIES)


def _is_trusted_proxy(address: str) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in _trusted_proxies())


def client_address(request: HttpRequest) -> str:
    """The client's address: the peer's, or, when the peer is a trusted proxy (``TRUSTED_PROXIES``), the
    nearest address in ``X-Forwarded-For`` that is not one of those proxies. A header from anyone else is
    ignored: it is the client's own say."""
    peer = request.META.get("REMOTE_ADDR") or "unknown"
    if not _is_trusted_proxy(peer):
        return peer
    forwarded = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry.strip()]
    for address in reversed(forwarded):
        if not _is_trusted_proxy(address):
            try:
                return str(ipaddress.ip_address(address))
            except ValueError:
                return peer  # a malformed hop: the proxy is all that is known
    return peer


def _bucket(scope: str, key: str, window: int, now: float) -> str:
    return f"rl:{scope}:{key}:{int(now // window)}"


def _refuse(window: int, now: float) -> None:
    raise RateLimited("Too many attempts. Try again later.", retry_after=window - int(now % window))


def rate_limit(*, scope: str, key: str, limit: tuple[int, int]) -> None:
    """Count one attempt in a fixed window; over the limit raises 429 with Retry-After."""
    attempts, window = limit
    now = time.time()
    if _incr(_bucket(scope, key, window, now), window) > attempts:
        _refuse(window, now)


def failure_limit_check(*, scope: str, key: str, limit: tuple[int, int]) -> None:
    """429 while ``key`` has had more than the limit of failures in this window; counts nothing."""
    attempts, window = limit
    now = time.time()
    try:
        count = caches["shared"].get(_bucket(scope, key, window, now))
    except Exception:  # noqa: BLE001 — any cache failure degrades to the in-process counter
        count = None
    if count is None:
        count = _local_fallback.get(_bucket(scope, key, window, now), 0)
    if int(count) >= attempts:
        _refuse(window, now)


def failure_count(*, scope: str, key: str, limit: tuple[int, int]) -> None:
    """Count one failure against ``key`` for ``failure_limit_check``."""
    _attempts, window = limit
    _incr(_bucket(scope, key, window, time.time()), window)


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


def failure_threshold(scope: str) -> int:
    threshold = int(settings.LOCKOUT_AFTER_FAILURES)
    return threshold * ADDRESS_FAILURE_FACTOR if scope == AccountLockout.Scope.ADDRESS else threshold


def failure_record(*, scope: str, key: str) -> None:
    """Count a failed attempt; at the threshold the key is locked for LOCKOUT_SECONDS.

    Failures are counted within LOCKOUT_SECONDS of each other: one forgotten password a month does not
    add up to a lockout.
    """
    now = timezone.now()
    window = timedelta(seconds=settings.LOCKOUT_SECONDS)
    with transaction.atomic():
        lockout, _ = AccountLockout.objects.select_for_update().get_or_create(
            scope=scope, key=key, defaults={"last_failure_at": now}
        )
        is_stale = lockout.last_failure_at <= now - window
        failures = 1 if is_stale else lockout.failures + 1
        if failures >= failure_threshold(scope):
            AccountLockout.objects.filter(pk=lockout.pk).update(
                failures=0, last_failure_at=now, locked_until=now + window
            )
            logger.warning("lockout engaged for a %s key after repeated failures", scope)
        else:
            AccountLockout.objects.filter(pk=lockout.pk).update(failures=failures, last_failure_at=now)


def failures_clear(*, scope: str, key: str) -> None:
    AccountLockout.objects.filter(scope=scope, key=key, failures__gt=0).update(failures=0)


def lockout_lift(lockout: AccountLockout, *, by: AbstractBaseUser | AnonymousUser | None) -> None:
    """An administrator ends a lockout now; the key starts again from zero failures."""
    AccountLockout.objects.filter(pk=lockout.pk).update(
        locked_until=None, failures=0, lifted_at=timezone.now(), lifted_by=by if isinstance(by, User) else None
    )


# --- Quotas for valid callers ---------------------------------------------------------------------

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
API_PREFIX = "/api/v1/"
TELEMETRY_PATH = "/api/v1/telemetry"


def _caller_key(request: HttpRequest) -> str | None:
    """Who is writing, without a database query: a hash of the bearer token or of the session cookie (the
    secret itself is never a cache key); None for a request with neither, which the API refuses anyway."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    secret = token.strip() if scheme.lower() == "bearer" else request.COOKIES.get(settings.APP_SESSION_COOKIE_NAME, "")
    return hashlib.sha256(secret.encode()).hexdigest()[:32] if secret else None


class WriteQuotaMiddleware:
    """Every caller's writes to the API (``API_WRITES_PER_MINUTE``) and every device's telemetry posts
    (``TELEMETRY_POSTS_PER_MINUTE``) are counted per login or device key; above the ceiling, far over any
    real use, the answer is 429 with ``Retry-After`` and nothing is done. The counters live in the shared
    cache and go on in this process's memory while it is down. Logins (``/auth/``) have their own limits."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method in WRITE_METHODS
            and request.path.startswith(API_PREFIX)
            and not request.path.startswith("/api/v1/auth/")
        ):
            caller = _caller_key(request)
            if caller is not None:
                telemetry = request.path.rstrip("/") == TELEMETRY_PATH
                scope, per_minute = (
                    ("telemetry", settings.TELEMETRY_POSTS_PER_MINUTE)
                    if telemetry
                    else ("api-writes", settings.API_WRITES_PER_MINUTE)
                )
                try:
                    rate_limit(scope=scope, key=caller, limit=(per_minute, 60))
                except RateLimited as exc:
                    return problem_for(exc)
        return self.get_response(request)
