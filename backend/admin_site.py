"""The administration site: logging in takes a password and a TOTP code where password login is
enabled (embedded and demo mode); otherwise staff log in through the municipality's identity provider.
"""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse

from backend.errors import RateLimited
from backend.ratelimit import client_address, failure_record, lockout_check, rate_limit
from backend.services.identity import totp_verify


class TOTPAdminAuthenticationForm(AdminAuthenticationForm):
    otp_code = forms.CharField(label="Engangskode (TOTP)", max_length=10)

    def clean(self) -> dict[str, Any]:
        if not settings.PASSWORD_LOGIN_ENABLED:
            raise ValidationError("Log ind med kommunens login.", code="password_login_disabled")
        assert self.request is not None
        account = (self.data.get("username") or "").strip().lower()
        try:
            rate_limit(scope="login-address", key=client_address(self.request), limit=settings.RATE_LIMIT_PER_ADDRESS)
            lockout_check(scope="account", key=account)
        except RateLimited as exc:
            raise ValidationError(exc.detail, code="rate_limited") from exc
        try:
            cleaned = super().clean()
        except ValidationError:
            failure_record(scope="account", key=account)
            raise
        user = self.get_user()
        code = (self.cleaned_data.get("otp_code") or "").strip()
        if not totp_verify(user, code):
            failure_record(scope="account", key=account)
            raise ValidationError("Forkert engangskode.", code="invalid_otp")
        return cleaned


class MestringAdminSite(admin.AdminSite):
    site_header = "Mestring administration"
    site_title = "Mestring"
    login_form = TOTPAdminAuthenticationForm
    login_template = "admin/login.html"

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None):
        context = {
            "password_login_enabled": settings.PASSWORD_LOGIN_ENABLED,
            "staff_login_url": reverse("staff-web-login") if settings.OIDC_PROVIDERS["staff"]["issuer"] else "",
            **(extra_context or {}),
        }
        return super().login(request, context)
