"""CSV import and export of devices, catalogue models and assignments: upload, a dry run that lists each row's
errors in Danish and writes nothing, then the import (all or nothing); each export takes its page's filters.
One view serves the three tables through ``velfaerdsteknologi.transfer``."""

from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from backend.actors import IT
from staffweb.forms import DkfdsForm
from staffweb.views.base import StaffRequest, page, staff_page
from staffweb.views.it.forms import SERIAL_NUMBER_MESSAGE, ImportForm, RegisterFilterForm
from velfaerdsteknologi import selectors, transfer
from velfaerdsteknologi.models import DeviceCategory, DeviceModel
from velfaerdsteknologi.transfer import MAX_IMPORT_ROWS


@dataclass(frozen=True)
class Kind:
    """One of the three files, as the page shows it."""

    key: str
    table: transfer.Table
    title: StrOrPromise
    columns: StrOrPromise
    created: tuple[StrOrPromise, StrOrPromise]  # one, more
    import_url: str
    export_url: str
    after_url: str
    after_words: StrOrPromise


KINDS = {
    "devices": Kind(
        "devices",
        transfer.DEVICES,
        _("Enheder"),
        _(
            "Kolonner: serial_number, manufacturer, model_number; gerne også imei, mac_address, firmware_version, "
            "purchase_date, warranty_end, location. Datoer som åååå-mm-dd."
        ),
        (_("1 enhed er importeret og står på lager."), _("{n} enheder er importeret og står på lager.")),
        "staffweb:it:import",
        "staffweb:it:export",
        "staffweb:it:devices",
        _("Se de nyeste enheder"),
    ),
    "models": Kind(
        "models",
        transfer.DEVICE_MODELS,
        _("Modeller"),
        _(
            "Kolonner: manufacturer, model_number, category (kategoriens kode); gerne også name, telemetry_kinds "
            "(adskilt af semikolon, fx heartbeat;battery;fall), heartbeat_interval_seconds, is_battery_powered "
            "(ja/nej), service_interval_days, test_call_interval_days, battery_check_interval_days."
        ),
        (
            _("1 model er tilføjet kataloget med standardreglerne."),
            _("{n} modeller er tilføjet kataloget med standardreglerne."),
        ),
        "staffweb:it:import-models",
        "staffweb:it:export-models",
        "staffweb:it:catalogue",
        _("Se kataloget"),
    ),
    "assignments": Kind(
        "assignments",
        transfer.ASSIGNMENTS,
        _("Tildelinger"),
        _(
            "Kolonner: serial_number, manufacturer, model_number, cpr; gerne også installation_address, "
            "planned_install_on, planned_return_on, consent_basis (consent eller legal_basis), consent_reference, "
            "consent_review_on. Overvågende enheder kræver consent_basis og consent_review_on."
        ),
        (
            _("1 enhed er reserveret til borgeren og venter på installation."),
            _("{n} enheder er reserveret til borgerne og venter på installation."),
        ),
        "staffweb:it:import-assignments",
        "staffweb:it:export-assignments",
        "staffweb:it:devices",
        _("Se de reserverede enheder"),
    ),
}

