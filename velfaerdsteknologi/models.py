import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

USER = settings.AUTH_USER_MODEL


class DeviceCategory(models.Model):
    """A kind of welfare technology. Surveillance-type categories (GPS, door and bed sensors, cameras) need a
    recorded consent or legal basis and a review date before a device of theirs can be assigned."""

    code = models.SlugField(max_length=40, primary_key=True)
    name = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100, blank=True)
    is_surveillance = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "device categories"

    def __str__(self) -> str:
        return self.name

    @property
    def shown_name(self) -> str:
        """The name in the page's language: the English name where the catalogue has one."""
        if self.name_en and (get_language() or "da").startswith("en"):
            return self.name_en
        return self.name


class TelemetryKind(models.TextChoices):
    HEARTBEAT = "heartbeat", _("Livstegn")
    BATTERY = "battery", _("Batteri")
    FALL = "fall", _("Fald")
    DOSE_TAKEN = "dose_taken", _("Dosis taget")
    DOSE_MISSED = "dose_missed", _("Dosis glemt")
    DOOR_OPEN = "door_open", _("Dør åbnet")
    BED_EXIT = "bed_exit", _("Ude af sengen")
    LOCATION = "location", _("Position")
    CUSTOM = "custom", _("Anden måling")


class DeviceModel(models.Model):
    """A catalogue entry: what a manufacturer's model is, what it sends and how often it must be serviced."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    manufacturer = models.CharField(max_length=100)
    model_number = models.CharField(max_length=100)
    name = models.CharField(max_length=150, blank=True)
    category = models.ForeignKey(DeviceCategory, on_delete=models.PROTECT, related_name="device_models")
    telemetry_kinds = models.JSONField(default=list, blank=True, help_text="The telemetry kinds the model sends.")
    heartbeat_interval_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="How often the model sends a heartbeat; empty if it sends none."
    )
    is_battery_powered = models.BooleanField(default=False)
    service_interval_days = models.PositiveIntegerField(null=True, blank=True)
    test_call_interval_days = models.PositiveIntegerField(null=True, blank=True)
    battery_check_interval_days = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["manufacturer", "model_number"]
        constraints = [
            models.UniqueConstraint(fields=["manufacturer", "model_number"], name="device_model_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.manufacturer} {self.model_number}"

    @property
    def is_surveillance(self) -> bool:
        """A model is surveillance-type through its category or because it reports where the citizen is."""
        return self.category.is_surveillance or TelemetryKind.LOCATION in (self.telemetry_kinds or [])


class DeviceStatus(models.TextChoices):
    IN_STOCK = "in_stock", _("På lager")
    RESERVED = "reserved", _("Reserveret")
    IN_USE = "in_use", _("I brug")
    IN_REPAIR = "in_repair", _("Til reparation")
    LOST = "lost", _("Bortkommet")
    RETURNED = "returned", _("Returneret")
    CLEANING = "cleaning", _("Rengøring")
    RETIRED = "retired", _("Kasseret")


class Device(models.Model):
    """A welfare-technology device owned by a municipality, and where it is in its lifecycle."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    municipality = models.ForeignKey("backend.Municipality", on_delete=models.PROTECT, related_name="devices")
    model = models.ForeignKey(DeviceModel, on_delete=models.PROTECT, related_name="devices")
    serial_number = models.CharField(max_length=100)
    imei = models.CharField(max_length=15, null=True, blank=True, unique=True)
    mac_address = models.CharField(max_length=17, null=True, blank=True, unique=True)
    firmware_version = models.CharField(max_length=50, blank=True)
    purchase_date = models.DateField(null=True, blank=True)
    warranty_end = models.DateField(null=True, blank=True)
    next_service_due = models.DateField(null=True, blank=True)
    location = models.CharField(max_length=200, blank=True, help_text="Store or installation address.")
    status = models.CharField(max_length=12, choices=DeviceStatus.choices, default=DeviceStatus.IN_STOCK)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    battery_level = models.PositiveSmallIntegerField(null=True, blank=True)
    battery_measured_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["serial_number"]
        constraints = [
            models.UniqueConstraint(fields=["model", "serial_number"], name="device_unique_serial_per_model"),
            models.CheckConstraint(
                condition=Q(battery_level__isnull=True) | Q(battery_level__lte=100), name="device_battery_percent"
            ),
        ]
        indexes = [
            models.Index(fields=["municipality", "status"]),
            models.Index(fields=["serial_number"]),
        ]

    def __str__(self) -> str:
        return self.serial_number


