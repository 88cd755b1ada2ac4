from datetime import date, timedelta
from itertools import product

import pytest
from django.db import connection

from backend import sql
from backend.errors import InvalidInput
from selvbetjening import shipped
from selvbetjening.models import Episode, QuestionnaireAssignment
from selvbetjening.rules.questionnaires import (
    EnableWhen,
    Item,
    answers_validate,
    definition_parse,
    is_enabled,
    is_open,
    is_overdue,
    occasion_dates,
    open_q,
    overdue_q,
    overdue_sql,
    score_compute,
    upcoming_q,
)
from tests.selvbetjening import factories


def pain():
    spec = next(spec for spec in shipped.QUESTIONNAIRES if spec["key"] == "pain")
    return definition_parse(spec["items"], spec["scoring"])


def answers(**values):
    return [{"link_id": link_id, "value": value} for link_id, value in values.items()]


def test_enabled_items_are_asked_and_scored():
    definition = pain()
    accepted = answers_validate(definition, answers(has_pain=True, pain_now=4, pain_worst=7, stopped_activity=True))
    assert accepted["pain_worst"] == 7
    assert score_compute(definition, accepted) == pytest.approx(5.5)


def test_disabled_items_need_no_answer_and_score_is_none():
    definition = pain()
    accepted = answers_validate(definition, answers(has_pain=False))
    assert accepted == {"has_pain": False}
    assert score_compute(definition, accepted) is None


@pytest.mark.parametrize(
    ("given", "field", "message"),
    [
        ({"has_pain": "yes"}, "answers.has_pain", "true or false"),
        ({"has_pain": True, "pain_now": 4.5, "pain_worst": 5}, "answers.pain_now", "whole number"),
        ({"has_pain": True, "pain_now": 11, "pain_worst": 5}, "answers.pain_now", "at most"),
        ({"has_pain": True, "pain_worst": 5}, "answers.pain_now", "required"),
        ({"has_pain": False, "pain_now": 3}, "answers.pain_now", "not asked"),
        (
            {"has_pain": True, "pain_now": 1, "pain_worst": 2, "stopped_activity": True},
            "answers.stopped_activity",
            "not asked",
        ),
        ({"has_pain": False, "mood": 3}, "answers.mood", "not an item"),
        ({}, "answers.has_pain", "required"),
    ],
)
def test_answers_that_do_not_fit_name_the_item(given, field, message):
    with pytest.raises(InvalidInput) as raised:
        answers_validate(pain(), answers(**given))
    assert raised.value.field == field
    assert message in raised.value.detail


def test_unknown_choice_option_is_refused():
    spec = shipped.QUESTIONNAIRES[0]
    definition = definition_parse(spec["items"], spec["scoring"])
    valid = {link_id: "some" for link_id in ("personal_care", "meals", "cleaning", "indoors", "outdoors")}
    assert score_compute(definition, answers_validate(definition, answers(**valid))) == 5
    with pytest.raises(InvalidInput) as raised:
        answers_validate(definition, answers(**{**valid, "meals": "sometimes"}))
    assert raised.value.field == "answers.meals"


def test_booleans_are_not_numbers():
    spec = shipped.QUESTIONNAIRES[0]
    definition = definition_parse(spec["items"], spec["scoring"])
    valid = {link_id: "easy" for link_id in ("personal_care", "meals", "cleaning", "indoors", "outdoors")}
    with pytest.raises(InvalidInput) as raised:
        answers_validate(definition, answers(**valid, walking_distance_km=True))
    assert raised.value.field == "answers.walking_distance_km"
    assert answers_validate(definition, answers(**valid, walking_distance_km=1.5))["walking_distance_km"] == 1.5


@pytest.mark.parametrize(
    "items",
    [
        [{"link_id": "a", "type": "choice", "text": {"da": "x", "en": "x"}, "options": []}],
        [{"link_id": "a", "type": "scale", "text": {"da": "x", "en": "x"}}],
        [
            {
                "link_id": "a",
                "type": "boolean",
                "text": {"da": "x", "en": "x"},
                "enable_when": [{"question": "b", "operator": "=", "answer": True}],
            },
            {"link_id": "b", "type": "boolean", "text": {"da": "x", "en": "x"}},
        ],
        [{"link_id": "a", "type": "text", "text": {"da": "x"}}],
    ],
)
def test_broken_definitions_are_refused(items):
    with pytest.raises(InvalidInput):
        definition_parse(items, None)


def _item(operator, answer):
    return Item(
        link_id="b",
        type="text",
        text={"da": "b", "en": "b"},
        enable_when=[EnableWhen(question="a", operator=operator, answer=answer)],
    )


@pytest.mark.parametrize(
    ("operator", "expected", "answers_given", "enabled"),
    [
        ("exists", True, {"a": False}, True),
        ("exists", True, {"a": 0}, True),
        ("exists", True, {}, False),
        ("exists", False, {}, True),
        ("exists", False, {"a": False}, False),
        ("=", True, {"a": 1}, False),
        ("=", True, {"a": True}, True),
        ("=", 1, {"a": True}, False),
        ("=", 1, {"a": 1.0}, True),
        ("=", "1", {"a": 1}, False),
        ("!=", True, {"a": 1}, True),
        ("!=", 0, {"a": False}, True),
        ("!=", True, {}, False),
    ],
)
def test_enable_when_compares_answers_by_kind(operator, expected, answers_given, enabled):
    assert is_enabled(_item(operator, expected), answers_given) is enabled


