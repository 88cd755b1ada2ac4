"""App installs: the FCM token a logged-in app registers for its pushes."""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from backend.actors import Actor
from backend.models import AppSession
from notifications.models import PushDelivery, PushInstall


@transaction.atomic
def push_install_register(
    *, actor: Actor, fcm_token: str, platform: str, app_version: str, locale: str
) -> tuple[PushInstall, bool]:
    """Register or refresh the calling app install's FCM token; idempotent.

    A token belongs to the login that registered it last: an install moves to the new user when
    another person logs in on the same phone, and what was still waiting for the previous user is
    not pushed to it. A new token from the same login replaces the old one.
    """
    now = timezone.now()
    session: AppSession | None = actor.session
    install, created = PushInstall.objects.select_for_update().update_or_create(
        fcm_token=fcm_token,
        defaults={
            "user": actor.user,
            "session": session,
            "platform": platform,
            "app_version": app_version,
            "locale": locale,
            "is_active": True,
            "last_seen_at": now,
            "disabled_at": None,
            "disabled_reason": "",
        },
        create_defaults={
            "user": actor.user,
            "session": session,
            "platform": platform,
            "app_version": app_version,
            "locale": locale,
            "created_at": now,
            "last_seen_at": now,
        },
    )
    PushDelivery.objects.filter(
        ~Q(notification__recipient=actor.user), install=install, status=PushDelivery.Status.PENDING
    ).update(status=PushDelivery.Status.DISABLED)
    if session is not None:
        replaced = PushInstall.objects.filter(session=session, is_active=True).exclude(pk=install.pk)
        PushDelivery.objects.filter(install__in=replaced, status=PushDelivery.Status.PENDING).update(
            status=PushDelivery.Status.DISABLED
        )
        replaced.update(is_active=False, disabled_at=now, disabled_reason=PushInstall.DisabledReason.REPLACED)
    return install, created


def push_install_delete(*, install: PushInstall) -> None:
    install.delete()
