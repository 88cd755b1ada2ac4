"""The staff pages' forms. Field rules come from the API's input schemas (the same bounds, the same
messages as problem codes), said in Danish beside the field; the services decide the rest."""

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ValidationError

from backend.errors import ApplicationError, InvalidInput
from selvbetjening.models import Episode, Goal, PlanExercise, TrainingPlan
from selvbetjening.rules.dosage import DOSAGE_FIELDS
from selvbetjening.schemas import RatingIn
from selvbetjening.schemas.episodes import EpisodeCreateIn
from selvbetjening.schemas.goals import GoalCreateIn
from selvbetjening.schemas.plans import PlanExerciseIn
from selvbetjening.selectors.conditions import conditions_by_area
from selvbetjening.services.plans import EXERCISE_FIELDS
from staffweb import problems
from staffweb.present import REASON_WORDS

SORTS = [
    ("status", _("Mest presserende først")),
    ("adherence", _("Laveste træningsgrad først")),
    ("last_activity", _("Længst siden aktivitet først")),
    ("name", _("Navn")),
]
DOSAGE_LABELS = {
    "sets": _("Sæt"),
    "repetitions": _("Gentagelser"),
    "hold_seconds": _("Hold (sekunder)"),
    "duration_seconds": _("Varighed (sekunder)"),
    "load_kg": _("Belastning (kg)"),
}


def _schema_message(error: Any) -> str:
    """A pydantic error of an input schema, in Danish."""
    context = error.get("ctx") or {}
    kind = error["type"]
    if kind == "greater_than_equal":
        return gettext("Skal være mindst %(value)s.") % {"value": context["ge"]}
    if kind == "less_than_equal":
        return gettext("Må højst være %(value)s.") % {"value": context["le"]}
    if kind in ("int_parsing", "int_from_float"):
        return gettext("Skal være et helt tal.")
    if kind in ("decimal_max_places", "decimal_max_digits"):
        return gettext("Skriv højst én decimal.")
    if kind == "missing":
        return gettext("Skal udfyldes.")
    if kind == "string_too_long":
        return gettext("Må højst være %(count)s tegn.") % {"count": context["max_length"]}
    return problems.text("invalid")


def prescription_errors(entry: dict[str, Any]) -> list[tuple[str, str]]:
    """The API's schema refusals of one exercise of a plan (``PlanExerciseIn``): each field's name and the
    Danish message."""
    try:
        PlanExerciseIn.model_validate(entry)
    except ValidationError as exc:
        return [(str(error["loc"][0]) if error["loc"] else "", _schema_message(error)) for error in exc.errors()]
    return []


class DkfdsForm(forms.Form):
    """Form fields with DKFDS's classes: inputs, selects and text areas look like the design system's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_fields()

    def style_fields(self) -> None:
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-input"
            classes = widget.attrs.get("class", "").split()
            if css not in classes:
                widget.attrs["class"] = " ".join([css, *classes])


def add_error(form: forms.Form, error: ApplicationError, fields: dict[str, str] | None = None) -> None:
    """A service's refusal shown on the form: beside the field it names (``fields`` maps the service's
    field names to the form's), else above the form."""
    field = (fields or {}).get(error.field) if isinstance(error, InvalidInput) else None
    form.add_error(field if field in form.fields else None, problems.message(error))


