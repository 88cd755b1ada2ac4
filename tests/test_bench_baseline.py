"""The `GET /api/v1/me` benchmark's plain WSGI baseline must answer exactly what Mestring answers, or its ratio
compares two different answers (the harness refuses such a run; this finds it before a run is made)."""

import json
import uuid
from typing import Any

import pytest
from django.db import connection

from backend.models import AccessLogEntry
from bench.baseline import Database, me
from tests import factories
from tests.conftest import ApiClient, access_token_for


class _TestDatabase(Database):
    """The baseline's statements on the test database's own connection, inside the test's transaction."""

    def connection(self) -> Any:
        connection.ensure_connection()
        return connection.connection

    def insert_in_transaction(self, statement: str, parameters: tuple[Any, ...]) -> None:
        self.query(statement, parameters)


@pytest.mark.django_db
def test_the_baseline_answers_me_with_the_same_json_as_the_api_and_logs_the_read_the_same_way():
    citizen = factories.CitizenFactory()
    token = access_token_for(citizen.user)

    answered = ApiClient(token).get("/api/v1/me")
    assert answered.status_code == 200
    baseline = me(_TestDatabase("sqlite:" if connection.vendor == "sqlite" else "postgres:"), token, uuid.uuid4().hex)

    assert json.loads(json.dumps(baseline)) == answered.json()
    logged = AccessLogEntry.objects.filter(citizen=citizen).order_by("at")
    assert [(entry.actor_role, entry.resource_type, entry.purpose) for entry in logged] == [
        ("citizen", "profile", "own_use")
    ] * 2