class DeviceTransition(models.Model):
    """One step of a device's lifecycle: from which status to which, who moved it, when and why."""

    id = models.BigAutoField(primary_key=True)
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=12, choices=DeviceStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=DeviceStatus.choices)
    reason = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["device", "-at"])]

    def __str__(self) -> str:
        return f"{self.device} {self.from_status or '–'} → {self.to_status}"


class DeviceCredential(models.Model):
    """A device's own secret: shown once when issued, stored hashed and found by its prefix."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="credentials")
    lookup_prefix = models.CharField(max_length=12, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.device} · {self.lookup_prefix}"


class ConsentBasis(models.TextChoices):
    CONSENT = "consent", _("Samtykke")
    LEGAL_BASIS = "legal_basis", _("Lovhjemmel")


class Assignment(models.Model):
    """A device placed with a citizen at an installation address. At most one active assignment per device,
    enforced by the database. The citizen's address at assignment is kept to notice a move."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="assignments")
    citizen = models.ForeignKey("backend.Citizen", on_delete=models.PROTECT, related_name="device_assignments")
    episode_id = models.UUIDField(null=True, blank=True, help_text="The episode the device serves, where known.")
    goal_id = models.UUIDField(null=True, blank=True, help_text="The goal the device serves, where known.")
    installation_address = models.CharField(max_length=300)
    citizen_address_at_assignment = models.CharField(max_length=300, blank=True)
    planned_install_on = models.DateField(null=True, blank=True)
    installed_at = models.DateTimeField(null=True, blank=True)
    installed_by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    planned_return_on = models.DateField(null=True, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    returned_by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    consent_basis = models.CharField(max_length=12, choices=ConsentBasis.choices, blank=True)
    consent_reference = models.CharField(max_length=200, blank=True)
    consent_review_on = models.DateField(null=True, blank=True)
    consent_recorded_at = models.DateTimeField(null=True, blank=True)
    consent_recorded_by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["device"], condition=Q(returned_at__isnull=True), name="assignment_one_active_per_device"
            ),
            models.CheckConstraint(
                condition=Q(consent_basis="") | Q(consent_review_on__isnull=False),
                name="assignment_consent_has_review_date",
            ),
        ]
        indexes = [
            models.Index(fields=["citizen", "returned_at"]),
            # The indicators ask, per episode, for the devices installed to serve it (effekt/indicators).
            models.Index(fields=["episode_id", "installed_at"], name="assignment_episode_installed"),
        ]

    def __str__(self) -> str:
        return f"{self.device} → {self.citizen_id}"

    @property
    def is_active(self) -> bool:
        return self.returned_at is None


class ReturnTask(models.Model):
    """IT must fetch a device back from a citizen: the citizen moved or died, or the episode ended."""

    class Reason(models.TextChoices):
        CITIZEN_MOVED = "citizen_moved", _("Borgeren er flyttet")
        CITIZEN_DIED = "citizen_died", _("Borgeren er død")
        EPISODE_ENDED = "episode_ended", _("Forløbet er afsluttet")
        PLANNED_RETURN = "planned_return", _("Planlagt returnering")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="return_tasks")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment"], condition=Q(completed_at__isnull=True), name="return_task_one_open"
            )
        ]

    def __str__(self) -> str:
        return f"{self.assignment} · {self.reason}"


class MaintenanceKind(models.TextChoices):
    SERVICE = "service", _("Service")
    TEST_CALL = "test_call", _("Testopkald")
    BATTERY_CHECK = "battery_check", _("Batteritjek")


MAINTENANCE_INTERVAL_FIELD = {
    MaintenanceKind.SERVICE: "service_interval_days",
    MaintenanceKind.TEST_CALL: "test_call_interval_days",
    MaintenanceKind.BATTERY_CHECK: "battery_check_interval_days",
}


class MaintenanceTask(models.Model):
    """A scheduled service, test call or battery check of a device, and its result once done."""

    class Result(models.TextChoices):
        PASSED = "passed", _("Godkendt")
        FAILED = "failed", _("Fejl fundet")
        CANCELLED = "cancelled", _("Aflyst")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="maintenance_tasks")
    kind = models.CharField(max_length=16, choices=MaintenanceKind.choices)
    due_on = models.DateField()
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    result = models.CharField(max_length=12, choices=Result.choices, blank=True)
    notes = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["device", "kind"], condition=Q(completed_at__isnull=True), name="maintenance_one_open_per_kind"
            )
        ]
        indexes = [models.Index(fields=["completed_at", "due_on"])]

    def __str__(self) -> str:
        return f"{self.device} · {self.kind} · {self.due_on}"


