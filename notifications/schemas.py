"""Request and response shapes of the notifications API."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from ninja import Schema
from pydantic import Field

from backend import i18n
from backend.schemas import InSchema, LocalTime
from notifications.models import Notification
from notifications.reminders import SNOOZE_MINUTES


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


# --- Preferences, quiet hours and snooze ---------------------------------------------------------


class KindPreferenceIn(InSchema):
    kind: str = Field(max_length=60, description="A kind of notification, e.g. reminder.training.")
    muted: bool = Field(default=False, description="Reminders only: not sent at all.")
    push: bool = Field(default=True, description="Pushed to the phone; the inbox always gets it.")


class QuietHoursIn(InSchema):
    start: LocalTime = Field(description="Quiet hours begin, e.g. 22:00.")
    end: LocalTime = Field(description="Quiet hours end, e.g. 07:00; before start means the next day.")
    time_zone: str | None = Field(
        default=None, max_length=64, description="IANA zone; the citizen's own (or Europe/Copenhagen) if left out."
    )


class PreferencesIn(InSchema):
    kinds: list[KindPreferenceIn] = Field(
        default_factory=list, max_length=100, description="Kinds left out go back to the defaults."
    )
    quiet_hours: QuietHoursIn | None = Field(default=None, description="None: no quiet hours.")


class KindPreferenceOut(Schema):
    kind: str
    is_reminder: bool
    muted: bool
    push: bool


class QuietHoursOut(Schema):
    start: LocalTime
    end: LocalTime
    time_zone: str


class PreferencesOut(Schema):
    kinds: list[KindPreferenceOut]
    quiet_hours: QuietHoursOut | None


class SnoozeIn(InSchema):
    minutes: int = Field(ge=SNOOZE_MINUTES[0], le=SNOOZE_MINUTES[1], description="How long until it reminds again.")


class SnoozeOut(Schema):
    id: UUID = Field(description="The new reminder.")
    kind: str
    due_at: datetime
    snoozed_notification_id: UUID
