"""Request and response shapes of the notifications API."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from ninja import Schema
from pydantic import Field

from backend import i18n
from backend.schemas import InSchema
from notifications.models import Notification, PushInstall


class NotificationQuery(Schema):
    cursor: str | None = None
    limit: int = 50
    unread: bool = Field(default=False, description="Only notifications not yet read.")


class NotificationOut(Schema):
    id: UUID
    kind: str
    text: str
    refs: dict[str, str | int]
    created_at: datetime
    delivered_at: datetime | None
    read_at: datetime | None
    acknowledged_at: datetime | None

    @staticmethod
    def resolve_text(notification: Notification) -> str:
        return notification.text(i18n.language())


class NotificationPageOut(Schema):
    items: list[NotificationOut]
    next_cursor: str | None
    unread_count: int


class ReadAllOut(Schema):
    updated: int


class PushInstallIn(InSchema):
    fcm_token: str = Field(min_length=20, max_length=512, pattern=r"^[A-Za-z0-9_:.\-]+$")
    platform: Literal["ios", "android"]
    app_version: str = Field(default="", max_length=40)
    locale: Literal["da", "en"] = "da"


class PushInstallOut(Schema):
    id: UUID
    platform: str
    app_version: str
    locale: str
    is_active: bool
    is_current: bool
    disabled_reason: str
    created_at: datetime
    last_seen_at: datetime


class PushInstallsOut(Schema):
    items: list[PushInstallOut]


def push_install_out(install: PushInstall, current_session_id: UUID | None) -> dict[str, object]:
    return {
        "id": install.pk,
        "platform": install.platform,
        "app_version": install.app_version,
        "locale": install.locale,
        "is_active": install.is_active,
        "is_current": current_session_id is not None and install.session_id == current_session_id,
        "disabled_reason": install.disabled_reason,
        "created_at": install.created_at,
        "last_seen_at": install.last_seen_at,
    }
