"""Building a training plan, or a new version of one: exercises from the library with their dosage, the
weekdays and times. The field rules are the API's (``PlanExerciseIn``, ``TrainingPlanCreateIn``); the
schedule is read by the same rules the slots are made by (``selvbetjening.rules.schedule``)."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django import forms
from django.utils.translation import gettext_lazy as _
from pydantic import ValidationError

from backend.errors import InvalidInput
from selvbetjening.models import Exercise, TrainingPlanVersion
from selvbetjening.rules.dosage import DOSAGE_FIELDS, RULE_FIELDS
from selvbetjening.rules.dosage import MAX_EXERCISES as MAX_PLAN_EXERCISES
from selvbetjening.rules.schedule import MAX_PER_DAY, occurrences, validate_recurrence_rule, validate_schedule
from selvbetjening.schemas.plans import PlanExerciseIn
from staffweb import problems
from staffweb.forms import DOSAGE_LABELS, DkfdsForm, _date_field, _schema_message
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
    grace = timedelta(minutes=grace_minutes)
    instants = occurrences(schedule, now, now + timedelta(days=PREVIEW_DAYS))[:PREVIEW_COUNT]
    return [PreviewSlot(instant, instant + grace) for instant in instants]


def _times(text: str) -> list[time]:
    values = []
    for chunk in text.replace(";", ",").replace(" ", ",").split(","):
        if not chunk:
            continue
        hour, separator, minute = chunk.replace(".", ":").partition(":")
        if not separator or not hour.isdigit() or not minute.isdigit() or len(minute) != 2:
            raise forms.ValidationError(_("Skriv tidspunkter som tt:mm, for eksempel 10:00 eller 08:00, 18:00."))
        if not (0 <= int(hour) <= 23 and 0 <= int(minute) <= 59):
            raise forms.ValidationError(_("%(time)s er ikke et klokkeslæt.") % {"time": chunk})
        values.append(time(int(hour), int(minute)))
    return sorted(set(values))


def _exercise_key(exercise_id: Any) -> str:
    return f"ex_{UUID(str(exercise_id)).hex}"


class PlanForm(DkfdsForm):
    """A new plan (``creating``) or a new version of one: what to do, with which dosage, and when.

    ``base`` holds, per exercise id, the entry an exercise starts from (its instructions, rule and stop
    level from the template or the current version); what the form shows of it is the dosage and the
    instructions."""

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
        help_text=_("Klokkeslæt, for eksempel 10:00, eller flere adskilt af komma: 08:00, 18:00."),
    )
    start_date = _date_field(_("Startdato"))
    end_date = _date_field(_("Slutdato"))
    change_note = forms.CharField(
        label=_("Begrundelse for ændringen"),
        help_text=_("Borgeren og kolleger ser begrundelsen i planens historik."),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(
        self,
        *args: Any,
        creating: bool,
        library: Sequence[Exercise],
        base: Mapping[Any, Mapping[str, Any]],
        goals: Sequence[Any] = (),
        templates: Sequence[Any] = (),
        time_zone: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.creating = creating
        self.time_zone = time_zone
        self.base = {UUID(str(key)): value for key, value in base.items()}
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
        self.library = list(library)
        self.exercise_rows: list[tuple[Exercise, str]] = []
        for exercise in self.library:
            key = _exercise_key(exercise.pk)
            entry = self.base.get(exercise.pk, {})
            include = forms.BooleanField(label=exercise.title_da, required=False, initial=exercise.pk in self.base)
            include.widget.attrs["class"] = "form-checkbox staff-include"
            self.fields[f"{key}_include"] = include
            for name in DOSAGE_FIELDS:
                field: forms.Field
                if name == "load_kg":
                    field = forms.DecimalField(required=False, decimal_places=1, max_digits=5)
                else:
                    field = forms.IntegerField(required=False)
                field.label = DOSAGE_LABELS[name]
                field.initial = entry.get(name)
                field.widget.attrs.update(inputmode="decimal" if name == "load_kg" else "numeric")
                self.fields[f"{key}_{name}"] = field
            self.fields[f"{key}_instructions"] = forms.CharField(
                label=_("Instruktion til borgeren"),
                required=False,
                max_length=INSTRUCTIONS_MAX,
                initial=entry.get("instructions", ""),
            )
            self.exercise_rows.append((exercise, key))
        self.style_fields()

    # --- What the template shows -------------------------------------------------------------------

    def library_rows(self) -> list[dict[str, Any]]:
        rows = []
        for exercise, key in self.exercise_rows:
            images = list(exercise.images.all())
            rows.append(
                {
                    "exercise": exercise,
                    "image": images[0] if images else None,
                    "include": self[f"{key}_include"],
                    "dosage": [self[f"{key}_{name}"] for name in DOSAGE_FIELDS],
                    "instructions": self[f"{key}_instructions"],
                }
            )
        return rows

    def schedule_fields(self) -> list[forms.BoundField]:
        return [self["times"], self["start_date"], self["end_date"]]

    # --- Checking ----------------------------------------------------------------------------------

    def clean_times(self) -> list[time]:
        values = _times(self.cleaned_data["times"])
        if not values:
            raise forms.ValidationError(_("Skriv mindst ét tidspunkt."))
        if len(values) > MAX_PER_DAY:
            raise forms.ValidationError(_("Højst %(count)s tidspunkter på en dag.") % {"count": MAX_PER_DAY})
        if len({value.minute for value in values}) > 1:
            raise forms.ValidationError(
                _("Flere tidspunkter på en dag skal have samme minuttal, for eksempel 08:00 og 18:00.")
            )
        return values

    def chosen(self) -> list[tuple[Exercise, str]]:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return [(exercise, key) for exercise, key in self.exercise_rows if data.get(f"{key}_include")]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        chosen = self.chosen()
        if not chosen:
            self.add_error(None, _("Vælg mindst én øvelse fra biblioteket."))
        elif len(chosen) > MAX_PLAN_EXERCISES:
            self.add_error(None, _("Højst %(count)s øvelser i en plan.") % {"count": MAX_PLAN_EXERCISES})
        for exercise, key in chosen:
            try:
                PlanExerciseIn.model_validate(self._entry(exercise, key, cleaned))
            except ValidationError as exc:
                for error in exc.errors():
                    name = str(error["loc"][0]) if error["loc"] else ""
                    field = f"{key}_{name}"
                    if field in self.errors:
                        continue
                    self.add_error(field if field in self.fields else f"{key}_sets", _schema_message(error))
        if "weekdays" in cleaned and "times" in cleaned and "start_date" in cleaned and "end_date" in cleaned:
            try:
                validate_schedule(self.schedule())
            except InvalidInput as error:
                self.add_error(self.service_fields().get(error.field) or "weekdays", problems.message(error))
        return cleaned

    def _entry(self, exercise: Exercise, key: str, cleaned: Mapping[str, Any]) -> dict[str, Any]:
        base = self.base.get(exercise.pk, {})
        entry: dict[str, Any] = {"exercise_id": exercise.pk}
        entry.update({name: base.get(name) for name in RULE_FIELDS if base.get(name) is not None})
        for name in DOSAGE_FIELDS:
            value = cleaned.get(f"{key}_{name}")
            entry[name] = Decimal(value) if name == "load_kg" and value is not None else value
        entry["instructions"] = cleaned.get(f"{key}_instructions") or ""
        return entry

    # --- What the service gets ---------------------------------------------------------------------

    def recurrence_rule(self) -> str:
        days = [code for code, _name in WEEKDAYS if code in self.cleaned_data["weekdays"]]
        rule = "FREQ=WEEKLY;BYDAY=" + ",".join(days)
        values = self.cleaned_data["times"]
        if len(values) > 1:
            rule += ";BYHOUR=" + ",".join(str(value.hour) for value in values)
            rule += f";BYMINUTE={values[0].minute}"
        return validate_recurrence_rule(rule)

    def schedule(self) -> PlanSchedule:
        return PlanSchedule(
            recurrence_rule=self.recurrence_rule(),
            start_date=self.cleaned_data["start_date"],
            start_time=self.cleaned_data["times"][0],
            end_date=self.cleaned_data["end_date"],
            time_zone=self.time_zone,
        )

    def exercises(self) -> list[dict[str, Any]]:
        """The plan's exercises in library order, as the API's ``exercises`` gives them."""
        return [
            {
                **PlanExerciseIn.model_validate(self._entry(exercise, key, self.cleaned_data)).model_dump(),
                "position": index,
            }
            for index, (exercise, key) in enumerate(self.chosen())
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
            "change_note": "change_note",
        }
        for index, (_exercise, key) in enumerate(self.chosen()):
            for name in (*DOSAGE_FIELDS, "instructions"):
                fields[f"exercises.{index}.{name}"] = f"{key}_{name}"
            fields[f"exercises.{index}.exercise_id"] = f"{key}_include"
        return fields


def initial_schedule(version: TrainingPlanVersion | Any) -> dict[str, Any]:
    """The form's schedule fields as a version (or a template) has them, where they are weekly on whole
    weekdays; empty fields otherwise."""
    parts = dict(part.partition("=")[::2] for part in (version.recurrence_rule or "").split(";") if "=" in part)
    initial: dict[str, Any] = {}
    codes = {code for code, _name in WEEKDAYS}
    days = [day for day in parts.get("BYDAY", "").split(",") if day in codes]
    if parts.get("FREQ") == "DAILY" and "BYDAY" not in parts:
        days = [code for code, _name in WEEKDAYS]
    if days:
        initial["weekdays"] = days
    start = version.start_time
    if start is not None:
        hours = [int(hour) for hour in parts.get("BYHOUR", str(start.hour)).split(",") if hour.isdigit()]
        minute = int(parts.get("BYMINUTE", str(start.minute)).split(",")[0] or 0)
        initial["times"] = ", ".join(f"{hour:02d}:{minute:02d}" for hour in sorted(hours))
    return initial


def base_entries(items: Sequence[Any]) -> dict[UUID, dict[str, Any]]:
    """Per exercise, what a template's items or a version's exercises prescribe."""
    return {
        item.exercise_id: {
            "instructions": item.instructions,
            **{name: getattr(item, name) for name in (*DOSAGE_FIELDS, *RULE_FIELDS)},
        }
        for item in items
    }
