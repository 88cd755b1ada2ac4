from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from effekt.models import AggregateRead, BenchmarkParticipation


@admin.register(AggregateRead)
class AggregateReadAdmin(admin.ModelAdmin):
    """The aggregate-read log beside the access log: every indicator query, read-only."""

    list_display = ["at", "actor_name", "actor_role", "purpose", "surface", "indicator_key", "period_start", "filters"]
    list_filter = ["surface", "actor_role", "indicator_key", "municipality"]
    search_fields = ["actor_name", "request_id", "indicator_key"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(BenchmarkParticipation)
class BenchmarkParticipationAdmin(admin.ModelAdmin):
    """Municipalities in the cross-municipality benchmark: add one to opt it in, delete it to opt out."""

    list_display = ["municipality", "joined_at", "joined_by"]
    readonly_fields = ["joined_at", "joined_by"]
    fields = ["municipality", "joined_at", "joined_by"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: BenchmarkParticipation, form: Any, change: bool) -> None:
        obj.joined_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
