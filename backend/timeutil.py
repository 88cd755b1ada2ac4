from datetime import date
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def municipal_today() -> date:
    """Today in the municipality's zone: memberships and care relations are dated in local days."""
    return timezone.localdate(timezone=ZoneInfo(settings.DEFAULT_CITIZEN_TIME_ZONE))
