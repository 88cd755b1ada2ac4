"""Background entry points of the platform core."""

from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.tasks import task
from django.utils import timezone

from backend.models import AccessLogEntry, IdempotencyRecord, Token
from backend.partitions import partitions_drop_expired

# Tokens are kept a day past their expiry: a refresh token presented late is still told it has expired.
EXPIRED_TOKEN_GRACE = timedelta(days=1)


@task()
def retention_purge() -> dict[str, int]:
    """Remove access-log rows past ACCESS_LOG_RETENTION_DAYS, telemetry readings past TELEMETRY_RETENTION_DAYS
    (when set), spent idempotency keys and tokens expired a day ago (every websocket opened with a browser's
    session cookie issues one). On PostgreSQL the months entirely past retention go first, their partitions
    dropped whole, for every partitioned history table (``backend.partitions``: the notifications app's
    stream events and reminders too); the rest is deleted row by row. Safe to run twice."""
    now = timezone.now()
    partitions_drop_expired(now)
    access_log = AccessLogEntry.objects.purge_expired(cutoff=now - timedelta(days=settings.ACCESS_LOG_RETENTION_DAYS))
    readings = 0
    if settings.TELEMETRY_RETENTION_DAYS:
        reading = apps.get_model("velfaerdsteknologi", "Reading")
        cutoff = now - timedelta(days=settings.TELEMETRY_RETENTION_DAYS)
        readings, _ = reading.objects.filter(measured_at__lt=cutoff).delete()
    idempotency, _ = IdempotencyRecord.objects.filter(
        created_at__lt=now - timedelta(hours=settings.IDEMPOTENCY_RETENTION_HOURS)
    ).delete()
    tokens, _ = Token.objects.filter(expires_at__lt=now - EXPIRED_TOKEN_GRACE).delete()
    return {"access_log": access_log, "readings": readings, "idempotency_keys": idempotency, "tokens": tokens}
