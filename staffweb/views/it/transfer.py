"""CSV import and export of the register: upload, a dry run that lists each row's errors in Danish and writes
nothing, then the import (all or nothing); the export takes the register's filters."""

from typing import Any

from django.http import HttpResponse
from django.utils import translation

from backend.actors import IT
from staffweb.views.base import StaffRequest, page, staff_page
from staffweb.views.it.forms import ImportForm, RegisterFilterForm
from velfaerdsteknologi import selectors
from velfaerdsteknologi.models import DeviceCategory
from velfaerdsteknologi.resources import MAX_IMPORT_ROWS, REQUIRED_COLUMNS, devices_export, devices_import

# The import's errors in Danish: by the problem's code, else by the column it is about.
CODE_MESSAGES = {
    "unreadable": "Filen kan ikke læses som CSV.",
    "missing_column": "Der mangler en kolonne. Disse skal være med: " + ", ".join(REQUIRED_COLUMNS) + ".",
    "too_many_rows": f"Højst {MAX_IMPORT_ROWS} rækker pr. import.",
}
UNIQUE_MESSAGES = {
    "serial_number": "Der findes allerede en enhed af denne model med dette serienummer.",
    "imei": "En anden enhed har allerede dette IMEI-nummer.",
    "mac_address": "En anden enhed har allerede denne MAC-adresse.",
    "row": "Der findes allerede en enhed af denne model med dette serienummer.",
}
FIELD_MESSAGES = {
    "model_number": "Fabrikant og modelnummer skal svare til en model i kataloget.",
    "purchase_date": "Skriv datoen som åååå-mm-dd.",
    "warranty_end": "Skriv datoen som åååå-mm-dd.",
    "next_service_due": "Skriv datoen som åååå-mm-dd.",
    "serial_number": "Serienummeret skal udfyldes (højst 100 tegn).",
}
COLUMN_NAMES = {
    "csv": "Filen",
    "row": "Rækken",
    "serial_number": "serial_number",
    "model_number": "manufacturer/model_number",
}


def danish(error: dict[str, Any]) -> dict[str, Any]:
    """One row error of the import as the page says it."""
    code, field = error.get("code", "invalid"), error["field"] or "row"
    if code in CODE_MESSAGES:
        text = CODE_MESSAGES[code]
    elif code in ("unique", "unique_together") or "already exists" in error["message"]:
        text = UNIQUE_MESSAGES.get(field, UNIQUE_MESSAGES["row"])
    elif code == "max_length":
        text = "Værdien er for lang."
    else:
        text = FIELD_MESSAGES.get(field, "Værdien kan ikke bruges.")
    return {"row": error["row"], "column": COLUMN_NAMES.get(field, field), "message": text}


@staff_page(IT)
def device_import(request: StaffRequest) -> HttpResponse:
    actor = request.actor
    context: dict[str, Any] = {"nav": "it-import", "form": ImportForm(), "report": None}
    status = 200
    if request.method == "POST":
        dry_run = request.POST.get("action") != "import"
        csv_text = request.POST.get("csv", "") if not dry_run else None
        form = ImportForm(request.POST, request.FILES) if dry_run else ImportForm()
        if dry_run and form.is_valid():
            csv_text = form.csv_text()
        if csv_text is None or (not dry_run and not csv_text):
            context["form"] = form
            return page(request, "staffweb/it/import.html", context, status=422)
        assert actor.staff is not None
        with translation.override("da"):
            report = devices_import(
                municipality=actor.staff.municipality, by=actor.user, csv_text=csv_text, dry_run=dry_run
            )
        context.update(
            report=report,
            errors=[danish(error) for error in report.errors],
            csv_text=csv_text if dry_run and not report.errors else "",
            form=form,
        )
        status = 422 if report.errors else (200 if dry_run else 201)
    return page(request, "staffweb/it/import.html", context, status=status)


@staff_page(IT)
def device_export(request: StaffRequest) -> HttpResponse:
    """The register as CSV, with the register's filters (not the citizen search: the export holds no citizen)."""
    form = RegisterFilterForm(
        request.GET, categories=list(DeviceCategory.objects.all()), models=selectors.device_models_all()
    )
    filters = form.filters() if form.is_valid() else {}
    response = HttpResponse(
        devices_export(selectors.devices_filtered(request.actor, **filters)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="enheder.csv"'
    return response
