import uuid

from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin, UserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MestringUserManager(UserManager):
    def _create_user(self, username, email, password, **extra_fields):
        user = self.model(username=username, email=self.normalize_email(email or ""), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user


class User(AbstractBaseUser, PermissionsMixin):
    """A login identity: a citizen, a relative or a staff member (or several of these at once).

    Citizens and relatives log in through the citizen identity provider (MitID), staff through the
    municipality's; a password with TOTP exists only in the embedded demo mode and for the admin.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    username = models.CharField(max_length=150, unique=True)
    display_name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May log in to the administration site.")
    is_demo = models.BooleanField(default=False, help_text="Created by the demo data; refused in production.")
    totp_secret = models.CharField(max_length=64, blank=True)
    totp_last_step = models.BigIntegerField(
        default=0, help_text="The last TOTP time step used; a code is accepted once."
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = MestringUserManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    def __str__(self) -> str:
        return self.display_name or self.username


class ExternalIdentity(models.Model):
    """The subject an OpenID Connect provider knows a user by."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="external_identities")
    issuer = models.CharField(max_length=300)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="external_identity_unique")]
        verbose_name_plural = "external identities"

    def __str__(self) -> str:
        return f"{self.issuer} · {self.subject}"


class AppSession(models.Model):
    """One login on one app install or browser: the unit a user sees and can sign out.

    Every access and refresh token belongs to a session; revoking the session revokes them all,
    and a refresh token used twice revokes its session (the token family).
    """

    class Audience(models.TextChoices):
        CITIZEN = "citizen", _("Borger-app")
        STAFF = "staff", _("Medarbejder")

    class RevokeReason(models.TextChoices):
        LOGOUT = "logout", _("Logget ud")
        SIGNED_OUT_ELSEWHERE = "signed_out_elsewhere", _("Logget ud fra en anden enhed")
        REFRESH_REUSE = "refresh_reuse", _("Genbrugt fornyelsesnøgle")
        ADMINISTRATOR = "administrator", _("Spærret af administrator")
        EXPIRED = "expired", _("Udløbet")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="app_sessions")
    audience = models.CharField(max_length=10, choices=Audience.choices)
    install_id = models.CharField(max_length=64, blank=True, help_text="The app install's own identifier.")
    device_name = models.CharField(max_length=100, blank=True)
    acr = models.CharField(max_length=200, blank=True, help_text="Assurance level of the login.")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.CharField(max_length=24, choices=RevokeReason.choices, blank=True)

    class Meta:
        ordering = ["-last_used_at"]
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.device_name or self.install_id or self.audience}"


class Token(models.Model):
    """An opaque bearer token, stored only as its SHA-256 hash."""

    class Kind(models.TextChoices):
        ACCESS = "access", "Access"
        REFRESH = "refresh", "Refresh"

    session = models.ForeignKey(AppSession, on_delete=models.CASCADE, related_name="tokens")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True, help_text="When a refresh token was exchanged.")

    class Meta:
        indexes = [models.Index(fields=["session", "kind"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} token of {self.session_id}"


class AccessVersion(models.Model):
    """A counter raised, in the same transaction, by every change that can take access away: a token or
    session changed or deleted, a user deactivated, a staff member's user changed, a membership made,
    changed or ended. Database triggers raise it (migration ``backend/0006``), so no code path and no bulk
    ``update()`` can change access without it. The websocket hub keeps each socket's last access check while
    the counter stands still (``notifications.stream_hub``); one row, id 1, made by the first change."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"access version {self.value}"


class LoginFlow(models.Model):
    """One OpenID Connect login in progress, from the app's start to its token exchange.

    Two PKCE legs meet here: ours towards the identity provider (``provider_code_verifier``) and the
    app's towards us (``app_code_challenge``). The one-time code handed back to the app is stored hashed.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    audience = models.CharField(max_length=10, choices=AppSession.Audience.choices)
    state = models.CharField(max_length=64, unique=True)
    nonce = models.CharField(max_length=64)
    provider_code_verifier = models.CharField(max_length=128)
    app_redirect_uri = models.CharField(max_length=300, blank=True)
    app_code_challenge = models.CharField(max_length=128, blank=True)
    app_state = models.CharField(max_length=300, blank=True)
    web_next = models.CharField(max_length=300, blank=True, help_text="Set for a browser login to a session.")
    install_id = models.CharField(max_length=64, blank=True)
    device_name = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    user = models.ForeignKey(User, on_delete=models.CASCADE, null=True, blank=True)
    acr = models.CharField(max_length=200, blank=True)
    app_code_hash = models.CharField(max_length=64, blank=True, db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    redeemed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.get_audience_display()} login started {self.created_at:%Y-%m-%d %H:%M}"


class AccountLockout(models.Model):
    """Failed logins counted per account or client address; locked until it runs out or is lifted."""

    class Scope(models.TextChoices):
        ACCOUNT = "account", _("Konto")
        ADDRESS = "address", _("Klientadresse")
        DEVICE = "device", _("Enhedsnøgle")

    scope = models.CharField(max_length=10, choices=Scope.choices)
    key = models.CharField(max_length=200)
    failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(default=timezone.now)
    locked_until = models.DateTimeField(null=True, blank=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="lockout_unique_key")]

    def __str__(self) -> str:
        return f"{self.get_scope_display()}: {self.key}"

    @property
    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > timezone.now()


class IdempotencyRecord(models.Model):
    """A create keyed by the caller's Idempotency-Key: in flight, then the response it gave."""

    scope = models.CharField(max_length=80, help_text="Who sent it: the calling principal.")
    key = models.CharField(max_length=128)
    operation = models.CharField(max_length=120)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "operation", "key"], name="idempotency_unique_key")]

    def __str__(self) -> str:
        return f"{self.operation} · {self.key}"
