import uuid

from django.conf import settings
from django.db import models


class Device(models.Model):
    """A welfare-technology device owned by a municipality."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    municipality = models.ForeignKey("backend.Municipality", on_delete=models.PROTECT, related_name="devices")
    serial_number = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["serial_number"]

    def __str__(self) -> str:
        return self.serial_number


class DeviceCredential(models.Model):
    """A device's own secret: shown once when issued, stored hashed and found by its prefix."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="credentials")
    lookup_prefix = models.CharField(max_length=12, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.device} · {self.lookup_prefix}"
