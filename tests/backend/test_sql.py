"""Hand-written SQL's one convention (``backend.sql``): names from the models, values as the ORM gives them
on either database, and no statement in the kernel or the apps that types a table's name."""

import ast
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from uuid import UUID, uuid4

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


@pytest.mark.django_db
def test_a_long_list_as_one_parameter_finds_the_rows_the_orms_in_finds(episode):
    plan = make_plan(episode=episode, exercises=3)
    first, _, third = plan.current_version.exercises.order_by("position")
    wanted = [first.pk, third.pk, uuid4()]
    select = sql.Select(("pe", PlanExercise, "id"))
    statement = "SELECT {columns} FROM {pe} WHERE {among}".format(  # noqa: S608 — names from the models
        columns=select.sql(),
        among=sql.among(sql.column(PlanExercise, "id", "pe"), len(wanted), "uuid"),
        **sql.aliases(pe=PlanExercise),
    )
    parameters = sql.among_parameters([sql.parameter(PlanExercise, "id", value) for value in wanted])
    assert len(parameters) == (1 if connection.vendor == "postgresql" else len(wanted))
    found = {row[0] for row in select.rows(sql.fetch(statement, parameters))}
    assert found == set(PlanExercise.objects.filter(pk__in=wanted).values_list("id", flat=True)) == {first.pk, third.pk}


@pytest.mark.django_db
def test_ids_as_text_and_moments_as_seconds_read_as_the_orm_reads_them(episode):
    plan = make_plan(episode=episode, exercises=1)
    SessionLogFactory(plan=plan, performed_at=datetime(2026, 3, 29, 8, 30, 15, 250000, tzinfo=UTC))
    if connection.vendor == "postgresql":
        template = "SELECT {l.id}::text, extract(epoch FROM {l.performed_at})::float8 FROM {l}"
    else:
        template = "SELECT {l.id}, {l.performed_at} FROM {l}"
    [(log_id, performed_at)] = sql.fetch(template.format(**sql.aliases(l=SessionLog)), [])
    [(orm_id, orm_performed_at)] = SessionLog.objects.values_list("id", "performed_at")
    assert sql.uuid_text(log_id) == str(orm_id)
    assert sql.moment(performed_at) == orm_performed_at
    assert sql.uuid_text(orm_id.hex) == sql.uuid_text(orm_id) == str(orm_id)
    assert sql.moment("2026-03-29 08:30:15") == datetime(2026, 3, 29, 8, 30, 15, tzinfo=UTC)


# --- No statement types a table's or a column's name ---------------------------------------------

# The project's packages (the tests and the benchmarks aside); migrations are history, written once for the
# tables as they were then.
PACKAGES = (
    "backend",
    "borgerapp",
    "config",
    "effekt",
    "notifications",
    "selvbetjening",
    "staffweb",
    "velfaerdsteknologi",
)
# Modules known to hold hand-written SQL: the scan below must find each of them.
KNOWN_RAW_SQL_MODULES = (
    "backend/audit.py",
    "backend/health.py",
    "backend/token_lookup.py",
    "backend/access/rules.py",
    "backend/access/triggers.py",
    "backend/partitions.py",
    "backend/session_store.py",
    "effekt/aggregates.py",
    "notifications/partitioning.py",
    "notifications/push.py",
    "notifications/stream_checks.py",
    "notifications/services/inbox.py",
    "notifications/services/scheduling.py",
    "selvbetjening/rules/questionnaires.py",
    "selvbetjening/rules/requests.py",
    "selvbetjening/rules/slots.py",
    "selvbetjening/selectors/caseload.py",
    "selvbetjening/selectors/today.py",
    "velfaerdsteknologi/services/telemetry.py",
)
# What reaches the database with a statement of the module's own: a cursor, RawSQL, a manager's raw() or
# extra(), or the SQL helper itself.
_CURSOR_CALLS = frozenset({"cursor", "execute", "executemany"})
_RAW_QUERY_CALLS = frozenset({"raw", "extra"})


def uses_raw_sql(source: str) -> bool:
    """Whether ``source`` runs or builds statements by hand: it calls ``cursor()`` or a cursor's ``execute``,
    uses ``RawSQL``, a queryset's ``raw``/``extra``, or imports ``backend.sql``."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (
            node.module == "backend.sql" or (node.module == "backend" and any(a.name == "sql" for a in node.names))
        ):
            return True
        if isinstance(node, ast.Name | ast.alias) and "RawSQL" in {
            getattr(node, "id", None),
            getattr(node, "name", None),
        }:
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver = ast.unparse(node.func.value)
            if node.func.attr == "cursor" or (node.func.attr in _CURSOR_CALLS and "cursor" in receiver):
                return True
            if node.func.attr in _RAW_QUERY_CALLS and ("objects" in receiver or "filter(" in receiver):
                return True
    return False


def raw_sql_modules() -> list[str]:
    """Every module of the packages that holds hand-written SQL (``uses_raw_sql``), the helper aside."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "migrations" not in path.parts and relative != "backend/sql.py" and uses_raw_sql(path.read_text()):
                found.append(relative)
    return found