class LoginForm(DkfdsForm):
    username = forms.CharField(label=_("Brugernavn"), max_length=150)
    password = forms.CharField(label=_("Adgangskode"), max_length=200, widget=forms.PasswordInput)
    totp_code = forms.RegexField(
        label=_("Engangskode"),
        help_text=_("De seks cifre fra din autentifikator-app."),
        regex=r"^\s*[0-9]{6}\s*$",
        error_messages={"invalid": _("Skriv de seks cifre.")},
        max_length=12,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update(autocomplete="username", autocapitalize="none")
        self.fields["password"].widget.attrs.update(autocomplete="current-password")
        self.fields["totp_code"].widget.attrs.update(autocomplete="one-time-code", inputmode="numeric")


class TriageFilterForm(DkfdsForm):
    team = forms.ChoiceField(label=_("Team"), required=False)
    sort = forms.ChoiceField(label=_("Sortering"), choices=SORTS, required=False)
    contact_person = forms.ChoiceField(label=_("Tovholder"), required=False)
    reason = forms.ChoiceField(
        label=_("Årsag"), choices=[("", _("Alle årsager")), *REASON_WORDS.items()], required=False
    )
    cursor = forms.CharField(required=False, widget=forms.HiddenInput, max_length=200)

    def __init__(self, *args: Any, teams: Sequence[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.teams = {str(team.pk): team for team in teams}
        team_field = self.fields["team"]
        assert isinstance(team_field, forms.ChoiceField)
        team_field.choices = [(key, team.name) for key, team in self.teams.items()]
        self.offer_contact_people([])

    def team_asked_for(self) -> Any:
        """The team the request names (before validation), else the first: whose staff to offer."""
        return self.teams.get(str(self.data.get("team") or ""), next(iter(self.teams.values()), None))

    def offer_contact_people(self, people: Iterable[tuple[UUID, str]]) -> None:
        """The staff to choose from as contact person (before validating): the team's care staff."""
        contact_field = self.fields["contact_person"]
        assert isinstance(contact_field, forms.ChoiceField)
        contact_field.choices = [("", _("Alle")), *dict.fromkeys((str(staff_id), name) for staff_id, name in people)]

    def chosen_team(self) -> Any:
        key = self.cleaned_data.get("team") or next(iter(self.teams))
        return self.teams[key]


class DosageForm(DkfdsForm):
    """Each exercise's dosage in the plan's current version; saved as a new version."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    change_note = forms.CharField(
        label=_("Begrundelse for ændringen"),
        help_text=_("Borgeren og kolleger ser begrundelsen i planens historik."),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, items: Iterable[PlanExercise], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = list(items)
        self.rows: list[tuple[PlanExercise, list[str]]] = []
        for index, item in enumerate(self.items):
            names = []
            for name in DOSAGE_FIELDS:
                key = f"{index}-{name}"
                field: forms.Field
                if name == "load_kg":
                    field = forms.DecimalField(required=False, decimal_places=1, max_digits=5)
                else:
                    field = forms.IntegerField(required=False)
                field.label = DOSAGE_LABELS[name]
                field.initial = getattr(item, name)
                field.widget.attrs.update(inputmode="decimal" if name == "load_kg" else "numeric")
                self.fields[key] = field
                names.append(key)
            self.rows.append((item, names))
        self.style_fields()

    def bound_rows(self) -> list[tuple[PlanExercise, list[forms.BoundField]]]:
        return [(item, [self[name] for name in names]) for item, names in self.rows]

    def service_fields(self) -> dict[str, str]:
        """The service's field names (``exercises.0.sets``) for this form's fields (``0-sets``)."""
        return {
            f"exercises.{index}.{name}": f"{index}-{name}" for index in range(len(self.items)) for name in DOSAGE_FIELDS
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for index, item in enumerate(self.items):
            for name, message in prescription_errors(self._entry(index, item, cleaned)):
                key = f"{index}-{name}"
                self.add_error(key if key in self.fields else None, message)
        return cleaned

    def _entry(self, index: int, item: PlanExercise, cleaned: dict[str, Any]) -> dict[str, Any]:
        entry: dict[str, Any] = {"exercise_id": item.exercise_id}
        entry.update({name: getattr(item, name) for name in EXERCISE_FIELDS})
        for name in DOSAGE_FIELDS:
            value = cleaned.get(f"{index}-{name}")
            entry[name] = Decimal(value) if name == "load_kg" and value is not None else value
        return entry

    def exercises(self) -> list[dict[str, Any]]:
        """The new version's exercises: every rule as before, the dosage as entered."""
        return [
            _validated(PlanExerciseIn, self._entry(index, item, self.cleaned_data))
            for index, item in enumerate(self.items)
        ]


def _validated(schema: type[BaseModel], entry: dict[str, Any]) -> dict[str, Any]:
    return schema.model_validate(entry).model_dump()


class ReplyForm(DkfdsForm):
    text = forms.CharField(label=_("Svar til borgeren"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))


class ResolveForm(DkfdsForm):
    note = forms.CharField(label=_("Hvad er der gjort?"), max_length=1000)


class PlanStatusForm(forms.Form):
    """Pause, resume or end a plan: the version read, and the status wanted."""

    version = forms.IntegerField(min_value=1)
    status = forms.ChoiceField(choices=TrainingPlan.Status.choices)


FUNCTION_LEVELS = [
    ("", _("Ikke vurderet")),
    ("0", _("0 – ingen begrænsninger")),
    ("1", _("1 – lette begrænsninger")),
    ("2", _("2 – moderate begrænsninger")),
    ("3", _("3 – svære begrænsninger")),
    ("4", _("4 – totale begrænsninger")),
]


class GoalRatingForm(DkfdsForm):
    """A staff rating of a goal at follow-up, with the RatingIn schema's bounds; the GAS choices are the
    goal's own five described outcomes."""

    rating_id = forms.UUIDField(widget=forms.HiddenInput)
    rated_on = forms.DateField(
        label=_("Dato for vurderingen"),
        help_text=_("Dag-måned-år, for eksempel 24-11-2026."),
        input_formats=["%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"],
        widget=forms.DateInput(format="%d-%m-%Y"),
        error_messages={"invalid": _("Skriv datoen som dag-måned-år, for eksempel 24-11-2026.")},
    )
    gas_score = forms.TypedChoiceField(
        label=_("Målopfyldelse (GAS)"), coerce=int, empty_value=None, required=False, widget=forms.RadioSelect
    )
    function_level = forms.TypedChoiceField(
        label=_("Funktionsevne (FSIII)"), choices=FUNCTION_LEVELS, coerce=int, empty_value=None, required=False
    )
    copm_performance = forms.IntegerField(label=_("COPM udførelse (1–10)"), required=False)
    copm_satisfaction = forms.IntegerField(label=_("COPM tilfredshed (1–10)"), required=False)
    note = forms.CharField(label=_("Note"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, goal: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        gas = self.fields["gas_score"]
        assert isinstance(gas, forms.ChoiceField)
        gas.choices = [
            ("", _("Ikke vurderet")),
            ("-2", f"−2: {goal.gas_minus_2}"),
            ("-1", f"−1: {goal.gas_minus_1}"),
            ("0", _("0 (forventet): %(outcome)s") % {"outcome": goal.gas_0}),
            ("1", f"+1: {goal.gas_plus_1}"),
            ("2", f"+2: {goal.gas_plus_2}"),
        ]
        gas.widget.attrs["class"] = "form-radio"
        self.fields["rated_on"].widget.attrs.update(inputmode="numeric")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        entry = {name: cleaned.get(name) for name in ("rated_on", "gas_score", "function_level")}
        entry.update({name: cleaned.get(name) for name in ("copm_performance", "copm_satisfaction")})
        entry["note"] = cleaned.get("note") or ""
        try:
            RatingIn.model_validate(entry)
        except ValidationError as exc:
            for error in exc.errors():
                name = str(error["loc"][0]) if error["loc"] else ""
                self.add_error(name if name in self.fields else None, _schema_message(error))
        return cleaned

    def service_fields(self) -> dict[str, str]:
        return {name: name for name in self.fields}


class ContactForm(DkfdsForm):
    """Hand the episode over to a new contact person, or name a stand-in until a date."""

    staff_id = forms.TypedChoiceField(label=_("Medarbejder"), coerce=UUID)
    until = forms.DateField(
        label=_("Stedfortræder til og med"),
        help_text=_("Dag-måned-år, for eksempel 24-11-2026."),
        input_formats=["%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"],
        error_messages={"invalid": _("Skriv datoen som dag-måned-år, for eksempel 24-11-2026.")},
    )
    reason = forms.CharField(label=_("Begrundelse"), required=False, max_length=300)

    def __init__(self, *args: Any, colleagues: Sequence[Any], with_until: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        staff = self.fields["staff_id"]
        assert isinstance(staff, forms.ChoiceField)
        people = [(str(item.pk), item.user.display_name) for item in colleagues]
        staff.choices = [("", _("Vælg en medarbejder")), *people]
        if not with_until:
            del self.fields["until"]


def _date_field(label: Any) -> forms.DateField:
    """A date written day-month-year, as the other staff forms take it."""
    return forms.DateField(
        label=label,
        help_text=_("Dag-måned-år, for eksempel 24-11-2026."),
        input_formats=["%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"],
        widget=forms.DateInput(format="%d-%m-%Y", attrs={"inputmode": "numeric"}),
        error_messages={"invalid": _("Skriv datoen som dag-måned-år, for eksempel 24-11-2026.")},
    )


def _schema_errors(
    form: forms.Form, schema: type[BaseModel], entry: dict[str, Any], shown_at: Mapping[str, str] | None = None
) -> None:
    """The API schema's refusals of ``entry``, each beside the form field of the same name, or the one
    ``shown_at`` names for a schema field the form fills itself (fields Django already refused keep their
    own message)."""
    try:
        schema.model_validate(entry)
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else ""
            name = (shown_at or {}).get(name, name)
            if name in form.errors:
                continue
            form.add_error(name if name in form.fields else None, _schema_message(error))


def _people(directory: Sequence[Any]) -> dict[Any, str]:
    return {member.staff_id: member.display_name for member in directory}


class EpisodeForm(DkfdsForm):
    """A new episode with a citizen: the EpisodeCreateIn schema's fields and bounds; the service decides
    whether the team cares for the citizen and the contact person is one of its care staff."""

    team_id = forms.TypedChoiceField(label=_("Team"), coerce=UUID)
    kind = forms.ChoiceField(label=_("Type af forløb"), choices=[("", _("Vælg en type")), *Episode.Kind.choices])
    title = forms.CharField(
        label=_("Titel"),
        required=False,
        max_length=200,
        help_text=_("Kort, i borgerens ord, for eksempel „Klare trapperne“."),
    )
    start_date = _date_field(_("Startdato"))
    planned_end_date = _date_field(_("Planlagt slutdato"))
    contact_person_id = forms.TypedChoiceField(label=_("Tovholder"), coerce=UUID)
    response_working_days = forms.IntegerField(
        label=_("Svartid (arbejdsdage)"),
        initial=2,
        help_text=_("Hvor hurtigt borgeren får svar på en henvendelse: 1–10."),
    )

    def __init__(
        self,
        *args: Any,
        citizen_id: UUID,
        teams: Sequence[Any],
        directories: Mapping[Any, Sequence[Any]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.citizen_id = citizen_id
        team = self.fields["team_id"]
        assert isinstance(team, forms.ChoiceField)
        team.choices = [(str(item.pk), item.name) for item in teams]
        contact = self.fields["contact_person_id"]
        assert isinstance(contact, forms.ChoiceField)
        contact.choices = [("", _("Vælg en medarbejder"))] + [
            # The directory has a row per care role; the choice is the person.
            (item.name, [(str(staff_id), name) for staff_id, name in _people(directories[item.pk]).items()])
            for item in teams
        ]
        self.fields["response_working_days"].widget.attrs.update(inputmode="numeric")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        entry = {name: cleaned.get(name) for name in self.fields}
        entry["citizen_id"] = self.citizen_id
        entry["title"] = cleaned.get("title") or ""
        _schema_errors(self, EpisodeCreateIn, entry)
        return cleaned

    def service_fields(self) -> dict[str, str]:
        return {name: name for name in self.fields}


GAS_LEVELS = [
    ("-2", _("−2: meget mindre end forventet")),
    ("-1", _("−1: mindre end forventet")),
    ("0", _("0: forventet")),
    ("1", _("+1: mere end forventet")),
    ("2", _("+2: meget mere end forventet")),
]
GAS_OUTCOMES = {
    "gas_minus_2": _("−2: meget mindre end forventet"),
    "gas_minus_1": _("−1: mindre end forventet"),
    "gas_0": _("0: forventet udbytte"),
    "gas_plus_1": _("+1: mere end forventet"),
    "gas_plus_2": _("+2: meget mere end forventet"),
}


class GoalForm(DkfdsForm):
    """A goal set with the citizen, in their words: the GoalCreateIn schema's fields and bounds; the
    service checks the due date against the episode and the target against the baseline."""

    description = forms.CharField(
        label=_("Målet i borgerens egne ord"),
        help_text=_("Skriv det, som borgeren siger det, for eksempel „Jeg vil selv kunne gå i Brugsen“."),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    rank = forms.IntegerField(label=_("Prioritet"), help_text=_("1 er vigtigst for borgeren."))
    area = forms.ChoiceField(label=_("Funktionsområde"), choices=[("", _("Vælg et område")), *Goal.Area.choices])
    condition_code = forms.ChoiceField(
        label=_("FSIII-tilstand"),
        help_text=_("Tilstandene fra kommunens FSIII-kodeliste, samlet efter område."),
        error_messages={
            "required": _("Vælg den tilstand, målet handler om."),
            "invalid_choice": _("Vælg en tilstand fra kommunens FSIII-kodeliste."),
        },
    )
    direction = forms.ChoiceField(label=_("Retning"), choices=Goal.Direction.choices, initial=Goal.Direction.IMPROVE)
    baseline_level = forms.TypedChoiceField(
        label=_("Funktionsevne ved start (FSIII)"), choices=FUNCTION_LEVELS[1:], coerce=int
    )
    target_level = forms.TypedChoiceField(
        label=_("Mål for funktionsevne (FSIII)"), choices=FUNCTION_LEVELS[1:], coerce=int
    )
    due_date = _date_field(_("Målet skal være nået"))
    baseline_gas = forms.TypedChoiceField(
        label=_("GAS ved start"), choices=GAS_LEVELS, coerce=int, initial="-1", help_text=_("Oftest −1 eller −2.")
    )
    gas_minus_2 = forms.CharField(label=GAS_OUTCOMES["gas_minus_2"], max_length=500)
    gas_minus_1 = forms.CharField(label=GAS_OUTCOMES["gas_minus_1"], max_length=500)
    gas_0 = forms.CharField(label=GAS_OUTCOMES["gas_0"], max_length=500)
    gas_plus_1 = forms.CharField(label=GAS_OUTCOMES["gas_plus_1"], max_length=500)
    gas_plus_2 = forms.CharField(label=GAS_OUTCOMES["gas_plus_2"], max_length=500)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rank"].widget.attrs.update(inputmode="numeric")
        areas = dict(Goal.Area.choices)
        grouped = conditions_by_area()
        self.conditions = {str(item.code): item for _area, items in grouped for item in items}
        condition_field = self.fields["condition_code"]
        assert isinstance(condition_field, forms.ChoiceField)
        condition_field.choices = [
            ("", _("Vælg en tilstand")),
            *((areas[area], [(str(item.code), item.display) for item in items]) for area, items in grouped),
        ]

    def gas_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in GAS_OUTCOMES]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        condition = self.conditions.get(cleaned.get("condition_code") or "")
        cleaned["condition_display"] = condition.display if condition else None
        if condition is not None and cleaned.get("area") and condition.area != cleaned["area"]:
            self.add_error(
                "condition_code",
                _("Tilstanden hører til området %(area)s; vælg det område eller en anden tilstand.")
                % {"area": condition.get_area_display()},
            )
        entry = {name: cleaned.get(name) for name in [*self.fields, "condition_display"]}
        _schema_errors(self, GoalCreateIn, entry, {"condition_display": "condition_code"})
        return cleaned

    def service_fields(self) -> dict[str, str]:
        return {name: name for name in self.fields}

    def goal_fields(self) -> dict[str, Any]:
        """The service's fields, as the API's schema gives them."""
        return GoalCreateIn.model_validate(self.cleaned_data).model_dump()


STATUS_ACTIONS = {
    Episode.Status.ACTIVE: _("Start eller genoptag forløbet"),
    Episode.Status.ON_HOLD: _("Sæt forløbet i bero"),
    Episode.Status.COMPLETED: _("Afslut forløbet med opfølgning"),
    Episode.Status.CANCELLED: _("Annuller forløbet"),
}


class EpisodeStatusForm(DkfdsForm):
    """Move the episode on, as ``POST /api/v1/episodes/{id}/transitions`` does: completing it needs its
    follow-up result from the code list (E1–E4); the service decides which moves the status allows."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    status = forms.ChoiceField(label=_("Hvad skal der ske med forløbet?"), widget=forms.RadioSelect)
    follow_up_result = forms.ChoiceField(
        label=_("Opfølgningsresultat"),
        required=False,
        widget=forms.RadioSelect,
        help_text=_("Kræves, når forløbet afsluttes."),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, allowed: Iterable[str], results: Sequence[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        status = self.fields["status"]
        assert isinstance(status, forms.ChoiceField)
        status.choices = [(value, STATUS_ACTIONS[value]) for value in STATUS_ACTIONS if value in set(allowed)]
        status.widget.attrs["class"] = "form-radio"
        result = self.fields["follow_up_result"]
        assert isinstance(result, forms.ChoiceField)
        result.choices = [(item.code, f"{item.code}: {item.display_da}") for item in results]
        result.widget.attrs["class"] = "form-radio"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        completing = cleaned.get("status") == Episode.Status.COMPLETED
        if completing and not cleaned.get("follow_up_result"):
            self.add_error("follow_up_result", _("Vælg opfølgningsresultatet (E1–E4), når forløbet afsluttes."))
        if not completing and cleaned.get("follow_up_result"):
            self.add_error("follow_up_result", _("Opfølgningsresultatet angives kun, når forløbet afsluttes."))
        return cleaned

    def service_fields(self) -> dict[str, str]:
        return {"follow_up_result": "follow_up_result", "note": "note", "status": "status"}
