"""Background entry points of the platform core."""

from datetime import timedelta

from django.conf import settings
from django.tasks import task
from django.utils import timezone

from backend.models import AccessLogEntry, IdempotencyRecord, Token

# Tokens are kept a day past their expiry: a refresh token presented late is still told it has expired.
EXPIRED_TOKEN_GRACE = timedelta(days=1)


@task()
def retention_purge() -> dict[str, int]:
    """Remove access-log rows past ACCESS_LOG_RETENTION_DAYS, spent idempotency keys and tokens expired a day
    ago (every websocket opened with a browser's session cookie issues one). Safe to run twice."""
    now = timezone.now()
    access_log = AccessLogEntry.objects.purge_expired(cutoff=now - timedelta(days=settings.ACCESS_LOG_RETENTION_DAYS))
    idempotency, _ = IdempotencyRecord.objects.filter(
        created_at__lt=now - timedelta(hours=settings.IDEMPOTENCY_RETENTION_HOURS)
    ).delete()
    tokens, _ = Token.objects.filter(expires_at__lt=now - EXPIRED_TOKEN_GRACE).delete()
    return {"access_log": access_log, "idempotency_keys": idempotency, "tokens": tokens}