class Reading(models.Model):
    """One telemetry reading as the device sent it; stored once per (device, sequence, measured_at).

    On PostgreSQL the table is partitioned by month of ``measured_at`` (``backend.partitions``)."""

    id = models.BigAutoField(primary_key=True)
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="readings", db_index=False)
    sequence = models.BigIntegerField()
    kind = models.CharField(max_length=16, choices=TelemetryKind.choices)
    value = models.JSONField(null=True, blank=True)
    numeric_value = models.FloatField(null=True, blank=True)
    measured_at = models.DateTimeField()
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["-measured_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["device", "sequence", "measured_at"], name="reading_unique_sequence")
        ]
        indexes = [models.Index(fields=["device", "kind", "measured_at"])]

    def __str__(self) -> str:
        return f"{self.device_id} #{self.sequence} {self.kind}"


class AlertAudience(models.TextChoices):
    CARE = "care", _("Plejeteamet")
    IT = "it", _("IT")


class AlertRule(models.Model):
    """What a reading of one kind from one model raises: thresholds (warning and alert, low and high) for
    measurements, a missing-data rule for heartbeats (silence for k expected intervals), or an event."""

    class Type(models.TextChoices):
        THRESHOLD = "threshold", _("Tærskelværdier")
        MISSING_DATA = "missing_data", _("Manglende data")
        EVENT = "event", _("Hændelse")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    device_model = models.ForeignKey(DeviceModel, on_delete=models.CASCADE, related_name="alert_rules")
    kind = models.CharField(max_length=16, choices=TelemetryKind.choices)
    rule_type = models.CharField(max_length=16, choices=Type.choices)
    audience = models.CharField(max_length=8, choices=AlertAudience.choices)
    alert_low = models.FloatField(null=True, blank=True)
    warning_low = models.FloatField(null=True, blank=True)
    warning_high = models.FloatField(null=True, blank=True)
    alert_high = models.FloatField(null=True, blank=True)
    missing_after_intervals = models.PositiveSmallIntegerField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind"]
        constraints = [models.UniqueConstraint(fields=["device_model", "kind"], name="alert_rule_one_per_kind")]

    def __str__(self) -> str:
        return f"{self.device_model} · {self.kind}"


class AlertSeverity(models.TextChoices):
    WARNING = "warning", _("Advarsel")
    ALERT = "alert", _("Alarm")


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Åben")
    ACKNOWLEDGED = "acknowledged", _("Kvitteret")
    RESOLVED = "resolved", _("Løst")


OPEN_ALERT_STATUSES = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)


class Alert(models.Model):
    """An alarm raised by a rule for a device. At most one unresolved alert per device, rule and citizen:
    further triggers update it, and a health alert stays with the citizen whose assignment was active when it
    was raised. Health alerts (fall, missed dose) go to the citizen's care team, device alerts to IT."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="alerts")
    rule = models.ForeignKey(AlertRule, on_delete=models.PROTECT, related_name="alerts")
    citizen = models.ForeignKey(
        "backend.Citizen", on_delete=models.PROTECT, null=True, blank=True, related_name="device_alerts"
    )
    audience = models.CharField(max_length=8, choices=AlertAudience.choices)
    kind = models.CharField(max_length=16, choices=TelemetryKind.choices)
    severity = models.CharField(max_length=8, choices=AlertSeverity.choices)
    status = models.CharField(max_length=14, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    value = models.FloatField(null=True, blank=True)
    trigger_count = models.PositiveIntegerField(default=1)
    opened_at = models.DateTimeField()
    last_triggered_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(USER, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    resolution_reason = models.CharField(
        max_length=200, blank=True, help_text="Why the system resolved the alert, when nobody did."
    )

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["device", "rule", "citizen"],
                condition=~Q(status="resolved") & Q(citizen__isnull=False),
                name="alert_one_unresolved_per_citizen",
            ),
            models.UniqueConstraint(
                fields=["device", "rule"],
                condition=~Q(status="resolved") & Q(citizen__isnull=True),
                name="alert_one_unresolved_per_rule",
            ),
        ]
        indexes = [
            models.Index(fields=["audience", "status", "-opened_at"]),
            models.Index(fields=["citizen", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.device} · {self.kind} · {self.status}"
