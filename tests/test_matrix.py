"""Walks every operation of the OpenAPI schema for every role and checks the status it gets.

A refused call (any 4xx) must leave every table of the platform unchanged.
"""

import pytest
from django.apps import apps

from config.api import api
from tests.matrix import ROLES, ROWS, Row

PLATFORM_APPS = ("backend", "selvbetjening", "velfaerdsteknologi", "notifications", "effekt")
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


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
    method = getattr(client, row.method.lower())
    if row.method in {"GET", "DELETE"}:
        response = method(path, row.query(world)) if row.method == "GET" else method(path)
    else:
        response = method(path, row.body(world) if row.body else {})
    assert response.status_code == row.expect[role], (role, response.status_code, response.content[:300])
    if response.status_code >= 400:
        assert response["Content-Type"] == "application/problem+json"
        assert table_counts() == before, "a refused call changed data"