# A literal holds a statement, or a condition for one, when it has one of SQL's clauses or operators, written in
# capitals as every statement here is.
_STATEMENT = re.compile(
    r"\bSELECT\b.*\bFROM\b|\bINSERT INTO\b|\bUPDATE\b.*\bSET\b|\bDELETE FROM\b|\bJOIN\b|\bWHERE\b"
    r"|\bIN \(|\bIS (?:NOT )?NULL\b",
    re.DOTALL,
)
# A statement on the database's own catalogs names their columns, not the models'.
_CATALOG = re.compile(r"\b(?:FROM|JOIN)\s+(?:pg_\w+|sqlite_master|information_schema\.)")
# Names a statement makes itself: an alias (``AS hashed``), a derived table's or a CTE's columns
# (``AS wanted(token_hash)``, ``listed (rule_id, citizen_id) AS (``).
_ALIAS = re.compile(r"\bAS\s+([a-z_]\w*)(?:\s*\(([^()]*)\))?")
_CTE_COLUMNS = re.compile(r"\b[a-z_]\w*\s*\(([a-z_][\w\s,]*)\)\s*AS\s*\(")
# A lowercase word that is not a function's name, a type after ``::`` or a PL/pgSQL ``$n`` (parameters
# ``%(name)s`` are taken out before).
_BARE_WORD = re.compile(r"(?<![:\w$%])([a-z_][a-z0-9_]*)\b(?!\s*\()")


def _table_names() -> set[str]:
    return {model._meta.db_table.lower() for model in apps.get_models(include_auto_created=True)}


def _column_names() -> set[str]:
    return {
        field.column.lower()
        for model in apps.get_models(include_auto_created=True)
        for field in model._meta.concrete_fields
    }


def _statement_texts(source: str) -> list[str]:
    """The string literals of ``source`` that hold a statement (docstrings aside), an f-string's fields as
    ``{}``."""
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
    return [text for text in texts if _STATEMENT.search(text)]


def literal_table_names(source: str) -> list[str]:
    """The table names and quoted identifiers that string literals holding SQL in ``source`` type by hand."""
    tables = _table_names()
    found: list[str] = []
    for text in _statement_texts(source):
        found += [f'"{name}"' for name in re.findall(r'"([A-Za-z_][A-Za-z0-9_]*)"', text)]
        found += [word for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text) if word.lower() in tables]
    return found


def literal_column_names(source: str) -> list[str]:
    """The models' column names that statements in ``source`` type bare (``SET value = value + 1``): lowercase
    words outside quotes and format fields that are a model's column, but not a name the module's statements
    make themselves (an alias, a CTE's columns), a function, a type or a parameter. Statements on the
    database's catalogs are left out: their columns are the catalog's."""
    texts = [text for text in _statement_texts(source) if not _CATALOG.search(text)]
    stripped = [re.sub(r"\{[^{}]*\}|%\(\w+\)s", "{}", re.sub(r"'[^']*'", "''", text)) for text in texts]
    made: set[str] = set()
    for text in stripped:
        for alias, columns in _ALIAS.findall(text):
            made.add(alias)
            made.update(name.strip() for name in columns.split(",") if name.strip())
        for columns in _CTE_COLUMNS.findall(text):
            made.update(name.strip() for name in columns.split(",") if name.strip())
    columns = _column_names()
    return [word for text in stripped for word in _BARE_WORD.findall(text) if word in columns and word not in made]


def test_the_scan_finds_every_module_known_to_hold_raw_sql():
    assert set(KNOWN_RAW_SQL_MODULES) <= set(raw_sql_modules())


@pytest.mark.parametrize("path", raw_sql_modules())
def test_a_raw_statement_names_no_table_or_column_by_a_literal(path):
    source = (ROOT / path).read_text()
    assert literal_table_names(source) == []
    assert literal_column_names(source) == []


def test_the_scan_finds_a_table_typed_into_a_statement():
    assert literal_table_names('QUERY = "SELECT id FROM selvbetjening_trainingslot"') == ["selvbetjening_trainingslot"]
    assert literal_table_names('QUERY = """SELECT s."status" FROM {s}"""') == ['"status"']
    assert literal_table_names('QUERY = f"SELECT {s} FROM notifications_notification"') == [
        "notifications_notification"
    ]
    assert literal_table_names('QUERY = "SELECT {s.status} FROM {s}"') == []


def test_the_scan_finds_a_column_typed_into_a_statement():
    assert literal_column_names('Q = f"UPDATE {t} SET value = value + 1 WHERE id = 1"') == ["value", "value", "id"]
    assert literal_column_names('Q = f"SELECT {s.id} FROM {s} WHERE s.status = %s"') == ["status"]
    assert literal_column_names("Q = f\"SELECT 1 FROM {p} WHERE {s.status} = 'sent' OR due_at >= %s\"") == ["due_at"]
    assert literal_column_names("KEEP = \"status IN ('scheduled', 'claimed') OR due_at >= %s\"") == ["status", "due_at"]
    assert literal_column_names('Q = f"INSERT INTO {t} (id, value) VALUES (1, 2)"') == ["id", "value"]
    # Not a model's column: functions, types, parameters, the statement's own names and the catalogs'.
    assert literal_column_names('Q = "SELECT count(*), %(status)s::text FROM {t} WHERE {t.kind} = %s"') == []
    assert literal_column_names('Q = f"SELECT {s.id} AS id FROM {s}"') == []
    assert (
        literal_column_names('Q = "SELECT 1 FROM unnest(%s) AS wanted(token_hash) WHERE wanted.token_hash = %s"') == []
    )
    assert (
        literal_column_names('Q = "WITH listed (rule_id, at) AS (VALUES (%s, %s)) SELECT listed.at FROM listed"') == []
    )
    assert literal_column_names("Q = \"SELECT name, type FROM sqlite_master WHERE type = 'trigger'\"") == []
