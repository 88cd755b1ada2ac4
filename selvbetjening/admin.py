from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from selvbetjening.models import Condition


@admin.register(Condition)
class ConditionAdmin(admin.ModelAdmin):
    """The municipality's FSIII condition code list: the file loads it (``load_fsiii_conditions``); here an
    administrator corrects a name or area, or takes a condition off the goal forms by making it inactive."""

    list_display = ["display", "area", "code", "active"]
    list_filter = ["area", "active"]
    search_fields = ["display", "code"]
    ordering = ["area", "display"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
