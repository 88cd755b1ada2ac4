"""The device catalogue: categories and models with their alert rules and whether they need a consent; adding a
model and changing its alert rules, through the services the API's catalogue operations call."""

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django_stubs_ext import StrOrPromise

from backend.actors import IT
from backend.errors import ApplicationError
from backend.timeutil import municipal_today
from staffweb.forms import DkfdsForm
from staffweb.views.base import StaffRequest, page, staff_page
from staffweb.views.it import present
from staffweb.views.it.forms import AlertRuleForm, DeviceModelChangeForm, DeviceModelForm, add_error, refusal
from velfaerdsteknologi import selectors
from velfaerdsteknologi.access import access_device_model
from velfaerdsteknologi.models import DeviceCategory, DeviceModel, TelemetryKind
from velfaerdsteknologi.services.alerts import RULE_SHAPE, alert_rule_set, device_model_create
from velfaerdsteknologi.services.catalogue import CHANGEABLE_FIELDS, device_model_change

# The catalogue services' refusals, by the field they name, as the pages say them.
MODEL_MESSAGES = {
    "model_number": _("Modellen findes allerede i kataloget (samme fabrikant og modelnummer)."),
    "category": _("Vælg en kategori."),
}
RULE_MESSAGES = {
    "alert_low": _("Angiv mindst én tærskelværdi."),
    "warning_low": _("Tærsklerne skal stige: alarm lav ≤ advarsel lav ≤ advarsel høj ≤ alarm høj."),
    "kind": _("Modellen sender ingen livstegn, så den kan ikke mangle et."),
    "missing_after_intervals": _("Kun livstegn tæller udeblevne intervaller."),
}


