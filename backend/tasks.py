"""Background entry points of the platform core."""

from datetime import timedelta

from django.conf import settings
from django.tasks import task
from django.utils import timezone

from backend.models import AccessLogEntry, IdempotencyRecord


@task()
def retention_purge() -> dict[str, int]:
    """Remove access-log rows past ACCESS_LOG_RETENTION_DAYS and spent idempotency keys. Safe to run twice."""
    now = timezone.now()
    access_log = AccessLogEntry.objects.purge_expired(cutoff=now - timedelta(days=settings.ACCESS_LOG_RETENTION_DAYS))
    idempotency, _ = IdempotencyRecord.objects.filter(
        created_at__lt=now - timedelta(hours=settings.IDEMPOTENCY_RETENTION_HOURS)
    ).delete()
    return {"access_log": access_log, "idempotency_keys": idempotency}
