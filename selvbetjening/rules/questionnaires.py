"""Questionnaire definitions and answers: the structure of a version, which items are enabled,
whether answers fit the version answered, and the score; and when a sent questionnaire is due.

Definitions and answers are checked without the database, so that definitions shipped in migrations
and answers sent by the app are checked by the same code.
"""

import math
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from django.db.models import Q
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from backend import sql
from backend.errors import InvalidInput
from selvbetjening.models import Episode, QuestionnaireAssignment

ItemType = Literal["choice", "integer", "decimal", "boolean", "text", "scale"]
Operator = Literal["exists", "=", "!=", ">", "<", ">=", "<="]
MAX_TEXT_ANSWER = 2000
# A score is stored with 9 digits, 3 of them decimals: every number must stay below a million.
MAX_NUMBER = 999_999
SCORE_LIMIT = Decimal("999999.999")
NUMERIC_TYPES = ("integer", "decimal", "scale")


class Text(BaseModel):
    model_config = ConfigDict(extra="forbid")
    da: str = Field(min_length=1, max_length=500)
    en: str = Field(min_length=1, max_length=500)


class AnswerOption(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    code: str = Field(min_length=1, max_length=40)
    text: Text
    score: float | None = Field(default=None, ge=-MAX_NUMBER, le=MAX_NUMBER)


class EnableWhen(BaseModel):
    """``exists`` takes true (the question has an answer) or false (it has none); ``=`` and ``!=``
    take an answer of the question's own type; the ordering operators take a number and apply to
    numeric questions only."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    question: str
    operator: Operator
    answer: bool | int | float | str | None = None


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    link_id: str = Field(min_length=1, max_length=60, pattern=r"^[a-z0-9_.-]+$")
    type: ItemType
    text: Text
    required: bool = False
    options: list[AnswerOption] = []
    min: float | None = Field(default=None, ge=-MAX_NUMBER, le=MAX_NUMBER)
    max: float | None = Field(default=None, ge=-MAX_NUMBER, le=MAX_NUMBER)
    min_label: Text | None = None
    max_label: Text | None = None
    enable_when: list[EnableWhen] = []
    enable_behavior: Literal["all", "any"] = "all"

    @model_validator(mode="after")
    def _fits_type(self) -> "Item":
        if self.type == "choice":
            codes = [option.code for option in self.options]
            if len(codes) < 2 or len(set(codes)) != len(codes):
                raise ValueError(f"{self.link_id}: a choice item needs two or more distinct options")
        elif self.options:
            raise ValueError(f"{self.link_id}: only choice items have options")
        if self.type == "scale" and (self.min is None or self.max is None):
            raise ValueError(f"{self.link_id}: a scale item needs min and max")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"{self.link_id}: min is above max")
        return self


class Scoring(BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: Literal["sum", "mean"]
    link_ids: list[str] = Field(min_length=1)


class Definition(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[Item] = Field(min_length=1)
    scoring: Scoring | None = None

    @model_validator(mode="after")
    def _references(self) -> "Definition":
        seen: dict[str, Item] = {}
        for item in self.items:
            if item.link_id in seen:
                raise ValueError(f"{item.link_id}: linkId used twice")
            for condition in item.enable_when:
                if condition.question not in seen:
                    raise ValueError(f"{item.link_id}: enableWhen must refer to an earlier item")
                problem = _condition_problem(seen[condition.question], condition)
                if problem:
                    raise ValueError(f"{item.link_id}: enableWhen on {condition.question} {problem}")
            seen[item.link_id] = item
        for link_id in self.scoring.link_ids if self.scoring else []:
            scored = seen.get(link_id)
            if scored is None or scored.type not in ("choice", "integer", "decimal", "scale", "boolean"):
                raise ValueError(f"scoring: {link_id} is not a numeric item")
        return self


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float)


def _condition_problem(question: Item, condition: EnableWhen) -> str | None:
    """A message if ``condition`` cannot be met by answers to ``question``, else None."""
    answer = condition.answer
    if condition.operator == "exists":
        return None if isinstance(answer, bool) else "with 'exists' takes true or false"
    if condition.operator in (">", "<", ">=", "<="):
        if question.type not in NUMERIC_TYPES or not _is_number(answer):
            return f"with '{condition.operator}' needs a numeric question and a number"
        return None
    whole = isinstance(answer, int | float) and _is_number(answer) and float(answer).is_integer()
    fits = {
        "boolean": isinstance(answer, bool),
        "text": isinstance(answer, str),
        "choice": isinstance(answer, str) and answer in {option.code for option in question.options},
        "integer": whole,
        "scale": whole,
        "decimal": _is_number(answer),
    }
    return None if fits[question.type] else f"compares with an answer that does not fit a {question.type} item"


def definition_parse(items: Any, scoring: Any) -> Definition:
    """A definition, or 422 naming what is wrong with it."""
    try:
        return Definition.model_validate({"items": items, "scoring": scoring})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidInput("items", str(first.get("msg", "Invalid definition."))) from exc


def _same(actual: Any, expected: Any) -> bool:
    """Equal and of the same kind: true is not 1, and "1" is not 1; 2 and 2.0 are the same number."""
    if _is_number(actual) and _is_number(expected):
        return bool(actual == expected)
    return type(actual) is type(expected) and bool(actual == expected)


def _compare(actual: Any, operator: str, expected: Any) -> bool:
    """Whether an answer (None when not answered) meets one enableWhen condition."""
    if operator == "exists":
        return (actual is not None) is (expected is True)
    if actual is None:
        return False
    if operator == "=":
        return _same(actual, expected)
    if operator == "!=":
        return not _same(actual, expected)
    if not _is_number(actual) or not _is_number(expected):
        return False
    comparisons = {
        ">": actual > expected,
        "<": actual < expected,
        ">=": actual >= expected,
        "<=": actual <= expected,
    }
    return comparisons[operator]


def is_enabled(item: Item, answers: dict[str, Any]) -> bool:
    if not item.enable_when:
        return True
    results = [_compare(answers.get(c.question), c.operator, c.answer) for c in item.enable_when]
    return all(results) if item.enable_behavior == "all" else any(results)


def _check_value(item: Item, value: Any) -> str | None:
    """A message if ``value`` does not fit ``item``, else None."""
    if item.type == "boolean":
        return None if isinstance(value, bool) else "must be true or false"
    if item.type == "text":
        if not isinstance(value, str) or not value.strip():
            return "must be a non-empty text"
        return None if len(value) <= MAX_TEXT_ANSWER else f"must be at most {MAX_TEXT_ANSWER} characters"
    if item.type == "choice":
        if not isinstance(value, str):
            return "must be the code of one of the options"
        return None if value in {option.code for option in item.options} else f"'{value}' is not one of the options"
    if item.type in ("integer", "scale"):
        if isinstance(value, bool) or not isinstance(value, int):
            return "must be a whole number"
    elif not _is_number(value) or not math.isfinite(value):
        return "must be a number"
    if abs(value) > MAX_NUMBER:
        return f"must be between {-MAX_NUMBER} and {MAX_NUMBER}"
    if item.min is not None and value < item.min:
        return f"must be at least {item.min:g}"
    if item.max is not None and value > item.max:
        return f"must be at most {item.max:g}"
    return None


def answers_validate(definition: Definition, answers: list[dict[str, Any]]) -> dict[str, Any]:
    """The answers as ``{link_id: value}`` if they fit the definition, else 422 naming the item.

    Checked in item order so that enableWhen sees the answers it depends on.
    """
    given: dict[str, Any] = {}
    for answer in answers:
        link_id = answer["link_id"]
        if link_id in given:
            raise InvalidInput(f"answers.{link_id}", "is answered twice")
        given[link_id] = answer["value"]
    items = {item.link_id: item for item in definition.items}
    for link_id in given:
        if link_id not in items:
            raise InvalidInput(f"answers.{link_id}", "is not an item of this questionnaire")
    accepted: dict[str, Any] = {}
    for item in definition.items:
        value = given.get(item.link_id)
        if not is_enabled(item, accepted):
            if value is not None:
                raise InvalidInput(f"answers.{item.link_id}", "is not asked given the other answers")
            continue
        if value is None:
            if item.required:
                raise InvalidInput(f"answers.{item.link_id}", "is required")
            continue
        problem = _check_value(item, value)
        if problem:
            raise InvalidInput(f"answers.{item.link_id}", problem)
        accepted[item.link_id] = value
    return accepted


def _numeric(item: Item, value: Any) -> float | None:
    if item.type == "choice":
        option = next(option for option in item.options if option.code == value)
        return option.score
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    return float(value)


def score_compute(definition: Definition, accepted: dict[str, Any]) -> Decimal | None:
    """Sum or mean of the scored items that were answered; None when none of them was."""
    if definition.scoring is None:
        return None
    items = {item.link_id: item for item in definition.items}
    scored = [
        (link_id, number)
        for link_id in definition.scoring.link_ids
        if link_id in accepted and (number := _numeric(items[link_id], accepted[link_id])) is not None
    ]
    if not scored:
        return None
    values = [number for _, number in scored]
    total = sum(values) if definition.scoring.method == "sum" else sum(values) / len(values)
    score = Decimal(str(round(total, 3)))
    if abs(score) > SCORE_LIMIT:
        # Named after the answer that took the score out of range: the largest one.
        largest = max(scored, key=lambda pair: abs(pair[1]))[0]
        raise InvalidInput(f"answers.{largest}", "makes the questionnaire's score too large to store")
    return score


# --- When a sent questionnaire is due ------------------------------------------------------------
#
# A questionnaire waiting for its answer opens on its due date and stays open until it is answered or
# withdrawn; before that day it is upcoming and cannot be answered yet. Still waiting after its due day, it
# is overdue (a yellow light on the team's caseload). ``is_open`` and ``is_overdue`` answer for one in
# Python, ``open_q``, ``upcoming_q`` and ``overdue_q`` are the same rules for the ORM and ``overdue_sql``
# for a hand-written statement.

Occasion = QuestionnaireAssignment.Occasion
_PENDING = QuestionnaireAssignment.Status.PENDING


def occasion_dates(episode: Episode) -> dict[str, date]:
    """When an episode's questionnaires are due: at its start, midway and at its planned end."""
    midway = episode.start_date + (episode.planned_end_date - episode.start_date) / 2
    return {
        Occasion.EPISODE_START: episode.start_date,
        Occasion.EPISODE_MIDWAY: midway,
        Occasion.EPISODE_END: episode.planned_end_date,
    }


def is_open(assignment: QuestionnaireAssignment, today: date) -> bool:
    """Whether the questionnaire can be answered on ``today``."""
    return assignment.status == _PENDING and assignment.due_on <= today


def open_q(today: date) -> Q:
    return Q(status=_PENDING, due_on__lte=today)


def is_overdue(assignment: QuestionnaireAssignment, today: date) -> bool:
    """Whether the questionnaire still waits for its answer after its due day."""
    return assignment.status == _PENDING and assignment.due_on < today


def overdue_q(today: date) -> Q:
    return Q(status=_PENDING, due_on__lt=today)


def overdue_sql(alias: str, *, today: str) -> tuple[str, dict[str, str]]:
    """``is_overdue`` as an SQL condition on the assignment table under ``alias``, with the status as the
    named parameter ``questionnaire_overdue_status`` (returned with its value) and ``today`` the name of the
    statement's parameter that holds the day."""
    status = sql.column(QuestionnaireAssignment, "status", alias)
    due_on = sql.column(QuestionnaireAssignment, "due_on", alias)
    condition = f"({status} = %(questionnaire_overdue_status)s AND {due_on} < %({today})s)"
    return condition, {"questionnaire_overdue_status": _PENDING.value}


def upcoming_q(today: date) -> Q:
    return Q(status=_PENDING, due_on__gt=today)
