"""Building a training plan, or a new version of one: exercises from the library with their dosage, the
weekdays and times. The field rules are the API's (``PlanExerciseIn``, ``TrainingPlanCreateIn``); the
schedule is read by the same rules the slots are made by (``selvbetjening.rules.schedule``)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from uuid import UUID

from django import forms
from django.forms.utils import ErrorDict
from django.utils.translation import gettext_lazy as _
from pydantic import TypeAdapter, ValidationError

from backend.errors import InvalidInput
from selvbetjening.models import Exercise, TrainingPlanVersion
from selvbetjening.rules import slots as slot_rules
from selvbetjening.rules.dosage import DOSAGE_FIELDS, RULE_DEFAULTS, RULE_FIELDS, dosage_check, entry_complete
from selvbetjening.rules.dosage import MAX_EXERCISES as MAX_PLAN_EXERCISES
from selvbetjening.rules.schedule import (
    MAX_PER_DAY,
    occurrences,
    validate_schedule,
    weekly_times_of,
    weekly_times_rule,
)
from selvbetjening.schemas.plans import PlanExerciseIn, TrainingPlanCreateIn
from staffweb import problems
from staffweb.forms import DOSAGE_LABELS, DkfdsForm, _date_field, _schema_message, prescription_errors
from staffweb.present import WEEKDAYS

PREVIEW_COUNT = 8
PREVIEW_DAYS = 42
INSTRUCTIONS_MAX = 2000


@dataclass
class PlanSchedule:
    """A schedule shaped like a plan version, for checking and previewing before anything is saved."""

    recurrence_rule: str
    start_date: date
    start_time: time
    end_date: date
    time_zone: str


@dataclass(frozen=True)
class PreviewSlot:
    at: datetime
    until: datetime


def preview_slots(schedule: PlanSchedule, *, now: datetime, grace_minutes: int) -> list[PreviewSlot]:
    """The next training times the schedule gives from ``now``, as the plan's slots will be made
    (``services.slots.slots_materialise``: the same occurrences, each fillable until its grace runs out)."""
    instants = occurrences(schedule, now, now + timedelta(days=PREVIEW_DAYS))[:PREVIEW_COUNT]
    return [PreviewSlot(instant, slot_rules.due_until(instant, grace_minutes)) for instant in instants]


def _times(text: str) -> list[time]:
    values = []
    for chunk in text.replace(";", ",").replace(" ", ",").split(","):
        if not chunk:
            continue
        hour, separator, minute = chunk.replace(".", ":").partition(":")
        if not separator or not hour.isdigit() or not minute.isdigit() or len(minute) != 2:
            raise forms.ValidationError(_("Skriv tidspunkter som tt:mm, for eksempel 10:00 eller 07:30, 19:00."))
        if not (0 <= int(hour) <= 23 and 0 <= int(minute) <= 59):
            raise forms.ValidationError(_("%(time)s er ikke et klokkeslæt.") % {"time": chunk})
        values.append(time(int(hour), int(minute)))
    return sorted(set(values))


def _exercise_key(exercise_id: Any) -> str:
    return f"ex_{UUID(str(exercise_id)).hex}"


RULE_LABELS = {
    "progression_after_sessions": _("Øg doseringen efter antal træninger"),
    "progression_max_pain": _("Højeste smerte, der tillader at øge (0–10)"),
    "progression_effort_min": _("Anstrengelse mindst (Borg 0–10)"),
    "progression_effort_max": _("Anstrengelse højst (Borg 0–10)"),
    "progression_sets_step": _("Sæt mere pr. trin"),
    "progression_repetitions_step": _("Gentagelser mere pr. trin"),
    "progression_hold_seconds_step": _("Hold længere pr. trin (sekunder)"),
    "progression_duration_seconds_step": _("Varighed længere pr. trin (sekunder)"),
    "progression_load_kg_step": _("Belastning mere pr. trin (kg)"),
    "stop_pain_level": _("Stop ved smerte på (1–10)"),
}
RULE_HELP = {
    "progression_after_sessions": _("Tomt: doseringen øges ikke af sig selv."),
    "stop_pain_level": _("Smerte på eller over dette tal stopper træningen og giver tovholderen en alarm."),
}
# The rule module's refusals between fields, in the pages' words (its messages name the API's fields).
RULE_MESSAGES = {
    "must not be below progression_effort_min.": _("Må ikke være lavere end den mindste anstrengelse."),
    "must be above progression_max_pain.": _("Skal være højere end den højeste smerte, der tillader at øge."),
    "needs a step above 0 for a dosage the exercise has.": _(
        "Giv et trin over 0 for en dosering, øvelsen har, eller lad feltet stå tomt."
    ),
    "give at least one of sets, repetitions, hold_seconds or duration_seconds (load_kg only with one of them).": _(
        "Skriv mindst én af sæt, gentagelser, hold eller varighed (belastning kun sammen med en af dem)."
    ),
}
GRACE_FIELD = TrainingPlanCreateIn.model_fields["grace_minutes"]


class PlanForm(DkfdsForm):
    """A new plan (``creating``) or a new version of one: what to do, with which dosage and progression
    rule, and when.

    ``chosen`` are the plan's exercises in order; ``base`` holds, per exercise id, the entry an exercise
    starts from (its dosage, instructions and progression rule from the template or the current version).
    A bound form fills in what its data leaves out of an exercise (one just added) from there."""

    title = forms.CharField(label=_("Planens navn"), max_length=200)
    goal_ids = forms.MultipleChoiceField(
        label=_("Mål planen arbejder hen imod"), required=False, widget=forms.CheckboxSelectMultiple
    )
    template_id = forms.ChoiceField(label=_("Skabelon"), required=False)
    weekdays = forms.MultipleChoiceField(
        label=_("Ugedage"),
        choices=WEEKDAYS,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Vælg mindst én ugedag.")},
    )
    times = forms.CharField(
        label=_("Tidspunkter"),
        max_length=60,
        help_text=_("Klokkeslæt, for eksempel 10:00, eller flere adskilt af komma: 07:30, 19:00."),
    )
    start_date = _date_field(_("Startdato"))
    end_date = _date_field(_("Slutdato"))
    grace_minutes = forms.IntegerField(
        label=_("Frist efter tidspunktet (minutter)"),
        help_text=_("Så længe efter tidspunktet kan træningen gøres, før den tæller som ikke gennemført."),
    )
    change_note = forms.CharField(
        label=_("Begrundelse for ændringen"),
        help_text=_("Borgeren og kolleger ser begrundelsen i planens historik."),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(
        self,
        data: Any = None,
        *,
        creating: bool,
        chosen: Sequence[Exercise],
        base: Mapping[Any, Mapping[str, Any]],
        goals: Sequence[Any] = (),
        templates: Sequence[Any] = (),
        time_zone: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, **kwargs)
        self.creating = creating
        self.time_zone = time_zone
        self.base = {UUID(str(key)): value for key, value in base.items()}
        self.fields["grace_minutes"].initial = self.initial.get("grace_minutes", GRACE_FIELD.default)
        if creating:
            del self.fields["change_note"], self.fields["version"]
            goal_field = self.fields["goal_ids"]
            assert isinstance(goal_field, forms.ChoiceField)
            goal_field.choices = [(str(goal.pk), f"{goal.rank}. {goal.description}") for goal in goals]
            template_field = self.fields["template_id"]
            assert isinstance(template_field, forms.ChoiceField)
            template_field.choices = [("", _("Fra bunden (ingen skabelon)"))] + [
                (str(template.pk), template.title) for template in templates
            ]
        else:
            del self.fields["title"], self.fields["goal_ids"], self.fields["template_id"]
        self.fields["times"].widget.attrs.update(inputmode="numeric", autocomplete="off")
        self.fields["grace_minutes"].widget.attrs.update(inputmode="numeric")
        self.exercise_rows: list[tuple[Exercise, str]] = []
        for exercise in chosen:
            key = _exercise_key(exercise.pk)
            for name, field in self._exercise_fields(self.base.get(exercise.pk, {})).items():
                self.fields[f"{key}_{name}"] = field
            self.exercise_rows.append((exercise, key))
        if self.is_bound:
            self.data = self._with_exercise_defaults(self.data)
        self.style_fields()

    @staticmethod
    def _exercise_fields(entry: Mapping[str, Any]) -> dict[str, forms.Field]:
        fields: dict[str, forms.Field] = {}
        for name in (*DOSAGE_FIELDS, *RULE_FIELDS):
            field: forms.Field
            is_load = name in ("load_kg", "progression_load_kg_step")
            # A dosage and the sessions before advancing may be empty; the rest of the rule may not.
            required = name in RULE_FIELDS and name != "progression_after_sessions"
            if is_load:
                field = forms.DecimalField(required=required, decimal_places=1, max_digits=5)
            else:
                field = forms.IntegerField(required=required)
            field.label = DOSAGE_LABELS.get(name) or RULE_LABELS[name]
            field.help_text = RULE_HELP.get(name, "")
            value = entry.get(name)
            field.initial = RULE_DEFAULTS.get(name) if value is None and name in RULE_FIELDS else value
            field.widget.attrs.update(inputmode="decimal" if is_load else "numeric")
            fields[name] = field
        fields["instructions"] = forms.CharField(
            label=_("Instruktion til borgeren"),
            required=False,
            max_length=INSTRUCTIONS_MAX,
            initial=entry.get("instructions", ""),
        )
        return fields

    def _with_exercise_defaults(self, data: Any) -> Any:
        """The data with each exercise field it leaves out (an exercise just added) as the exercise starts."""
        missing = {
            name: field.initial
            for name, field in self.fields.items()
            if name.startswith("ex_") and name not in data and field.initial is not None
        }
        if not missing:
            return data
        data = data.copy()
        for name, value in missing.items():
            data[name] = str(value)
        return data

    def show_unchecked(self) -> "PlanForm":
        """Shown again as typed, without checking: an exercise was added or removed, or the library searched."""
        self._errors = ErrorDict()
        self.cleaned_data = {}
        return self

    def focus_on(self, exercise_id: str) -> None:
        """The exercise just added takes the focus at its first dosage field (htmx focuses ``autofocus``)."""
        try:
            field = self.fields.get(f"{_exercise_key(exercise_id)}_sets")
        except ValueError:
            return
        if field is not None:
            field.widget.attrs["autofocus"] = True

    # --- What the template shows -------------------------------------------------------------------

    def chosen_rows(self) -> list[dict[str, Any]]:
        rows = []
        for exercise, key in self.exercise_rows:
            images = list(exercise.images.all())
            rules = [self[f"{key}_{name}"] for name in RULE_FIELDS]
            rows.append(
                {
                    "exercise": exercise,
                    "key": key,
                    "image": images[0] if images else None,
                    "dosage": [self[f"{key}_{name}"] for name in DOSAGE_FIELDS],
                    "instructions": self[f"{key}_instructions"],
                    "rules": rules,
                    "rules_have_errors": any(field.errors for field in rules),
                }
            )
        return rows

    def chosen_ids(self) -> set[UUID]:
        return {exercise.pk for exercise, _key in self.exercise_rows}

    def schedule_fields(self) -> list[forms.BoundField]:
        return [self["times"], self["start_date"], self["end_date"], self["grace_minutes"]]

    # --- Checking ----------------------------------------------------------------------------------

    def clean_times(self) -> list[time]:
        values = _times(self.cleaned_data["times"])
        if not values:
            raise forms.ValidationError(_("Skriv mindst ét tidspunkt."))
        if len(values) > MAX_PER_DAY:
            raise forms.ValidationError(_("Højst %(count)s tidspunkter på en dag.") % {"count": MAX_PER_DAY})
        return values

    def clean_grace_minutes(self) -> int:
        value = self.cleaned_data["grace_minutes"]
        try:
            TypeAdapter(Annotated[int, GRACE_FIELD]).validate_python(value)
        except ValidationError as exc:
            raise forms.ValidationError(_schema_message(exc.errors()[0])) from exc
        return int(value)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.exercise_rows:
            self.add_error(None, _("Vælg mindst én øvelse fra biblioteket."))
        elif len(self.exercise_rows) > MAX_PLAN_EXERCISES:
            self.add_error(None, _("Højst %(count)s øvelser i en plan.") % {"count": MAX_PLAN_EXERCISES})
        for exercise, key in self.exercise_rows:
            self._check_exercise(exercise, key, cleaned)
        if "weekdays" in cleaned and "times" in cleaned and "start_date" in cleaned and "end_date" in cleaned:
            try:
                validate_schedule(self.schedule())
            except InvalidInput as error:
                self.add_error(self.service_fields().get(error.field) or "weekdays", problems.message(error))
        return cleaned

    def _check_exercise(self, exercise: Exercise, key: str, cleaned: Mapping[str, Any]) -> None:
        """The API's checks of one exercise: the schema's bounds, then the rule module's rules between fields."""
        if any(name.startswith(f"{key}_") for name in self.errors):
            return
        entry = self._entry(exercise, key, cleaned)
        if refusals := prescription_errors(entry):
            for name, message in refusals:
                field = f"{key}_{name}"
                if field not in self.errors:
                    self.add_error(field if field in self.fields else f"{key}_sets", message)
            return
        try:
            dosage_check(entry_complete(entry), prefix=key)
        except InvalidInput as error:
            field = error.field.replace(".", "_", 1)
            worded = RULE_MESSAGES.get(problems.detail_of(error))
            self.add_error(field if field in self.fields else None, worded or problems.message(error))

    def _entry(self, exercise: Exercise, key: str, cleaned: Mapping[str, Any]) -> dict[str, Any]:
        entry: dict[str, Any] = {"exercise_id": exercise.pk}
        for name in (*DOSAGE_FIELDS, *RULE_FIELDS):
            value = cleaned.get(f"{key}_{name}")
            if value is None and name in RULE_FIELDS and name != "progression_after_sessions":
                continue  # left out: the rule's default, as the API takes it
            entry[name] = value
        entry["instructions"] = cleaned.get(f"{key}_instructions") or ""
        return entry

    # --- What the service gets ---------------------------------------------------------------------

    def recurrence_rule(self) -> str:
        rule, _start_time = weekly_times_rule(self.cleaned_data["weekdays"], self.cleaned_data["times"])
        return rule

    def start_time(self) -> time:
        return min(self.cleaned_data["times"])

    def schedule(self) -> PlanSchedule:
        return PlanSchedule(
            recurrence_rule=self.recurrence_rule(),
            start_date=self.cleaned_data["start_date"],
            start_time=self.start_time(),
            end_date=self.cleaned_data["end_date"],
            time_zone=self.time_zone,
        )

    def preview(self, *, now: datetime) -> list[PreviewSlot]:
        """The next training times of the checked schedule, each with the time it may be done until."""
        return preview_slots(self.schedule(), now=now, grace_minutes=self.cleaned_data["grace_minutes"])

    def exercises(self) -> list[dict[str, Any]]:
        """The plan's exercises in the order chosen, as the API's ``exercises`` gives them."""
        return [
            {
                **PlanExerciseIn.model_validate(self._entry(exercise, key, self.cleaned_data)).model_dump(),
                "position": index,
            }
            for index, (exercise, key) in enumerate(self.exercise_rows)
        ]

    def service_fields(self) -> dict[str, str]:
        """The service's field names for this form's fields (``exercises.0.sets`` is the first chosen)."""
        fields = {
            "title": "title",
            "goal_ids": "goal_ids",
            "template_id": "template_id",
            "recurrence_rule": "weekdays",
            "start_time": "times",
            "start_date": "start_date",
            "end_date": "end_date",
            "grace_minutes": "grace_minutes",
            "change_note": "change_note",
        }
        for index, (_exercise, key) in enumerate(self.exercise_rows):
            for name in (*DOSAGE_FIELDS, *RULE_FIELDS, "instructions"):
                fields[f"exercises.{index}.{name}"] = f"{key}_{name}"
            fields[f"exercises.{index}.exercise_id"] = f"{key}_sets"
        return fields