# The import's problem codes as the page says them; some by the column they are about.
CODE_MESSAGES = {
    "unreadable": _("Filen kan ikke læses som CSV. Gem den som CSV (kommasepareret, UTF-8) og prøv igen."),
    "empty": _("Filen er tom."),
    "missing_column": _("Kolonnen mangler i filens første række."),
    "unknown_column": _("Kolonnen kendes ikke. Ret overskriften eller fjern kolonnen."),
    "too_many_rows": _("Højst %(rows)s rækker pr. import. Del filen op."),
    "extra_cells": _("Rækken har flere celler end overskriften."),
    "formula": _("Cellen begynder med =, +, - eller @ og ville blive kørt som en formel i et regneark. Ret værdien."),
    "duplicate_in_file": _("Samme værdi står i en anden række i filen."),
    "unknown_model": _("Fabrikant og modelnummer skal svare til en model i kataloget."),
    "unknown_category": _("Kategorien findes ikke. Brug kategoriens kode fra kataloget."),
    "unknown_device": _("Der er ingen enhed af denne model med dette serienummer i kommunen."),
    "device_not_in_stock": _("Kun en enhed på lager kan tildeles."),
    "cpr": _("Skriv et gyldigt CPR-nummer: 10 cifre, gerne med bindestreg."),
    "citizen": _("Borgeren findes ikke i kommunen eller er registreret som død."),
    "consent_required": _("En overvågende enhed kræver samtykke eller lovhjemmel og en revurderingsdato."),
    "review_date": _("Revurderingsdatoen skal ligge efter i dag."),
    "address": _("Borgeren har ingen adresse registreret. Skriv installationsadressen."),
    "required": _("Skal udfyldes."),
    "max_length": _("Værdien er for lang."),
    "date": _("Skriv datoen som åååå-mm-dd."),
    "number": _("Skriv et helt tal."),
    "number_range": _("Tallet er uden for det tilladte interval."),
    "boolean": _("Skriv ja eller nej."),
    "conflict": _("Registret blev ændret under importen, og intet er gemt. Tjek filen igen."),
}
FIELD_MESSAGES = {
    ("duplicate", "serial_number"): _("Der findes allerede en enhed af denne model med dette serienummer."),
    ("duplicate", "imei"): _("En anden enhed har allerede dette IMEI-nummer."),
    ("duplicate", "mac_address"): _("En anden enhed har allerede denne MAC-adresse."),
    ("duplicate", "model_number"): _("Modellen findes allerede i kataloget."),
    ("duplicate_in_file", "serial_number"): _("Samme enhed står i en anden række i filen."),
    ("duplicate_in_file", "model_number"): _("Samme model står i en anden række i filen."),
    ("pattern", "serial_number"): SERIAL_NUMBER_MESSAGE,
    ("pattern", "imei"): _("Skriv IMEI-nummeret som 15 cifre."),
    ("pattern", "mac_address"): _("Skriv MAC-adressen som seks par hex-tegn adskilt af kolon, fx 00:1A:2B:3C:4D:5E."),
    ("choice", "consent_basis"): _("Skriv consent (samtykke) eller legal_basis (lovhjemmel)."),
    ("choice", "telemetry_kinds"): _(
        "Ukendt målingstype. Brug heartbeat, battery, fall, dose_taken, dose_missed, "
        "door_open, bed_exit, location eller custom."
    ),
    ("invalid", "planned_return_on"): _("Returneringen kan ikke planlægges før installationen."),
}


def danish(error: dict[str, Any]) -> dict[str, Any]:
    """One error of the import as the page says it: the row, the column and what is wrong (never the cell)."""
    code, field = error.get("code", "invalid"), error["field"] or "row"
    text = str(FIELD_MESSAGES.get((code, field)) or CODE_MESSAGES.get(code) or gettext("Værdien kan ikke bruges."))
    if code == "too_many_rows":
        text = text % {"rows": MAX_IMPORT_ROWS}
    column = {"csv": gettext("Filen"), "row": gettext("Rækken")}.get(field, field)
    return {"row": error["row"], "column": column, "message": text}


