from datetime import datetime

from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessLogQuerySet(models.QuerySet["AccessLogEntry"]):
    """Access-log rows can be added and read; changing or deleting them is refused."""

    def update(self, **kwargs):
        raise PermissionError("The access log is append-only.")

    def delete(self):
        raise PermissionError("The access log is append-only; retention runs purge_expired().")

    def purge_expired(self, *, cutoff: datetime) -> int:
        """Remove rows older than the retention period; the only deletion the log allows."""
        expired = self.model.objects.filter(at__lt=cutoff)
        return expired._raw_delete(expired.db)


class AccessLogEntry(models.Model):
    """One read or write of a citizen's personal data: who, in which role, what, why and when.

    Rows are written in the same transaction as the write they record, and before the data of a read
    is returned; if the row cannot be written, the data is not returned. A database trigger refuses
    updates as well.
    """

    class Action(models.TextChoices):
        READ = "read", _("Læst")
        CREATE = "create", _("Oprettet")
        UPDATE = "update", _("Ændret")
        DELETE = "delete", _("Slettet")
        EXPORT = "export", _("Eksporteret")

    class Purpose(models.TextChoices):
        CARE = "care", _("Pleje og behandling")
        FOLLOW_UP = "follow_up", _("Opfølgning")
        DEVICE_INSTALLATION = "device_installation", _("Installation af velfærdsteknologi")
        OWN_USE = "own_use", _("Borgerens egen brug")
        RELATIVE_SUPPORT = "relative_support", _("Støtte fra pårørende")
        ADMINISTRATION = "administration", _("Administration")

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor_id = models.UUIDField(null=True, blank=True, help_text="The user or device that acted.")
    actor_name = models.CharField(max_length=200)
    actor_role = models.CharField(max_length=20)
    citizen = models.ForeignKey("backend.Citizen", on_delete=models.PROTECT, related_name="+", db_index=False)
    resource_type = models.CharField(max_length=60)
    resource_id = models.CharField(max_length=64, blank=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    purpose = models.CharField(max_length=24, choices=Purpose.choices)
    request_id = models.CharField(max_length=64, blank=True)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["citizen", "-at", "-id"], name="access_log_citizen_at")]
        verbose_name = "access-log entry"
        verbose_name_plural = "access log"
        default_permissions = ("add", "view")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.resource_type}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("The access log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The access log is append-only.")
