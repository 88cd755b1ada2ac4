"""Walks every operation of the OpenAPI schema for every role and checks the status it gets.

A refused call (any 4xx) must leave every table of the platform unchanged. An answered one (2xx) that shows
a citizen's data (their id) has written exactly one access-log row for each such citizen, in the caller's
role and for the purpose the access layer declares for that role (``backend.audit.DEFAULT_PURPOSE``, the
declaration every access function and service logs by); no citizen gets two rows from one call.
"""

import pytest
from django.apps import apps
from django.db.models import Max

from backend.audit import DEFAULT_PURPOSE
from backend.models import AccessLogEntry, Citizen
from config.api import api
from tests.matrix import ROLES, ROWS, Row

PLATFORM_APPS = ("backend", "selvbetjening", "velfaerdsteknologi", "notifications", "effekt")
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def world(shared_world):
    """One world built for the whole module (``tests.conftest.module_world``): each test undoes its changes."""
    return shared_world


def schema_operations() -> set[tuple[str, str]]:
    schema = api.get_openapi_schema()
    return {
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in HTTP_METHODS
    }


def table_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for app_label in PLATFORM_APPS
        for model in apps.get_app_config(app_label).get_models()
    }


def test_every_operation_has_a_row_and_every_row_an_operation():
    rows = {row.key for row in ROWS}
    assert len(rows) == len(ROWS), "an operation has two rows"
    operations = schema_operations()
    assert operations - rows == set(), "operations without rows in tests/matrix.py"
    assert rows - operations == set(), "rows in tests/matrix.py for operations that do not exist"


@pytest.mark.parametrize("row", ROWS, ids=lambda row: f"{row.method} {row.path}")
def test_every_row_names_every_role(row: Row):
    assert set(row.expect) == set(ROLES)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", ROWS, ids=lambda row: f"{row.method} {row.path}")
def test_role_gets_expected_status(row: Row, role: str, world):
    path = row.path.format(**row.path_params(world))
    client = world.client(role)
    before = table_counts()
    logged_before = last_log_id()
    method = getattr(client, row.method.lower())
    if row.method in {"GET", "DELETE"}:
        response = method(path, row.query(world)) if row.method == "GET" else method(path)
    else:
        response = method(path, row.body(world) if row.body else {})
    assert response.status_code == row.expect[role], (role, response.status_code, response.content[:300])
    if response.status_code >= 400:
        assert response["Content-Type"] == "application/problem+json"
        assert table_counts() == before, "a refused call changed data"
    elif 200 <= response.status_code < 300:
        assert_logged_once_per_citizen_shown(row, role, world, response, logged_before)


# The role the access log names for each caller of the matrix.
LOGGED_ROLE = {
    "citizen": "citizen",
    "other_citizen": "citizen",
    "relative_with_consent": "relative",
    "relative_without_consent": "relative",
    "staff_in_team": "therapist",
    "staff_out_of_team": "therapist",
    "it": "it",
    "analyst": "analyst",
}


def logged_purpose(role: str) -> str:
    """The purpose a call in ``role`` logs: the one declared for the role the access log names."""
    return DEFAULT_PURPOSE[LOGGED_ROLE[role]]


def last_log_id() -> int:
    return AccessLogEntry.objects.aggregate(last=Max("id"))["last"] or 0


def shown_citizens(content: str) -> set:
    """The citizens whose id an answer contains (every answer about a citizen carries the citizen's id; names
    are made up by the factories and may coincide with a staff member's, so they prove nothing)."""
    return {citizen.pk for citizen in Citizen.objects.all() if str(citizen.pk) in content}


def assert_logged_once_per_citizen_shown(row: Row, role: str, world, response, logged_before: int) -> None:
    rows = list(AccessLogEntry.objects.filter(id__gt=logged_before))
    per_citizen: dict = {}
    for entry in rows:
        per_citizen[entry.citizen_id] = per_citizen.get(entry.citizen_id, 0) + 1
    twice = {citizen_id for citizen_id, count in per_citizen.items() if count > 1}
    assert not twice, f"{row.method} {row.path} as {role}: more than one log row for a citizen"
    if role in LOGGED_ROLE:
        for entry in rows:
            assert entry.actor_role == LOGGED_ROLE[role], (row.method, row.path, role, entry.actor_role)
            assert entry.purpose == logged_purpose(role), (row.method, row.path, role, entry.purpose)
    content = response.content.decode(errors="replace")
    missing = shown_citizens(content) - set(per_citizen)
    assert not missing, f"{row.method} {row.path} as {role}: citizen data shown without its access-log row"
