"""Background entry points of the platform core."""

from datetime import timedelta

from django.conf import settings
from django.tasks import task
from django.utils import timezone

from backend.models import AccessLogEntry


@task()
def access_log_purge() -> int:
    """Remove access-log rows older than ACCESS_LOG_RETENTION_DAYS. Safe to run twice."""
    cutoff = timezone.now() - timedelta(days=settings.ACCESS_LOG_RETENTION_DAYS)
    return AccessLogEntry.objects.purge_expired(cutoff=cutoff)
