"""IT's forms. Each one checks its input with the API's own input schema (``velfaerdsteknologi.schemas``), so a
page refuses exactly what the API refuses, and says it in Danish beside the field; the services decide the rest
and their problem codes are said in Danish too."""

import html
from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise
from pydantic import BaseModel, ValidationError

from backend.care_links import EpisodeRef
from backend.errors import ApplicationError, InvalidInput, NotFound
from staffweb import problems
from staffweb.forms import DkfdsForm
from velfaerdsteknologi import schemas
from velfaerdsteknologi.models import (
    AlertRule,
    ConsentBasis,
    DeviceCategory,
    DeviceModel,
    DeviceStatus,
    MaintenanceTask,
    TelemetryKind,
)
from velfaerdsteknologi.selectors import REGISTER_SORTS, ModelChoice
from velfaerdsteknologi.services.devices import ASSIGNMENT_STATUSES, TRANSITIONS

# The welfare-technology problem codes, as IT's pages say them.
MESSAGES: dict[str, StrOrPromise] = {
    "illegal_transition": _("Enheden kan ikke gå til den status fra den status, den har nu."),
    "use_assignment": _("Reservation, installation og returnering sker gennem tildelingen."),
    "device_assigned": _("Enheden er stadig tildelt en borger. Registrér returneringen først."),
    "device_retired": _("En kasseret enhed får ingen adgangsnøgle."),
    "consent_required": _("En overvågende enhed kræver samtykke eller lovhjemmel og en revurderingsdato."),
    "device_not_in_stock": _("Kun en enhed på lager kan tildeles."),
    "device_already_assigned": _("Enheden er allerede tildelt en borger."),
    "assignment_not_pending": _("Tildelingen venter ikke på installation."),
    "assignment_ended": _("Enheden er allerede returneret."),
    "already_completed": _("Opgaven er allerede udført."),
    "alert_not_open": _("Alarmen er allerede taget hånd om."),
    "duplicate": _("Der findes allerede en enhed med denne værdi."),
    "not_found": _("Der findes ingen borger med dette CPR-nummer i kommunen."),
    "not_citizens_own": _("Vælg blandt borgerens egne igangværende forløb og deres mål."),
}
# A plain ``invalid`` from a service, by the field it names.
SERIAL_NUMBER_MESSAGE = _(
    "Skriv serienummeret som på enheden: bogstaver og tal, evt. delt af bindestreg, punktum, skråstreg eller "
    "understreg, uden mellemrum."
)
FIELD_MESSAGES: dict[str, StrOrPromise] = {
    "cpr": _("Skriv et gyldigt CPR-nummer: 10 cifre, gerne med bindestreg."),
    "citizen_id": _("Borgeren findes ikke i kommunen eller er registreret som død."),
    "consent_review_on": _("Revurderingsdatoen skal ligge efter i dag."),
    "review_on": _("Revurderingsdatoen skal ligge efter i dag."),
    "planned_return_on": _("Returneringen kan ikke planlægges før installationen."),
    "installation_address": _("Borgeren har ingen adresse registreret. Skriv installationsadressen."),
    "model_id": _("Vælg en model fra kataloget."),
    "episode_id": _("Vælg et af borgerens igangværende forløb."),
    "goal_id": _("Vælg et mål i det valgte forløb."),
    "to_status": _("Vælg en status."),
}


def message(error: ApplicationError) -> str:
    if isinstance(error, InvalidInput) and error.code == "invalid" and error.field in FIELD_MESSAGES:
        return str(FIELD_MESSAGES[error.field])
    return str(MESSAGES.get(error.code) or problems.message(error))


def add_error(
    form: forms.Form, error: ApplicationError, fields: dict[str, str] | None = None, *, field: str = ""
) -> None:
    """A service's refusal beside the field it names (``fields`` maps the service's names to the form's), or
    beside ``field``; above the form when it names none of the form's fields."""
    name = error.field if isinstance(error, InvalidInput) else ""
    target = field or (fields or {}).get(name, name)
    form.add_error(target if target in form.fields else None, message(error))