def _with_condition(question, operator, answer):
    return [
        {"link_id": "a", "text": {"da": "a", "en": "a"}, **question},
        {
            "link_id": "b",
            "type": "text",
            "text": {"da": "b", "en": "b"},
            "enable_when": [{"question": "a", "operator": operator, "answer": answer}],
        },
    ]


CHOICE = {
    "type": "choice",
    "options": [{"code": "yes", "text": {"da": "ja", "en": "yes"}}, {"code": "no", "text": {"da": "nej", "en": "no"}}],
}


@pytest.mark.parametrize(
    ("question", "operator", "answer"),
    [
        ({"type": "boolean"}, "exists", "false"),
        ({"type": "boolean"}, "exists", None),
        ({"type": "integer"}, "=", True),
        ({"type": "boolean"}, "=", 1),
        ({"type": "integer"}, "=", 1.5),
        ({"type": "text"}, "!=", 3),
        (CHOICE, "=", "maybe"),
        ({"type": "boolean"}, ">", 0),
        ({"type": "decimal"}, ">=", True),
        ({"type": "decimal"}, "<", "3"),
    ],
)
def test_enable_when_that_cannot_fit_its_question_is_refused_at_publishing(question, operator, answer):
    with pytest.raises(InvalidInput) as raised:
        definition_parse(_with_condition(question, operator, answer), None)
    assert "enableWhen" in raised.value.detail


@pytest.mark.parametrize(
    ("question", "operator", "answer"),
    [
        ({"type": "boolean"}, "exists", True),
        ({"type": "boolean"}, "=", False),
        ({"type": "integer"}, "=", 2),
        ({"type": "decimal"}, "!=", 2.5),
        (CHOICE, "=", "yes"),
        ({"type": "scale", "min": 0, "max": 10}, ">=", 4),
    ],
)
def test_enable_when_that_fits_its_question_is_published(question, operator, answer):
    assert definition_parse(_with_condition(question, operator, answer), None).items[1].enable_when


# --- When a sent questionnaire is due ------------------------------------------------------------


TODAY = date(2026, 11, 23)
Status = QuestionnaireAssignment.Status


@pytest.fixture
def around_the_due_date(world) -> list[QuestionnaireAssignment]:  # type: ignore[no-untyped-def]
    """An assignment of every status due yesterday, today and tomorrow (``TODAY``)."""
    for offset, status in product((-1, 0, 1), Status.values):
        factories.QuestionnaireAssignmentFactory(
            citizen=world.citizen, due_on=TODAY + timedelta(days=offset), status=status
        )
    return list(QuestionnaireAssignment.objects.all())


@pytest.mark.django_db
def test_is_open_and_the_orm_conditions_agree_around_the_due_date(around_the_due_date):
    today, made = TODAY, around_the_due_date
    assert len(made) == 9
    in_python = {assignment.pk for assignment in made if is_open(assignment, today)}
    opened = set(QuestionnaireAssignment.objects.filter(open_q(today)).values_list("pk", flat=True))
    upcoming = set(QuestionnaireAssignment.objects.filter(upcoming_q(today)).values_list("pk", flat=True))
    assert in_python == opened
    assert {(a.due_on - today).days for a in made if a.pk in opened} == {-1, 0}
    assert {(a.due_on - today).days for a in made if a.pk in upcoming} == {1}
    assert all(a.status == Status.PENDING for a in made if a.pk in opened | upcoming)


@pytest.mark.django_db
def test_overdue_reads_the_same_in_python_the_orm_and_sql_around_the_due_date(around_the_due_date):
    today, made = TODAY, around_the_due_date
    in_python = {assignment.pk for assignment in made if is_overdue(assignment, today)}
    in_orm = set(QuestionnaireAssignment.objects.filter(overdue_q(today)).values_list("pk", flat=True))
    condition, parameters = overdue_sql("q", today="today")
    rows = sql.fetch(
        f"SELECT {sql.column(QuestionnaireAssignment, 'id', 'q')} FROM {sql.table(QuestionnaireAssignment)} q "  # noqa: S608
        f"WHERE {condition}",
        {**parameters, "today": connection.ops.adapt_datefield_value(today)},
    )
    in_sql = {QuestionnaireAssignment._meta.pk.to_python(row[0]) for row in rows}
    assert in_python == in_orm == in_sql
    # Pending since before today: open, and overdue; due today: open, not yet overdue.
    assert [((a.due_on - today).days, a.status) for a in made if a.pk in in_sql] == [(-1, Status.PENDING)]


def test_an_episodes_questionnaires_are_due_at_its_start_midway_and_planned_end():
    episode = Episode(start_date=date(2026, 1, 1), planned_end_date=date(2026, 3, 2))
    assert list(occasion_dates(episode).items()) == [
        ("episode_start", date(2026, 1, 1)),
        ("episode_midway", date(2026, 1, 31)),
        ("episode_end", date(2026, 3, 2)),
    ]
