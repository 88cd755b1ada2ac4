"""Hand-written SQL's one convention (``backend.sql``): names from the models, values as the ORM gives them
on either database, and no statement in the kernel or the apps that types a table's name."""

import ast
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from django.db.models import Max, Min

from backend import sql
from selvbetjening.models import Episode, PlanExercise, SessionLog
from selvbetjening.rules.dosage import DOSAGE_FIELDS, dosage_out
from tests.selvbetjening.factories import EpisodeFactory
from tests.selvbetjening.training_factories import SessionLogFactory, make_plan

ROOT = Path(__file__).resolve().parents[2]


def test_names_come_quoted_from_the_models_metadata():
    assert sql.table(PlanExercise) == connection.ops.quote_name(PlanExercise._meta.db_table)
    # A foreign key is named by its field; its column is the one Django made for it.
    assert sql.column(PlanExercise, "version") == connection.ops.quote_name("version_id")
    assert sql.column(PlanExercise, "version", "pe") == f"pe.{connection.ops.quote_name('version_id')}"
    assert sql.placeholders(3) == "%s, %s, %s"


def test_a_template_names_tables_and_columns_through_aliases():
    template = "SELECT {pe.sets} FROM {pe} WHERE {pe.version} = %s"
    statement = template.format(**sql.aliases(pe=PlanExercise))
    quote = connection.ops.quote_name
    table = quote(PlanExercise._meta.db_table)
    expected = f"SELECT pe.{quote('sets')} FROM {table} pe WHERE pe.{quote('version_id')} = %s"  # noqa: S608
    assert statement == expected


def test_an_unknown_field_is_refused_not_written_into_a_statement():
    with pytest.raises(FieldDoesNotExist):
        "{pe.no_such_field}".format(**sql.aliases(pe=PlanExercise))


@pytest.fixture
def episode(world):
    return EpisodeFactory(citizen=world.citizen, team=world.team)


@pytest.mark.django_db
def test_a_selected_row_reads_as_the_orm_reads_the_same_fields(episode):
    plan = make_plan(episode=episode, exercises=1)
    [item] = plan.current_version.exercises.all()
    PlanExercise.objects.filter(pk=item.pk).update(sets=3, repetitions=None, hold_seconds=20, load_kg=Decimal("2.5"))
    names = ("id", "version", "exercise", *DOSAGE_FIELDS)
    select = sql.Select(*(("pe", PlanExercise, name) for name in names))
    statement = "SELECT {columns} FROM {pe} WHERE {pe.id} = %s".format(  # noqa: S608 — names from the models
        columns=select.sql(), **sql.aliases(pe=PlanExercise)
    )
    [row] = select.rows(sql.fetch(statement, [sql.parameter(PlanExercise, "id", item.pk)]))
    [expected] = PlanExercise.objects.filter(pk=item.pk).values_list("id", "version_id", "exercise_id", *DOSAGE_FIELDS)
    assert row == expected
    assert isinstance(row[0], UUID) and isinstance(row[-1], Decimal)
    item.refresh_from_db()
    by_name = dict(zip(names, row, strict=True))
    expected_dosage = {"sets": 3, "repetitions": None, "hold_seconds": 20, "duration_seconds": None, "load_kg": 2.5}
    assert dosage_out(by_name) == dosage_out(item) == expected_dosage
    assert isinstance(dosage_out(by_name)["load_kg"], float)


@pytest.mark.django_db
def test_a_value_computed_from_a_column_reads_as_the_orm_aggregates_it(episode):
    plan = make_plan(episode=episode, exercises=1)
    for hour in (8, 11):
        SessionLogFactory(plan=plan, performed_at=datetime(2026, 3, 29, hour, 30, tzinfo=UTC))
    statement = "SELECT MAX({l.performed_at}), MIN({e.planned_end_date}) FROM {l} JOIN {e} ON {e.id} = %s".format(  # noqa: S608 — names from the models
        **sql.aliases(l=SessionLog, e=Episode)
    )
    [(latest, ends)] = sql.fetch(statement, [sql.parameter(Episode, "id", episode.pk)])
    latest_by_orm = SessionLog.objects.aggregate(value=Max("performed_at"))["value"]
    assert (
        sql.value_of(SessionLog, "performed_at", latest) == latest_by_orm == datetime(2026, 3, 29, 11, 30, tzinfo=UTC)
    )
    ends_by_orm = Episode.objects.filter(pk=episode.pk).aggregate(value=Min("planned_end_date"))["value"]
    assert sql.value_of(Episode, "planned_end_date", ends) == ends_by_orm
    assert isinstance(sql.value_of(Episode, "planned_end_date", ends), date)
    assert sql.value_of(SessionLog, "performed_at", None) is None


# --- No statement types a table's name ----------------------------------------------------------

# The modules whose hand-written statements follow the convention.
RAW_SQL_MODULES = (
    "backend/audit.py",
    "backend/health.py",
    "backend/token_lookup.py",
    "backend/access/rules.py",
    "backend/access/triggers.py",
    "notifications/stream_checks.py",
    "notifications/services/inbox.py",
    "selvbetjening/rules/slots.py",
    "selvbetjening/selectors/caseload.py",
    "selvbetjening/selectors/today.py",
)
# A literal holds a statement when it has one of SQL's clauses, written in capitals as every statement here is.
_STATEMENT = re.compile(r"\bSELECT\b.*\bFROM\b|\bINSERT INTO\b|\bUPDATE\b.*\bSET\b|\bDELETE FROM\b|\bJOIN\b", re.DOTALL)


def _table_names() -> set[str]:
    return {model._meta.db_table.lower() for model in apps.get_models(include_auto_created=True)}


def literal_table_names(source: str) -> list[str]:
    """The table names and quoted identifiers that string literals holding SQL in ``source`` type by hand."""
    tables = _table_names()
    found: list[str] = []
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    # ast.walk visits an f-string before its parts, so the parts are known as such when they come.
    texts: list[str] = []
    in_formatted: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = [part.value if isinstance(part, ast.Constant) else "{}" for part in node.values]
            texts.append("".join(str(part) for part in parts))
            in_formatted.update(id(part) for part in node.values)
        elif (
            isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in in_formatted | docstrings
        ):
            texts.append(node.value)
    for text in texts:
        if not _STATEMENT.search(text):
            continue
        found += [f'"{name}"' for name in re.findall(r'"([A-Za-z_][A-Za-z0-9_]*)"', text)]
        found += [word for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text) if word.lower() in tables]
    return found


@pytest.mark.parametrize("path", RAW_SQL_MODULES)
def test_a_raw_statement_names_no_table_or_column_by_a_literal(path):
    assert literal_table_names((ROOT / path).read_text()) == []


def test_the_scan_finds_a_table_typed_into_a_statement():
    assert literal_table_names('QUERY = "SELECT id FROM selvbetjening_trainingslot"') == ["selvbetjening_trainingslot"]
    assert literal_table_names('QUERY = """SELECT s."status" FROM {s}"""') == ['"status"']
    assert literal_table_names('QUERY = f"SELECT {s} FROM notifications_notification"') == [
        "notifications_notification"
    ]
    assert literal_table_names('QUERY = "SELECT {s.status} FROM {s}"') == []
