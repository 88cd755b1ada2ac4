"""The Django admin made for the IT team: filters, search by serial, IMEI, MAC or citizen, bulk actions, and
CSV import (dry run first, then all or nothing) and export through django-import-export."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from import_export.admin import ImportExportModelAdmin

from backend.errors import ApplicationError
from backend.models import User
from velfaerdsteknologi.models import (
    Alert,
    AlertRule,
    Assignment,
    Device,
    DeviceCategory,
    DeviceModel,
    DeviceStatus,
    DeviceTransition,
    MaintenanceTask,
    ReturnTask,
)
from velfaerdsteknologi.resources import DeviceResource
from velfaerdsteknologi.services.devices import device_credential_rotate, device_transition


def _user(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


@admin.register(DeviceCategory)
class DeviceCategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "is_surveillance"]
    list_filter = ["is_surveillance"]


class AlertRuleInline(admin.TabularInline):
    model = AlertRule
    extra = 0


@admin.register(DeviceModel)
class DeviceModelAdmin(admin.ModelAdmin):
    list_display = ["manufacturer", "model_number", "name", "category", "heartbeat_interval_seconds"]
    list_filter = ["category", "is_battery_powered"]
    search_fields = ["manufacturer", "model_number", "name"]
    inlines = [AlertRuleInline]


class TransitionInline(admin.TabularInline):
    model = DeviceTransition
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "reason", "at", "by"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _transition_action(to_status: str, label: str) -> Any:
    def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Device]) -> None:
        moved, refused = 0, 0
        for device in queryset:
            try:
                device_transition(device=device, to_status=to_status, by=_user(request), reason="Masseændring i admin")
                moved += 1
            except ApplicationError:
                refused += 1
        modeladmin.message_user(
            request,
            f"{moved} enheder flyttet til {label}; {refused} kunne ikke flyttes.",
            messages.WARNING if refused else messages.SUCCESS,
        )

    action.__name__ = f"move_to_{to_status}"
    return admin.action(description=f"Flyt til: {label}")(action)


@admin.register(Device)
class DeviceAdmin(ImportExportModelAdmin):
    resource_classes = [DeviceResource]
    list_display = ["serial_number", "model", "status", "location", "last_seen_at", "battery_level", "next_service_due"]
    list_filter = ["status", "model__category", "model", "municipality"]
    search_fields = [
        "serial_number",
        "imei",
        "mac_address",
        "assignments__citizen__family_name",
        "assignments__citizen__given_name",
    ]
    list_select_related = ["model"]
    readonly_fields = ["status", "status_changed_at", "last_seen_at", "battery_level", "battery_measured_at"]
    inlines = [TransitionInline]
    actions = [
        _transition_action(DeviceStatus.CLEANING, "rengøring"),
        _transition_action(DeviceStatus.IN_STOCK, "lager"),
        _transition_action(DeviceStatus.IN_REPAIR, "reparation"),
        _transition_action(DeviceStatus.RETIRED, "kasseret"),
        "rotate_credentials",
    ]

    def get_import_resource_kwargs(self, request: HttpRequest, **kwargs: Any) -> dict[str, Any]:
        staff = getattr(request.user, "staff", None)
        return {
            **super().get_import_resource_kwargs(request, **kwargs),
            "municipality": staff.municipality if staff else None,
            "by": request.user,
        }

    @admin.action(description="Udsted nye nøgler (de gamle holder op med at virke)")
    def rotate_credentials(self, request: HttpRequest, queryset: QuerySet[Device]) -> None:
        count = 0
        for device in queryset.exclude(status=DeviceStatus.RETIRED):
            device_credential_rotate(device=device, by=request.user)  # type: ignore[arg-type]
            count += 1
        self.message_user(request, f"{count} enheder har fået nye nøgler; udlever dem via API'et.")


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["device", "citizen", "installation_address", "installed_at", "returned_at", "consent_review_on"]
    list_filter = ["consent_basis", ("returned_at", admin.EmptyFieldListFilter)]
    search_fields = ["device__serial_number", "device__imei", "citizen__family_name", "citizen__given_name"]
    list_select_related = ["device", "citizen"]
    raw_id_fields = ["device", "citizen"]


@admin.register(MaintenanceTask)
class MaintenanceTaskAdmin(admin.ModelAdmin):
    list_display = ["device", "kind", "due_on", "completed_at", "result"]
    list_filter = ["kind", "result", ("completed_at", admin.EmptyFieldListFilter)]
    search_fields = ["device__serial_number"]
    list_select_related = ["device"]


@admin.register(ReturnTask)
class ReturnTaskAdmin(admin.ModelAdmin):
    list_display = ["assignment", "reason", "created_at", "completed_at"]
    list_filter = ["reason", ("completed_at", admin.EmptyFieldListFilter)]


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    """Device alerts only: health alerts belong to the care team and are not shown here."""

    list_display = ["device", "kind", "severity", "status", "opened_at", "trigger_count"]
    list_filter = ["status", "severity", "kind"]
    search_fields = ["device__serial_number"]
    list_select_related = ["device"]
    readonly_fields = [field.name for field in Alert._meta.fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Alert]:
        return super().get_queryset(request).filter(audience="it")