class AssignmentExportForm(DkfdsForm):
    state = forms.ChoiceField(
        label=_("Tildelinger"),
        required=False,
        choices=[("", _("Alle")), ("aktive", _("Aktive")), ("afsluttede", _("Afsluttede"))],
    )
    category = forms.ChoiceField(label=_("Kategori"), required=False)

    def __init__(self, *args: Any, categories: list[DeviceCategory], **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["category"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", gettext("Alle")), *[(category.code, category.shown_name) for category in categories]]

    def filters(self) -> dict[str, Any]:
        if not self.is_valid():
            return {}
        state = self.cleaned_data.get("state")
        return {
            "is_active": {"aktive": True, "afsluttede": False}.get(state or ""),
            "category": self.cleaned_data.get("category") or None,
        }


def _import_page(request: StaffRequest, kind: Kind) -> HttpResponse:
    actor = request.actor
    context: dict[str, Any] = {
        "nav": "it-import",
        "kind": kind,
        "kinds": KINDS.values(),
        "form": ImportForm(columns=kind.columns),
        "report": None,
        "export_form": AssignmentExportForm(categories=list(DeviceCategory.objects.all()))
        if kind.key == "assignments"
        else None,
    }
    status = 200
    if request.method == "POST":
        dry_run = request.POST.get("action") != "import"
        form = (
            ImportForm(request.POST, request.FILES, columns=kind.columns)
            if dry_run
            else ImportForm(columns=kind.columns)
        )
        csv_text = (form.csv_text() if form.is_valid() else None) if dry_run else request.POST.get("csv") or None
        context["form"] = form
        if csv_text is None:
            response = page(request, "staffweb/it/import.html", context, status=422)
            response["Cache-Control"] = "no-store"
            return response
        assert actor.staff is not None
        report = transfer.csv_import(
            kind.table,
            municipality=actor.staff.municipality,
            by=actor.user,
            actor=actor,
            csv_text=csv_text,
            dry_run=dry_run,
        )
        context.update(
            report=report,
            errors=[danish(error) for error in report.errors],
            csv_text=csv_text if dry_run and not report.errors else "",
            created_words=str(kind.created[0 if report.created == 1 else 1]).format(n=report.created),
            after_url=reverse(kind.after_url) + ("?sort=newest" if kind.key == "devices" else ""),
        )
        status = 422 if report.errors else (200 if dry_run else 201)
    response = page(request, "staffweb/it/import.html", context, status=status)
    response["Cache-Control"] = "no-store"  # the file may hold CPR numbers
    return response


@staff_page(IT)
def device_import(request: StaffRequest) -> HttpResponse:
    return _import_page(request, KINDS["devices"])


@staff_page(IT)
def model_import(request: StaffRequest) -> HttpResponse:
    return _import_page(request, KINDS["models"])


@staff_page(IT)
def assignment_import(request: StaffRequest) -> HttpResponse:
    return _import_page(request, KINDS["assignments"])


def _csv_response(table: transfer.Table, items: Any, filename: str) -> HttpResponse:
    response = HttpResponse(transfer.csv_export_lines(table, items), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@staff_page(IT)
def device_export(request: StaffRequest) -> HttpResponse:
    """The register as CSV, with the register's filters (not the citizen search: the export holds no citizen)."""
    categories = [(category.code, category.shown_name) for category in DeviceCategory.objects.all()]
    form = RegisterFilterForm(request.GET, categories=categories, models=selectors.device_model_choices())
    filters = form.filters() if form.is_valid() else {}
    devices = selectors.devices_filtered(request.actor, **filters).order_by("serial_number", "id")
    return _csv_response(transfer.DEVICES, devices.iterator(chunk_size=2000), "enheder.csv")


@staff_page(IT)
def model_export(request: StaffRequest) -> HttpResponse:
    """The catalogue's models as CSV, of the category the catalogue shows."""
    category = request.GET.get("category") or None
    if category and not DeviceCategory.objects.filter(code=category).exists():
        category = None
    models: list[DeviceModel] = selectors.catalogue(category=category)
    return _csv_response(transfer.DEVICE_MODELS, models, "modeller.csv")


@staff_page(IT)
def assignment_export(request: StaffRequest) -> HttpResponse:
    """The assignments as CSV with the citizen's name and installation address (each citizen logged)."""
    form = AssignmentExportForm(request.GET, categories=list(DeviceCategory.objects.all()))
    items = selectors.assignments_for_export(request.actor, **form.filters())
    return _csv_response(transfer.ASSIGNMENTS, items, "tildelinger.csv")
