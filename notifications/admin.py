"""Administration of push: app installs (disable a token) and what was pushed, for support. Inbox
contents stay with their recipients: notifications and stream events are not listed here."""

from django.contrib import admin
from django.http import HttpRequest

from notifications.models import PushDelivery, PushInstall


@admin.register(PushInstall)
class PushInstallAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "platform", "app_version", "locale", "is_active", "disabled_reason", "last_seen_at"]
    list_filter = ["platform", "is_active", "disabled_reason", "locale"]
    search_fields = ["id", "user__username"]
    readonly_fields = ["id", "user", "session", "fcm_token", "created_at", "last_seen_at", "disabled_at"]
    fields = [*readonly_fields, "platform", "app_version", "locale", "is_active", "disabled_reason"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(PushDelivery)
class PushDeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "notification_id", "install", "status", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["status", "last_error"]
    search_fields = ["notification__id", "install__id"]
    readonly_fields = [field.name for field in PushDelivery._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
