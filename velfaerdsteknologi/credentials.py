"""Device credentials: a device authenticates with its own token and can act only as itself."""

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from backend import sql
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


@dataclass(frozen=True)
class _Lookup:
    """The credential lookup as one statement over both tables, with how to turn its rows into instances."""

    statement: str
    credential_names: tuple[str, ...]
    device_names: tuple[str, ...]
    converters: tuple[tuple[int, sql.Converter], ...]


_lookups: dict[str, _Lookup] = {}


def _lookup() -> _Lookup:
    """Built once per database vendor from the models' metadata: the ORM spends longer compiling the
    ``select_related`` query of every telemetry post than the database spends answering it."""
    found = _lookups.get(connection.vendor)
    if found is not None:
        return found
    columns: list[tuple[type[Model], str, str]] = [
        *((DeviceCredential, field.name, "c") for field in DeviceCredential._meta.concrete_fields),
        *((Device, field.name, "d") for field in Device._meta.concrete_fields),
    ]
    converters = ((index, sql.converter(model, name, alias)) for index, (model, name, alias) in enumerate(columns))
    statement = (
        f"SELECT {', '.join(sql.column(model, name, alias) for model, name, alias in columns)} "  # noqa: S608
        f"FROM {sql.table(DeviceCredential)} c INNER JOIN {sql.table(Device)} d "
        f"ON {sql.column(Device, 'id', 'd')} = {sql.column(DeviceCredential, 'device', 'c')} "
        f"WHERE {sql.column(DeviceCredential, 'lookup_prefix', 'c')} = %s "
        f"AND {sql.column(DeviceCredential, 'revoked_at', 'c')} IS NULL LIMIT 1"
    )
    found = _lookups[connection.vendor] = _Lookup(
        statement=statement,
        credential_names=tuple(sql.model_field(DeviceCredential, name).attname for model, name, _ in columns
                               if model is DeviceCredential),
        device_names=tuple(sql.model_field(Device, name).attname for model, name, _ in columns if model is Device),
        converters=tuple((index, convert) for index, convert in converters if convert is not None),
    )  # fmt: skip
    return found


def device_for_token(raw: str) -> DevicePrincipal | None:
    if not looks_like(raw, DEVICE_PREFIX):
        return None
    lookup_prefix = raw[len(DEVICE_PREFIX) : len(DEVICE_PREFIX) + PREFIX_LENGTH]
    lookup = _lookup()
    rows = sql.fetch(lookup.statement, [lookup_prefix])
    if not rows:
        return None
    row = list(rows[0])
    for index, convert in lookup.converters:
        row[index] = convert(row[index])
    split = len(lookup.credential_names)
    credential = DeviceCredential.from_db(connection.alias, list(lookup.credential_names), row[:split])
    if not secrets_match(raw, credential.secret_hash):
        return None
    device = Device.from_db(connection.alias, list(lookup.device_names), row[split:])
    credential.device = device
    return DevicePrincipal(device=device, credential=credential)


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