def _schema_message(error: Any) -> str:
    kind = error["type"]
    context = error.get("ctx") or {}
    field = str(error["loc"][0]) if error["loc"] else ""
    if kind == "missing" or (kind == "string_too_short" and context.get("min_length") == 1):
        return gettext("Skal udfyldes.")
    if kind == "string_too_long":
        return gettext("Må højst være %(count)s tegn.") % {"count": context["max_length"]}
    if kind == "string_pattern_mismatch":
        return {
            "imei": gettext("Skriv IMEI-nummeret som 15 cifre."),
            "mac_address": gettext("Skriv MAC-adressen som seks par hex-tegn adskilt af kolon, fx 00:1A:2B:3C:4D:5E."),
            "serial_number": str(SERIAL_NUMBER_MESSAGE),
        }.get(field, problems.text("invalid"))
    if kind == "literal_error":
        return gettext("Vælg en af mulighederne.")
    if kind == "greater_than_equal":
        return gettext("Skal være mindst %(value)s.") % {"value": context["ge"]}
    if kind == "less_than_equal":
        return gettext("Må højst være %(value)s.") % {"value": context["le"]}
    if kind in ("int_parsing", "int_from_float"):
        return gettext("Skriv et helt tal.")
    return problems.text("invalid")


class SchemaForm(DkfdsForm):
    """A form whose cleaned data must also pass an API input schema; its errors land beside the fields."""

    schema: type[BaseModel]
    # The schema's field names where the form's differ.
    schema_fields: dict[str, str] = {}

    def schema_data(self, cleaned: dict[str, Any]) -> dict[str, Any]:
        return {self.schema_fields.get(name, name): value for name, value in cleaned.items()}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        reverse = {schema_name: name for name, schema_name in self.schema_fields.items()}
        try:
            self.validated = self.schema.model_validate(self.schema_data(cleaned))
        except ValidationError as exc:
            for error in exc.errors():
                schema_name = str(error["loc"][0]) if error["loc"] else ""
                name = reverse.get(schema_name, schema_name)
                self.add_error(name if name in self.fields else None, _schema_message(error))
        return cleaned


def _date_field(label: StrOrPromise, *, help_text: StrOrPromise = "") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Skriv en dato som dd-mm-åååå.")},
    )


def _attributes(attrs: dict[str, Any]) -> str:
    """An element's attributes as ``flatatt`` writes them (valued ones first, then the true booleans; false and
    None left out), escaped by the standard library's ``html.escape`` (what Django's ``escape`` calls)."""
    valued = "".join(
        f' {name}="{html.escape(str(value))}"'
        for name, value in attrs.items()
        if value is not None and not isinstance(value, bool)
    )
    return valued + "".join(f" {name}" for name, value in attrs.items() if value is True)


class PlainSelect(forms.Select):
    """A select written out in Python rather than through the form renderer's templates: the register's search
    renders its selects (every model, category and status) on every search, and a template per option is most of
    the page's cost."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        final = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        chosen = {str(item) for item in (value if isinstance(value, list | tuple) else [value]) if item is not None}
        options = "".join(
            f'<option value="{html.escape(str(key))}"{" selected" if str(key) in chosen else ""}>'
            f"{html.escape(str(label))}</option>"
            for key, label in self.choices
        )
        return mark_safe(f"<select{_attributes(final)}>{options}</select>")  # noqa: S308 — escaped above


class PlainTextInput(forms.TextInput):
    """A text field written out in Python (see ``PlainSelect``)."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        final = self.build_attrs(self.attrs, {**(attrs or {}), "type": self.input_type, "name": name})
        shown = self.format_value(value)
        if shown is not None:
            final["value"] = shown
        return mark_safe(f"<input{_attributes(final)}>")  # noqa: S308 — escaped by _attributes