class CatalogueFilterForm(DkfdsForm):
    category = forms.ChoiceField(label=_("Kategori"), required=False)

    def __init__(self, *args: Any, categories: list[DeviceCategory], **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["category"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", gettext("Alle")), *[(category.code, category.shown_name) for category in categories]]


@staff_page(IT)
def catalogue(request: StaffRequest) -> HttpResponse:
    categories = list(DeviceCategory.objects.all())
    form = CatalogueFilterForm(request.GET, categories=categories)
    category = (form.cleaned_data.get("category") or None) if form.is_valid() else None
    context = {
        "categories": categories,
        "models": present.catalogue(selectors.catalogue(category=category)),
        "form": form,
        "category": category or "",
        "nav": "it-catalogue",
    }
    return page(request, "staffweb/it/catalogue.html", context)


@staff_page(IT)
def model_new(request: StaffRequest) -> HttpResponse:
    form = DeviceModelForm(request.POST or None, categories=list(DeviceCategory.objects.all()))
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                device_model = device_model_create(**form.service_arguments())
            except ApplicationError as error:
                _refused(form, error, MODEL_MESSAGES)
                status = refusal(error)
            else:
                return HttpResponseRedirect(reverse("staffweb:it:model", args=[device_model.pk]))
    return page(request, "staffweb/it/model_new.html", {"form": form, "nav": "it-catalogue"}, status=status)


def _refused(form: forms.Form, error: ApplicationError, messages: Mapping[str, StrOrPromise]) -> None:
    name = getattr(error, "field", "")
    if name in messages:
        form.add_error(name if name in form.fields else None, messages[name])
    else:
        add_error(form, error)


def rule_kinds(device_model: DeviceModel) -> list[str]:
    """The kinds of reading the model can have a rule for: what it sends, its heartbeat and its battery."""
    sent = set(device_model.telemetry_kinds or [])
    if device_model.heartbeat_interval_seconds:
        sent.add(TelemetryKind.HEARTBEAT)
    if device_model.is_battery_powered:
        sent.add(TelemetryKind.BATTERY)
    sent |= {rule.kind for rule in device_model.alert_rules.all()}
    if not device_model.heartbeat_interval_seconds:
        sent.discard(TelemetryKind.HEARTBEAT)
    return [kind for kind in RULE_SHAPE if kind in sent]


def _change_form(device_model: DeviceModel, data: Any = None) -> DeviceModelChangeForm:
    initial = {name: getattr(device_model, name) for name in CHANGEABLE_FIELDS}
    return DeviceModelChangeForm(data, initial=initial, prefix="model")


def model_page(
    request: StaffRequest,
    device_model: DeviceModel,
    *,
    refused: AlertRuleForm | None = None,
    change_form: DeviceModelChangeForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """A model with the form to change its name and intervals and a form for each rule it can have; a refused
    form with its errors."""
    rules = {rule.kind: rule for rule in device_model.alert_rules.all()}
    forms_by_kind = []
    for kind in rule_kinds(device_model):
        rule_type = RULE_SHAPE[kind][0]
        if refused is not None and refused.prefix == f"rule-{kind}":
            form = refused
        else:
            rule = rules.get(kind)
            initial = {name: getattr(rule, name) for name in AlertRuleForm.base_fields} if rule else {"is_active": True}
            form = AlertRuleForm(initial=initial, prefix=f"rule-{kind}", rule_type=rule_type)
        rule = rules.get(kind)
        forms_by_kind.append(
            {
                "kind": kind,
                "kind_words": present.TELEMETRY.get(kind, kind),
                "form": form,
                "rule": rule,
                "words": present.rule_words(rule, device_model) if rule else "",
                "audience_words": present.AUDIENCE[RULE_SHAPE[kind][1]],
            }
        )
    context = {
        "device_model": device_model,
        "entry": present.catalogue([device_model])[0],
        "rule_forms": forms_by_kind,
        "change_form": change_form or _change_form(device_model),
        "nav": "it-catalogue",
    }
    return page(request, "staffweb/it/model.html", context, status=status)


def _model(request: StaffRequest, model_id: UUID) -> DeviceModel:
    device_model = access_device_model(request.actor, model_id)
    return DeviceModel.objects.select_related("category").prefetch_related("alert_rules").get(pk=device_model.pk)


@staff_page(IT)
def model_detail(request: StaffRequest, model_id: UUID) -> HttpResponse:
    return model_page(request, _model(request, model_id))


@require_POST
@staff_page(IT)
def model_rule(request: StaffRequest, model_id: UUID, kind: str) -> HttpResponse:
    """Set the model's rule for one kind (``alert_rule_set``, as ``PUT /device-models/{id}/alert-rules/{kind}``)."""
    device_model = _model(request, model_id)
    if kind not in rule_kinds(device_model):
        raise Http404
    form = AlertRuleForm(request.POST, prefix=f"rule-{kind}", rule_type=RULE_SHAPE[kind][0])
    if not form.is_valid():
        return model_page(request, device_model, refused=form, status=422)
    try:
        alert_rule_set(device_model=device_model, kind=kind, settings=form.settings())
    except ApplicationError as error:
        _refused(form, error, RULE_MESSAGES)
        return model_page(request, _model(request, model_id), refused=form, status=refusal(error))
    return HttpResponseRedirect(reverse("staffweb:it:model", args=[device_model.pk]) + f"#rule-{kind}")


@require_POST
@staff_page(IT)
def model_change(request: StaffRequest, model_id: UUID) -> HttpResponse:
    """Change the model's name and intervals (``device_model_change``, as ``PATCH /device-models/{id}``)."""
    device_model = _model(request, model_id)
    form = _change_form(device_model, request.POST)
    if not form.is_valid():
        return model_page(request, device_model, change_form=form, status=422)
    try:
        device_model_change(device_model=device_model, changes=form.changes(), today=municipal_today())
    except ApplicationError as error:
        add_error(form, error)
        return model_page(request, _model(request, model_id), change_form=form, status=refusal(error))
    messages.success(request, gettext("Modellen er ændret."))
    return HttpResponseRedirect(reverse("staffweb:it:model", args=[device_model.pk]))