class LibrarySearchForm(DkfdsForm):
    """Searching the exercise library while building a plan: words, body area, equipment, a page. A value
    that cannot be used is left out of the search rather than refused (the search is no change)."""

    prefix = "library"
    q = forms.CharField(label=_("Søg i øvelserne"), required=False, max_length=100)
    body_area = forms.ChoiceField(
        label=_("Kropsområde"), required=False, choices=[("", _("Alle kropsområder")), *Exercise.BodyArea.choices]
    )
    equipment = forms.ChoiceField(
        label=_("Udstyr"), required=False, choices=[("", _("Alt udstyr")), *Exercise.Equipment.choices]
    )
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    goto = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.input_type = "search"
        # Enter here searches the library (staff.js); Enter elsewhere in the plan form previews.
        self.fields["q"].widget.attrs.update({"autocomplete": "off", "data-enter-presses": "library-search"})

    def query(self) -> dict[str, Any]:
        """What to search for: the valid fields' values (all empty for an unbound form)."""
        if self.is_bound:
            self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        body_area, equipment = cleaned.get("body_area"), cleaned.get("equipment")
        return {
            "text": cleaned.get("q") or "",
            "body_areas": [body_area] if body_area else [],
            "equipment": [equipment] if equipment else [],
            "number": cleaned.get("goto") or cleaned.get("page") or 1,
        }


def initial_schedule(version: TrainingPlanVersion | Any) -> dict[str, Any]:
    """The form's schedule fields as a version (or a template) has them, where it trains on whole weekdays
    at fixed times (``rules.schedule.weekly_times_of``); empty fields otherwise."""
    if version.start_time is None:
        return {}
    read = weekly_times_of(version.recurrence_rule or "", version.start_time)
    if read is None:
        return {}
    days, times = read
    return {"weekdays": days, "times": ", ".join(value.strftime("%H:%M") for value in times)}


def base_entries(items: Sequence[Any]) -> dict[UUID, dict[str, Any]]:
    """Per exercise, what a template's items or a version's exercises prescribe."""
    return {
        item.exercise_id: {
            "instructions": item.instructions,
            **{name: getattr(item, name) for name in (*DOSAGE_FIELDS, *RULE_FIELDS)},
        }
        for item in items
    }
