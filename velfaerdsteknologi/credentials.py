"""Device credentials: a device authenticates with its own token and can act only as itself."""

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from backend.auth import LAST_USED_RESOLUTION
from backend.ratelimit import client_address, failure_record, lockout_check, rate_limit
from backend.tokens import DEVICE_PREFIX, hash_secret, looks_like, secrets_match
from velfaerdsteknologi.models import Device, DeviceCredential

PREFIX_LENGTH = 10


@dataclass(eq=False)
class DevicePrincipal:
    device: Device
    credential: DeviceCredential

    @property
    def principal_id(self) -> str:
        return f"device:{self.device.pk}"


@transaction.atomic
def device_credential_issue(*, device: Device, by=None) -> tuple[DeviceCredential, str]:
    """A new token for the device, returned once; earlier credentials of the device are revoked."""
    DeviceCredential.objects.filter(device=device, revoked_at__isnull=True).update(revoked_at=timezone.now())
    lookup_prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    secret = secrets.token_urlsafe(32)
    raw = f"{DEVICE_PREFIX}{lookup_prefix}.{secret}"

    credential = DeviceCredential.objects.create(
        device=device, lookup_prefix=lookup_prefix, secret_hash=hash_secret(raw), created_by=by
    )
    return credential, raw


def device_for_token(raw: str) -> DevicePrincipal | None:
    if not looks_like(raw, DEVICE_PREFIX):
        return None
    lookup_prefix = raw[len(DEVICE_PREFIX) : len(DEVICE_PREFIX) + PREFIX_LENGTH]
    credential = (
        DeviceCredential.objects.select_related("device")
        .filter(lookup_prefix=lookup_prefix, revoked_at__isnull=True)
        .first()
    )
    if credential is None or not secrets_match(raw, credential.secret_hash):
        return None
    return DevicePrincipal(device=credential.device, credential=credential)


class DeviceBearer(HttpBearer):
    """Devices only. A correct secret always works: failing attempts are rate-limited and locked out per
    client address (an administrator can lift the lock), never per credential, so that nobody who has
    seen a token's public prefix can lock a fall alarm out."""

    def authenticate(self, request: HttpRequest, token: str) -> DevicePrincipal | None:
        principal = device_for_token(token)
        if principal is None:
            address = client_address(request)
            lockout_check(scope="address", key=f"device:{address}")
            rate_limit(scope="device-address", key=address, limit=settings.RATE_LIMIT_PER_ADDRESS)
            if looks_like(token, DEVICE_PREFIX):  # a person's token sent here by mistake is no attack
                failure_record(scope="address", key=f"device:{address}")
            return None
        last_used = principal.credential.last_used_at
        if last_used is None or timezone.now() - last_used > LAST_USED_RESOLUTION:
            DeviceCredential.objects.filter(pk=principal.credential.pk).update(last_used_at=timezone.now())
        return principal


class DeviceRequest(HttpRequest):
    """The request a handler behind ``DeviceBearer`` receives."""

    auth: DevicePrincipal
