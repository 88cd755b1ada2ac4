"""Administration of municipalities, units, teams, staff, citizens, sessions and lockouts."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from backend import cpr
from backend.models import (
    AccessLogEntry,
    AccountLockout,
    AppSession,
    CareRelation,
    Citizen,
    Membership,
    Municipality,
    OrganisationUnit,
    Relative,
    Staff,
    User,
)
from backend.models.tenancy import Team
from backend.ratelimit import lockout_lift
from backend.services.identity import session_revoke


class OrganisationUnitInline(admin.TabularInline):
    model = OrganisationUnit
    extra = 0
    fields = ["name", "parent"]


@admin.register(Municipality)
class MunicipalityAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]
    inlines = [OrganisationUnitInline]


class TeamInline(admin.TabularInline):
    model = Team
    extra = 0
    fields = ["name", "kind"]


@admin.register(OrganisationUnit)
class OrganisationUnitAdmin(admin.ModelAdmin):
    list_display = ["name", "municipality", "parent"]
    list_filter = ["municipality"]
    search_fields = ["name"]
    inlines = [TeamInline]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["team", "role", "valid_from", "valid_to"]
    autocomplete_fields = ["team"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "unit", "kind"]
    list_filter = ["kind", "unit__municipality"]
    search_fields = ["name", "unit__name"]


@admin.register(Staff)
class StaffAdmin(admin.ModelAdmin):
    list_display = ["__str__", "title", "municipality"]
    list_filter = ["municipality", "memberships__role", "memberships__team"]
    search_fields = ["user__display_name", "user__username", "title"]
    autocomplete_fields = ["user"]
    inlines = [MembershipInline]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "display_name", "is_active", "is_staff", "is_demo", "last_login"]
    list_filter = ["is_active", "is_staff", "is_demo"]
    search_fields = ["username", "display_name", "email"]
    ordering = ["username"]
    fieldsets = (
        (None, {"fields": ("username", "password", "display_name", "email")}),
        ("Adgang", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Demo", {"fields": ("is_demo",)}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("username", "display_name", "password1", "password2")}),)
    readonly_fields = ["is_demo"]


class CitizenAdminForm(forms.ModelForm):
    cpr_number = forms.CharField(
        label="CPR-nummer",
        required=False,
        help_text="Udfyldes ved oprettelse; gemmes krypteret og vises ikke igen.",
        widget=forms.PasswordInput(render_value=False),
    )

    class Meta:
        model = Citizen
        fields = [
            "municipality",
            "given_name",
            "family_name",
            "address_line",
            "postcode",
            "city",
            "phone",
            "language",
            "time_zone",
            "deceased_on",
        ]

    def clean_cpr_number(self) -> cpr.CprNumber | None:
        raw = self.cleaned_data.get("cpr_number") or ""
        if not raw:
            if self.instance._state.adding:
                raise ValidationError("CPR-nummer skal udfyldes.")
            return None
        try:
            number = cpr.CprNumber.parse(raw)
        except cpr.InvalidCpr as exc:
            raise ValidationError(str(exc)) from exc
        duplicate = Citizen.objects.filter(cpr_hash=cpr.keyed_hash(number)).exclude(pk=self.instance.pk)
        if duplicate.exists():
            raise ValidationError("Der findes allerede en borger med dette CPR-nummer.")
        return number

    def save(self, commit: bool = True) -> Citizen:
        number = self.cleaned_data.get("cpr_number")
        if number is not None:
            self.instance.cpr_ciphertext = cpr.encrypt(number)
            self.instance.cpr_hash = cpr.keyed_hash(number)
        return super().save(commit)


class CareRelationInline(admin.TabularInline):
    model = CareRelation
    extra = 0
    fields = ["team", "purpose", "valid_from", "valid_to"]
    autocomplete_fields = ["team"]


@admin.register(Citizen)
class CitizenAdmin(admin.ModelAdmin):
    form = CitizenAdminForm
    list_display = ["full_name", "address_line", "postcode", "city", "municipality"]
    list_filter = ["municipality", "care_relations__team"]
    search_fields = ["given_name", "family_name", "address_line", "phone"]
    inlines = [CareRelationInline]

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        # A CPR number in the search box is matched by its keyed hash, never by a stored plain value.
        try:
            number = cpr.CprNumber.parse(search_term)
        except cpr.InvalidCpr:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(cpr_hash=cpr.keyed_hash(number)), False


@admin.register(Relative)
class RelativeAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "phone", "created_at"]
    search_fields = ["user__display_name", "phone"]


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_name", "actor_role", "action", "purpose", "resource_type", "citizen"]
    list_filter = ["action", "purpose", "actor_role"]
    search_fields = ["actor_name", "request_id"]
    list_select_related = ["citizen"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AccountLockout)
class AccountLockoutAdmin(admin.ModelAdmin):
    list_display = ["scope", "key", "failures", "locked_until", "lifted_at", "lifted_by"]
    list_filter = ["scope"]
    search_fields = ["key"]
    readonly_fields = ["scope", "key", "failures", "last_failure_at", "locked_until", "lifted_at", "lifted_by"]
    actions = ["lift"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Ophæv spærring")
    def lift(self, request: HttpRequest, queryset: QuerySet[AccountLockout]) -> None:
        for lockout in queryset:
            lockout_lift(lockout, by=request.user)
        self.message_user(request, f"{queryset.count()} spærring(er) ophævet.", messages.SUCCESS)


@admin.register(AppSession)
class AppSessionAdmin(admin.ModelAdmin):
    list_display = ["user", "audience", "device_name", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["audience", "revoke_reason"]
    search_fields = ["user__display_name", "user__username", "device_name"]
    readonly_fields = [
        "user",
        "audience",
        "install_id",
        "device_name",
        "acr",
        "ip_address",
        "user_agent",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
        "revoke_reason",
    ]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Log ud (tilbagekald sessionen)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[AppSession]) -> None:
        for session in queryset.filter(revoked_at__isnull=True):
            session_revoke(session=session, reason=AppSession.RevokeReason.ADMINISTRATOR)
        self.message_user(request, "Sessionerne er logget ud.", messages.SUCCESS)