class RegisterFilterForm(DkfdsForm):
    """The register's search: by serial number (or IMEI, MAC), model, category, status, location and the name
    of the citizen holding the device. A CPR number is never searched here: it would end up in the URL."""

    search = forms.CharField(
        label=_("Serienummer, IMEI eller MAC"), required=False, max_length=100, widget=PlainTextInput
    )
    status = forms.ChoiceField(label=_("Status"), required=False, widget=PlainSelect)
    category = forms.ChoiceField(label=_("Kategori"), required=False, widget=PlainSelect)
    model_id = forms.ChoiceField(label=_("Model"), required=False, widget=PlainSelect)
    location = forms.CharField(label=_("Placering"), required=False, max_length=200, widget=PlainTextInput)
    citizen_name = forms.CharField(label=_("Borgerens navn"), required=False, max_length=200, widget=PlainTextInput)
    sort = forms.ChoiceField(
        label=_("Sortering"),
        required=False,
        choices=[("serial", _("Serienummer")), ("status", _("Status")), ("newest", _("Senest registreret"))],
        widget=PlainSelect,
    )
    cursor = forms.CharField(required=False, widget=forms.HiddenInput, max_length=400)
    field_order = ["search", "model_id", "category", "status", "location", "citizen_name", "sort"]

    def __init__(self, *args: Any, categories: list[tuple[str, str]], models: list[ModelChoice], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._choices("status", [(status.value, status.label) for status in DeviceStatus])
        self._choices("category", categories)
        self._choices("model_id", [(str(model.id), str(model)) for model in models])

    def _choices(self, name: str, choices: Sequence[tuple[str, StrOrPromise]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", gettext("Alle")), *choices]

    def field_groups(self) -> SafeString:
        """Every visible field as DKFDS's form group (label, errors, input), written out in Python: the page
        renders them on every search, and the template loop with the bound fields' own rendering cost more than
        the rest of the page."""
        groups = []
        for field in self.visible_fields():
            field_id = html.escape(field.auto_id)
            errors = list(field.errors)
            attrs = {"id": field.auto_id, **({"aria-invalid": "true"} if errors else {})}
            messages = "".join(
                f'<span class="form-error-message" id="{field_id}-error">{html.escape(str(error))}</span>'
                for error in errors
            )
            groups.append(
                f'<div class="form-group{" form-error" if errors else ""}">'
                f'<label class="form-label" for="{field_id}">{html.escape(str(field.label))}</label>{messages}'
                f"{field.field.widget.render(field.html_name, field.value(), attrs=attrs)}</div>"
            )
        return mark_safe("".join(groups))  # noqa: S308 — every value is escaped above, the widgets escape theirs

    def filters(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "search": data.get("search") or None,
            "status": data.get("status") or None,
            "category": data.get("category") or None,
            "model_id": data.get("model_id") or None,
            "location": data.get("location") or None,
        }

    @property
    def chosen_sort(self) -> str:
        sort = self.cleaned_data.get("sort") or "serial"
        return sort if sort in REGISTER_SORTS else "serial"


class CprSearchForm(DkfdsForm):
    """A citizen's CPR number, sent in the body of a POST and looked up by its keyed hash."""

    cpr = forms.CharField(
        label=_("Borgerens CPR-nummer"),
        help_text=_("Kommer ikke i adresselinjen eller i loggen."),
        max_length=11,
        widget=PlainTextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors:
            try:
                schemas.CitizenLookupIn.model_validate({"cpr": cleaned["cpr"]})
            except ValidationError:
                self.add_error("cpr", FIELD_MESSAGES["cpr"])
        return cleaned


class DeviceDetailsForm(SchemaForm):
    """The details a device is registered with and can change later; an empty IMEI or MAC is none."""

    imei = forms.CharField(
        label=_("IMEI"), required=False, max_length=15, help_text=_("15 cifre, hvis enheden har et.")
    )
    mac_address = forms.CharField(
        label=_("MAC-adresse"), required=False, max_length=17, help_text=_("Fx 00:1A:2B:3C:4D:5E.")
    )
    firmware_version = forms.CharField(label=_("Firmwareversion"), required=False, max_length=50)
    purchase_date = _date_field(_("Købsdato"))
    warranty_end = _date_field(_("Garanti til"))

    def schema_data(self, cleaned: dict[str, Any]) -> dict[str, Any]:
        data = super().schema_data(cleaned)
        for name in ("imei", "mac_address"):
            data[name] = data.get(name) or None
        return data


class DeviceForm(DeviceDetailsForm):
    schema = schemas.DeviceIn

    model_id = forms.ChoiceField(label=_("Model"))
    serial_number = forms.CharField(label=_("Serienummer"), max_length=100)
    location = forms.CharField(label=_("Placering"), required=False, max_length=200, help_text=_("Fx depotets navn."))
    field_order = ["model_id", "serial_number", "imei", "mac_address", "firmware_version", "purchase_date"]

    def __init__(self, *args: Any, models: list[DeviceModel], **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["model_id"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", gettext("Vælg model")), *[(str(model.pk), f"{model} – {model.name}") for model in models]]
        self.models = {str(model.pk): model for model in models}

    def device_model(self) -> DeviceModel:
        return self.models[self.cleaned_data["model_id"]]

    def service_arguments(self) -> dict[str, Any]:
        return self.validated.model_dump(exclude={"model_id"})


class DeviceChangeForm(DeviceDetailsForm):
    """A device's details that can change after registration (the API's ``DevicePatchIn``)."""

    schema = schemas.DevicePatchIn

    next_service_due = _date_field(_("Næste service"))
    location = forms.CharField(label=_("Placering"), required=False, max_length=200)

    def changes(self) -> dict[str, Any]:
        """Only what differs from the form's starting values, as the API's PATCH sends only what it sets."""
        values = self.validated.model_dump()
        return {name: values[name] for name in self.changed_data}


class TransitionForm(SchemaForm):
    schema = schemas.TransitionIn

    to_status = forms.ChoiceField(label=_("Ny status"))
    reason = forms.CharField(
        label=_("Begrundelse"),
        max_length=300,
        help_text=_("Står i enhedens historik sammen med dit navn og tidspunktet."),
    )

    def __init__(self, *args: Any, current_status: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        allowed = sorted(TRANSITIONS[current_status] - ASSIGNMENT_STATUSES)
        labels = dict(DeviceStatus.choices)
        field = self.fields["to_status"]
        assert isinstance(field, forms.ChoiceField)
        # Every status is offered: a step the lifecycle forbids is refused by the service, in words.
        field.choices = [("", gettext("Vælg status"))] + [
            (value, str(labels[value]) + ("" if value in allowed else gettext(" (ikke muligt nu)")))
            for value in DeviceStatus.values
        ]
        self.allowed = [str(labels[value]) for value in allowed]


class AssignForm(SchemaForm):
    """Assign a device in stock to a citizen found by CPR; a surveillance-type device needs a consent or legal
    basis, its reference and a review date (the service refuses without)."""

    schema = schemas.AssignmentIn

    cpr = forms.CharField(
        label=_("Borgerens CPR-nummer"),
        max_length=11,
        help_text=_("Borgeren findes i kommunens register. Nummeret gemmes ikke og kommer ikke i adresselinjen."),
        # Enter here finds the citizen (staff.js); Enter in the other fields assigns.
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "inputmode": "numeric", "data-enter-presses": "find-citizen"}
        ),
    )
    installation_address = forms.CharField(
        label=_("Installationsadresse"),
        required=False,
        max_length=300,
        help_text=_("Tom: borgerens folkeregisteradresse."),
    )
    planned_install_on = _date_field(_("Planlagt installation"))
    planned_return_on = _date_field(_("Planlagt returnering"))
    consent_basis = forms.ChoiceField(
        label=_("Grundlag"),
        required=False,
        choices=[("", _("Intet (ikke en overvågende enhed)")), *ConsentBasis.choices],
        help_text=_("Kræves for overvågende enheder (GPS, dør- og sengesensorer, kameraer)."),
    )
    consent_reference = forms.CharField(
        label=_("Reference"), required=False, max_length=200, help_text=_("Fx journalnotat eller afgørelsens nummer.")
    )
    consent_review_on = _date_field(_("Revurderes senest"))
    episode_id = forms.ChoiceField(
        label=_("Forløb"),
        required=False,
        help_text=_("Det forløb enheden skal støtte, hvis nogen."),
        error_messages={"invalid_choice": _("Vælg et af borgerens igangværende forløb.")},
    )
    goal_id = forms.ChoiceField(
        label=_("Mål"),
        required=False,
        help_text=_("Målet i forløbet, som enheden skal støtte."),
        error_messages={"invalid_choice": _("Vælg et mål i et af borgerens igangværende forløb.")},
    )

    def __init__(self, *args: Any, episodes: list[EpisodeRef] = (), **kwargs: Any):  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.episodes = list(episodes)
        episode_field, goal_field = self.fields["episode_id"], self.fields["goal_id"]
        assert isinstance(episode_field, forms.ChoiceField) and isinstance(goal_field, forms.ChoiceField)
        episode_field.choices = [
            ("", gettext("Intet forløb")),
            *[(str(episode.id), episode.label) for episode in self.episodes],
        ]
        goal_field.choices = [("", gettext("Intet mål"))] + [
            (episode.label, [(str(goal.id), goal.label) for goal in episode.goals])
            for episode in self.episodes
            if episode.goals
        ]

    def schema_data(self, cleaned: dict[str, Any]) -> dict[str, Any]:
        data = {name: value for name, value in cleaned.items() if name != "cpr"}
        for name, value in list(data.items()):
            if value is None or value == "":
                data.pop(name)
        # The ids are checked by the access functions; the schema checks the rest.
        return {
            **data,
            "device_id": "00000000-0000-4000-8000-000000000000",
            "citizen_id": "00000000-0000-4000-8000-000000000000",
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "cpr" not in self.errors and cleaned.get("cpr"):
            try:
                schemas.CitizenLookupIn.model_validate({"cpr": cleaned["cpr"]})
            except ValidationError:
                self.add_error("cpr", FIELD_MESSAGES["cpr"])
        return cleaned

    def service_arguments(self) -> dict[str, Any]:
        return self.validated.model_dump(exclude={"device_id", "citizen_id"})

    @staticmethod
    def service_fields() -> dict[str, str]:
        return {"citizen_id": "cpr"}


class ConsentForm(SchemaForm):
    """Record or renew an assignment's consent or legal basis and its next review (the API's ``ConsentIn``)."""

    schema = schemas.ConsentIn
    schema_fields = {"consent_basis": "basis", "consent_reference": "reference", "consent_review_on": "review_on"}

    consent_basis = forms.ChoiceField(label=_("Grundlag"), choices=[("", _("Vælg grundlag")), *ConsentBasis.choices])
    consent_reference = forms.CharField(label=_("Reference"), required=False, max_length=200)
    consent_review_on = forms.DateField(
        label=_("Revurderes senest"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Skriv en dato som dd-mm-åååå.")},
    )

    def service_arguments(self) -> dict[str, Any]:
        return self.validated.model_dump()

    @staticmethod
    def service_fields() -> dict[str, str]:
        return {"review_on": "consent_review_on"}


class CompleteForm(SchemaForm):
    schema = schemas.MaintenanceResultIn

    result = forms.ChoiceField(
        label=_("Resultat"),
        choices=[(MaintenanceTask.Result.PASSED, _("Godkendt")), (MaintenanceTask.Result.FAILED, _("Fejl fundet"))],
    )
    notes = forms.CharField(label=_("Bemærkning"), required=False, max_length=500)


class ImportForm(DkfdsForm):
    """A CSV file to check: a CSV text file (UTF-8) of at most ``MAX_IMPORT_BYTES``."""

    file = forms.FileField(
        label=_("CSV-fil"),
        error_messages={"required": _("Vælg en fil."), "empty": _("Filen er tom."), "invalid": _("Vælg en fil.")},
    )

    def __init__(self, *args: Any, columns: StrOrPromise = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["file"]
        field.help_text = columns
        field.widget.attrs.update(
            accept=".csv,text/csv", **{"data-max-bytes": str(MAX_IMPORT_BYTES), "data-too-large": TOO_LARGE}
        )

    def csv_text(self) -> str | None:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".txt")):
            self.add_error("file", NOT_CSV)
            return None
        if upload.size > MAX_IMPORT_BYTES:
            self.add_error("file", TOO_LARGE)
            return None
        raw = upload.read(MAX_IMPORT_BYTES + 1)
        if len(raw) > MAX_IMPORT_BYTES:
            self.add_error("file", TOO_LARGE)
            return None
        if b"\x00" in raw:
            self.add_error("file", NOT_CSV)
            return None
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            self.add_error("file", gettext("Filen skal være gemt som CSV med tegnsættet UTF-8."))
            return None


MAX_IMPORT_BYTES = 2 * 1024 * 1024
NOT_CSV = _("Filen er ikke en CSV-fil. Gem den som CSV (kommasepareret, UTF-8) og vælg den igen.")
TOO_LARGE = _("Filen er for stor: højst 2 MB (5.000 rækker). Del den op i flere filer.")


class CommaFloatField(forms.FloatField):
    """A number written the Danish way (12,5) or the English way (12.5), in a text field (a browser's number
    field drops a decimal comma)."""

    widget = forms.TextInput

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().replace(",", ".")
        return super().to_python(value)

    def prepare_value(self, value: Any) -> Any:
        """A stored number as the page writes numbers: 15 (not 15.0), and 12,5 with a comma in Danish."""
        if isinstance(value, int | float) and not isinstance(value, bool):
            text = f"{value:g}"
            return text if (get_language() or "da").startswith("en") else text.replace(".", ",")
        return value


def _checkbox(label: StrOrPromise, help_text: StrOrPromise = "") -> forms.BooleanField:
    return forms.BooleanField(
        label=label, required=False, help_text=help_text, widget=forms.CheckboxInput(attrs={"class": "form-checkbox"})
    )


def _whole_number(label: StrOrPromise, help_text: StrOrPromise = "") -> forms.IntegerField:
    return forms.IntegerField(
        label=label, required=False, help_text=help_text, error_messages={"invalid": _("Skriv et helt tal.")}
    )


class CheckboxFormMixin:
    """Checkboxes keep DKFDS's checkbox class (the base form gives every input the text field's)."""

    fields: dict[str, forms.Field]

    def style_checkboxes(self) -> None:
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
                field.widget.attrs["class"] = "form-checkbox"


class DeviceModelForm(CheckboxFormMixin, SchemaForm):
    """A new catalogue model (the API's ``DeviceModelIn``); it starts with the default alert rules."""

    schema = schemas.DeviceModelIn

    manufacturer = forms.CharField(label=_("Fabrikant"), max_length=100)
    model_number = forms.CharField(label=_("Modelnummer"), max_length=100)
    name = forms.CharField(label=_("Navn"), required=False, max_length=150, help_text=_("Fx Faldalarm med GPS."))
    category = forms.ChoiceField(
        label=_("Kategori"),
        error_messages={
            "invalid_choice": _("Vælg en kategori fra listen."),
            "required": _("Vælg en kategori fra listen."),
        },
    )
    telemetry_kinds = forms.MultipleChoiceField(
        label=_("Sender"),
        required=False,
        choices=TelemetryKind.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("En model, der sender position, er overvågende og kræver samtykke."),
        error_messages={"invalid_choice": _("Vælg blandt målingstyperne.")},
    )
    heartbeat_interval_seconds = _whole_number(
        _("Livstegn hvert (sekunder)"), _("Tom, hvis modellen ikke sender livstegn. Mindst 10.")
    )
    is_battery_powered = _checkbox(_("Batteridrevet"), _("Får en regel for lavt batteri og batteritjek."))
    service_interval_days = _whole_number(_("Service hver (dage)"))
    test_call_interval_days = _whole_number(_("Testopkald hver (dage)"))
    battery_check_interval_days = _whole_number(_("Batteritjek hver (dage)"))

    def __init__(self, *args: Any, categories: list[DeviceCategory], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.style_checkboxes()
        field = self.fields["category"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", gettext("Vælg kategori"))] + [
            (category.code, category.shown_name + (gettext(" (overvågende)") if category.is_surveillance else ""))
            for category in categories
        ]
        self.categories = {category.code: category for category in categories}

    def schema_data(self, cleaned: dict[str, Any]) -> dict[str, Any]:
        return {name: value for name, value in cleaned.items() if value is not None}

    def service_arguments(self) -> dict[str, Any]:
        return {
            **self.validated.model_dump(exclude={"category"}),
            "category": self.categories[self.cleaned_data["category"]],
        }


class DeviceModelChangeForm(SchemaForm):
    """A catalogue model's name and maintenance intervals (the API's ``DeviceModelPatchIn``); an empty interval is
    none of that kind."""

    schema = schemas.DeviceModelPatchIn

    name = forms.CharField(label=_("Navn"), required=False, max_length=150, help_text=_("Fx Faldalarm med GPS."))
    service_interval_days = _whole_number(_("Service hver (dage)"), _("Tom: ingen service."))
    test_call_interval_days = _whole_number(_("Testopkald hver (dage)"), _("Tom: ingen testopkald."))
    battery_check_interval_days = _whole_number(
        _("Batteritjek hver (dage)"), _("Kun for batteridrevne modeller. Tom: intet batteritjek.")
    )

    def changes(self) -> dict[str, Any]:
        """Only what differs from the model as it is, as the API's PATCH sends only what it sets."""
        values = self.validated.model_dump()
        return {name: values[name] for name in self.changed_data}


class AlertRuleForm(CheckboxFormMixin, SchemaForm):
    """A model's rule for one kind of reading (the API's ``AlertRuleIn``): thresholds for measurements, missed
    heartbeats for the missing-data rule; every rule can be switched off."""

    schema = schemas.AlertRuleIn

    alert_low = CommaFloatField(label=_("Alarm ved højst"), required=False)
    warning_low = CommaFloatField(label=_("Advarsel ved højst"), required=False)
    warning_high = CommaFloatField(label=_("Advarsel ved mindst"), required=False)
    alert_high = CommaFloatField(label=_("Alarm ved mindst"), required=False)
    missing_after_intervals = _whole_number(_("Alarm efter antal udeblevne livstegn"), _("Mellem 1 og 100."))
    is_active = _checkbox(_("Reglen er slået til"))

    FIELDS_BY_TYPE: dict[str, tuple[str, ...]] = {
        AlertRule.Type.THRESHOLD: ("alert_low", "warning_low", "warning_high", "alert_high", "is_active"),
        AlertRule.Type.MISSING_DATA: ("missing_after_intervals", "is_active"),
        AlertRule.Type.EVENT: ("is_active",),
    }

    def __init__(self, *args: Any, rule_type: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for name in list(self.fields):
            if name not in self.FIELDS_BY_TYPE[rule_type]:
                del self.fields[name]
        for name in ("alert_low", "warning_low", "warning_high", "alert_high"):
            if name in self.fields:
                self.fields[name].error_messages["invalid"] = gettext("Skriv et tal, fx 15 eller 12,5.")
                self.fields[name].widget.attrs["inputmode"] = "decimal"
        self.style_checkboxes()

    def settings(self) -> dict[str, Any]:
        return self.validated.model_dump()


def refusal(error: ApplicationError) -> int:
    """The status of a refused form: as the API answers (409 for a conflict, 422 for bad input, 404)."""
    if isinstance(error, NotFound):
        return 404
    return error.status
