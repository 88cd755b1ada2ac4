"""Questionnaire definitions and answers: the structure of a version, which items are enabled,
whether answers fit the version answered, and the score.

Kept free of the database so that definitions shipped in migrations and answers sent by the app
are checked by the same code.
"""

from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from backend.errors import InvalidInput

ItemType = Literal["choice", "integer", "decimal", "boolean", "text", "scale"]
Operator = Literal["exists", "=", "!=", ">", "<", ">=", "<="]
MAX_TEXT_ANSWER = 2000


class Text(BaseModel):
    model_config = ConfigDict(extra="forbid")
    da: str = Field(min_length=1, max_length=500)
    en: str = Field(min_length=1, max_length=500)


class AnswerOption(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=40)
    text: Text
    score: float | None = None


class EnableWhen(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str
    operator: Operator
    answer: bool | int | float | str | None = None


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    link_id: str = Field(min_length=1, max_length=60, pattern=r"^[a-z0-9_.-]+$")
    type: ItemType
    text: Text
    required: bool = False
    options: list[AnswerOption] = []
    min: float | None = None
    max: float | None = None
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
            seen[item.link_id] = item
        for link_id in self.scoring.link_ids if self.scoring else []:
            scored = seen.get(link_id)
            if scored is None or scored.type not in ("choice", "integer", "decimal", "scale", "boolean"):
                raise ValueError(f"scoring: {link_id} is not a numeric item")
        return self


def definition_parse(items: Any, scoring: Any) -> Definition:
    """A definition, or 422 naming what is wrong with it."""
    try:
        return Definition.model_validate({"items": items, "scoring": scoring})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidInput("items", str(first.get("msg", "Invalid definition."))) from exc


def _compare(actual: Any, operator: str, expected: Any) -> bool:
    if operator == "exists":
        return (actual is not None) == bool(expected)
    if actual is None:
        return False
    if operator == "=":
        return bool(actual == expected)
    if operator == "!=":
        return bool(actual != expected)
    if (
        isinstance(actual, bool)
        or not isinstance(actual, int | float)
        or not isinstance(expected, int | float)
    ):
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
        return (
            None
            if value in {option.code for option in item.options}
            else f"'{value}' is not one of the options"
        )
    if item.type in ("integer", "scale"):
        if isinstance(value, bool) or not isinstance(value, int):
            return "must be a whole number"
    elif isinstance(value, bool) or not isinstance(value, int | float):
        return "must be a number"
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
    values = [
        number
        for link_id in definition.scoring.link_ids
        if link_id in accepted and (number := _numeric(items[link_id], accepted[link_id])) is not None
    ]
    if not values:
        return None
    total = sum(values) if definition.scoring.method == "sum" else sum(values) / len(values)
    return Decimal(str(round(total, 3)))
