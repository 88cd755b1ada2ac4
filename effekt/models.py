import uuid

from django.conf import settings
from django.db import models
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from effekt.indicators.definitions import INDICATORS
from selvbetjening.texts import pick


class TheoryOfChange(models.Model):
    """A municipality's theory of change (forandringsteori) for one effort: intervention → activities →
    outputs → short- and long-term outcomes, with the assumptions beside it. Each outcome is measured by
    one of the standard indicators."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    municipality = models.ForeignKey(
        "backend.Municipality", on_delete=models.PROTECT, related_name="theories_of_change"
    )
    title = models.CharField(max_length=200)
    intervention = models.TextField(help_text="The effort: what the municipality does, for whom.")
    activities = models.TextField(help_text="What is done in the effort.")
    outputs = models.TextField(help_text="What is delivered: sessions, visits, devices.")
    assumptions = models.TextField(blank=True, help_text="What must hold for the chain to work.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "id"]
        verbose_name_plural = "theories of change"

    def __str__(self) -> str:
        return self.title


class Outcome(models.Model):
    """One outcome of a theory of change, measured by a measure of a standard indicator."""

    class Term(models.TextChoices):
        SHORT = "short", _("Kort sigt")
        LONG = "long", _("Lang sigt")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    theory = models.ForeignKey(TheoryOfChange, on_delete=models.CASCADE, related_name="outcomes")
    position = models.PositiveSmallIntegerField()
    term = models.CharField(max_length=5, choices=Term.choices)
    description = models.CharField(max_length=500)
    indicator_key = models.CharField(
        max_length=40, choices=[(indicator.key, lazy(pick, str)(*indicator.title)) for indicator in INDICATORS]
    )
    measure_key = models.CharField(max_length=40, blank=True, help_text="Empty: the indicator's citizen count.")
    target = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["theory", "position"]
        constraints = [models.UniqueConstraint(fields=["theory", "position"], name="outcome_unique_position")]

    def __str__(self) -> str:
        return self.description[:60]


class AggregateRead(models.Model):
    """One indicator query: who asked, in which role and for what, which indicator with which filters, and
    where (API, page, CSV, MeasureReport, theory of change, benchmark). The access log proper holds one row
    per citizen; an aggregate names none, so it is logged here instead. Append-only."""

    class Surface(models.TextChoices):
        API = "api", "API"
        PAGE = "page", _("Side")
        CSV = "csv", "CSV"
        MEASURE_REPORT = "measure_report", "MeasureReport"
        THEORY = "theory", _("Forandringsteori")
        BENCHMARK = "benchmark", _("Benchmark")

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor_id = models.UUIDField()
    actor_name = models.CharField(max_length=200)
    actor_role = models.CharField(max_length=20)
    purpose = models.CharField(max_length=24)
    municipality = models.ForeignKey("backend.Municipality", on_delete=models.PROTECT, related_name="+")
    surface = models.CharField(max_length=16, choices=Surface.choices)
    indicator_key = models.CharField(max_length=40)
    period_start = models.DateField()
    period_end = models.DateField()
    filters = models.JSONField(default=dict, blank=True, help_text="The filters and breakdown asked for.")
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "aggregate read"
        verbose_name_plural = "aggregate reads (indicator queries)"
        default_permissions = ("add", "view")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.indicator_key} ({self.surface})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("The aggregate-read log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The aggregate-read log is append-only.")


class BenchmarkParticipation(models.Model):
    """A municipality that takes part in the cross-municipality benchmark: its municipality-level figures
    are compared with those of the others that do, and it sees theirs. Ending it removes the row."""

    municipality = models.OneToOneField(
        "backend.Municipality", on_delete=models.CASCADE, primary_key=True, related_name="benchmark_participation"
    )
    joined_at = models.DateTimeField(auto_now_add=True)
    joined_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "benchmark participation"

    def __str__(self) -> str:
        return str(self.municipality)


class IndicatorTable(models.Model):
    """One indicator's suppressed cells for a municipality and calendar year, without filters or with one,
    precomputed by ``manage.py indicators_refresh``: the figures the queries with those filters read.
    ``organisation`` is the teams and units the cells were computed for (read falls back to computing when
    they have changed since); ``inputs`` sums up the rows behind the figures, so a refresh recomputes only
    the tables whose inputs changed."""

    id = models.BigAutoField(primary_key=True)
    municipality = models.ForeignKey("backend.Municipality", on_delete=models.CASCADE, related_name="+")
    indicator_key = models.CharField(max_length=40)
    year = models.PositiveSmallIntegerField()
    filters = models.CharField(
        max_length=80, blank=True, default="", help_text="Empty: no filter; else the one filter, e.g. age_band=80+."
    )
    computed_at = models.DateTimeField()
    organisation = models.CharField(max_length=64)
    inputs = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "indicator_key", "year", "filters"], name="indicator_table_unique_filters"
            )
        ]

    def __str__(self) -> str:
        return f"{self.indicator_key} {self.year} {self.filters} ({self.computed_at:%Y-%m-%d %H:%M})".replace("  ", " ")


class IndicatorTableCell(models.Model):
    """A cell of a precomputed table: a node of the organisation (or a group inside it) in the year or one
    of its quarters, as shown: nothing but ``suppressed`` when it is suppressed."""

    id = models.BigAutoField(primary_key=True)
    table = models.ForeignKey(IndicatorTable, on_delete=models.CASCADE, related_name="cells")
    period = models.CharField(max_length=4)
    level = models.CharField(max_length=12)
    node_id = models.UUIDField()
    group = models.CharField(max_length=64, blank=True, help_text="Empty: the whole node.")
    group_name = models.JSONField(null=True, help_text="The group's name in Danish and English.")
    suppressed = models.BooleanField()
    citizens = models.IntegerField(null=True)
    count = models.IntegerField(null=True)
    share = models.FloatField(null=True)
    values = models.JSONField(null=True)

    class Meta:
        indexes = [models.Index(fields=["table", "period"])]

    def __str__(self) -> str:
        return f"{self.period} {self.level} {self.node_id} {self.group}"
