"""Schemathesis walks every operation of /api/v1/openapi.json as a citizen and as care staff, with all its
checks, and the server must answer exactly as the schema says: 0 failures of any kind.

Requests go in-process through Django's WSGI handler, inside the test's database transaction, so the run
works the same on SQLite and on PostgreSQL. Generation is deterministic (a fixed seed per operation), so
a result never depends on luck, and small enough to stay within minutes on a busy machine.

No operation is left out. Schemathesis's coverage phase (every boundary and type-violating value of every
parameter and field) runs per operation apart from the generated examples, in a short form in CI (see
``COVERAGE_CASES``) and whole by a documented command. What the run does not ask of the API, each with its
reason where it is set: rejecting unknown query parameters (the API ignores them), and
refusing valid-looking data only by the schema's own rules (422 for rules the schema cannot state, such as
a date within 50 years of today, is accepted; a 422 ``validation_failed`` for anything else is a failure).
"""

import os
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig

from backend.models import AppSession
from backend.problem_details import danish_message
from config.api import api
from tests.conftest import access_token_for

MAX_EXAMPLES = 4

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 13,
        "generation": {
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
            # The API ignores query parameters it does not know, as HTTP APIs do (a cache-buster, a newer
            # client's filter); an unknown parameter is therefore not invalid data.
            "allow-extra-parameters": False,
        },
        # The coverage phase runs below, per operation, with a bounded number of its cases (all of them take the
        # run far beyond minutes); here the examples and fuzzing phases run, positive and negative, with every
        # check.
        "phases": {"coverage": {"enabled": False}},
        "checks": {
            # A value can be valid by the schema and still refused by a rule the schema cannot say (a date
            # within the episode, a slot of this plan): 422 with its own problem code. A 422 for valid data
            # from the schema's own validation (``validation_failed``) still fails, by the check below.
            "positive_data_acceptance": {"expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]},
        },
    }
)

schema = schemathesis.openapi.from_dict(api.get_openapi_schema(), config=CONFIG)
schema.app = WSGIHandler()
load_all_checks()
ALL_CHECKS = [check for check in CHECKS.get_all() if callable(check) and not isinstance(check, type)]


@pytest.fixture
def world(shared_world):
    """One world built for the whole module (``tests.conftest.module_world``): each test undoes its changes."""
    return shared_world


# Field rules the schema cannot state, so valid data may break them: a date or time a client sends lies within
# 50 years of today (a bound that moves with the day; it keeps date arithmetic from overflowing).
RULES_BEYOND_THE_SCHEMA = {
    danish_message("must be within 50 years of today"),
    danish_message("must be within 50 years of now"),
}


@schemathesis.check
def schema_valid_data_passes_schema_validation(ctx: Any, response: Any, case: Any) -> bool | None:
    """Data the schema calls valid is never refused by the server's own schema validation (``validation_failed``),
    but for the rules the schema cannot state."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    body = response.json()
    refused = [error for error in body.get("errors") or [] if error["message"] not in RULES_BEYOND_THE_SCHEMA]
    if body.get("code") == "validation_failed" and refused:
        raise AssertionError(f"valid data refused by validation: {refused}")
    return None


def test_every_check_of_schemathesis_runs():
    names = {check.__name__ for check in ALL_CHECKS}
    assert {
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "positive_data_acceptance",
        "missing_required_header",
        "unsupported_method",
        "allow_header_conformance",
        "use_after_free",
        "ensure_resource_availability",
        "ignored_auth",
    } <= names


@pytest.fixture
def wsgi_app():
    """Django's WSGI handler, without closing the test's connection at the end of each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schema.app
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _check_case(case: Any, user: Any, audience: str, app: WSGIHandler) -> None:
    """One example, with a login of its own: an operation that ends the caller's login (``/auth/logout``,
    ``/auth/revoke``, ``DELETE /me/sessions/{id}``) ends only this example's."""
    token = access_token_for(user, audience)
    case.call_and_validate(
        headers={"Authorization": f"Bearer {token}"},
        app=app,
        checks=ALL_CHECKS,
        additional_checks=[schema_valid_data_passes_schema_validation],
    )


@pytest.mark.django_db
@schema.parametrize()
@settings(suppress_health_check=list(HealthCheck), deadline=None)
def test_as_a_citizen(case, world, wsgi_app):
    _check_case(case, world.citizen.user, AppSession.Audience.CITIZEN, wsgi_app)


@pytest.mark.django_db
@schema.parametrize()
@settings(suppress_health_check=list(HealthCheck), deadline=None)
def test_as_care_staff(case, world, wsgi_app):
    _check_case(case, world.staff_in_team.user, AppSession.Audience.STAFF, wsgi_app)


# --- The coverage phase ---------------------------------------------------------------------------------------
#
# Schemathesis's coverage phase enumerates, for each operation, the boundary and type-violating cases of every
# parameter and body field (positive and negative): hundreds of requests for a large body, some 20 000 over the
# API (7 650 on each role). CI runs COVERAGE_CASES of them per operation and role, spread evenly over the
# operation's list so that both ends (valid values first, then each kind of invalid value and unexpected
# method) are reached, the same cases every run; the whole phase runs with
#
#     MESTRING_CONTRACT_COVERAGE=all .venv/bin/pytest -q -p no:randomly tests/test_api_contract.py -k coverage
#
# (14 minutes for each role on a loaded 2-core machine). Each case runs with every check, with a login of its
# own, as in the tests above; every failure of an operation is reported, not only the first. No operation and
# no check is left out of it.

COVERAGE_CASES = 4


def _operations() -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


def _coverage_cases(operation: Any) -> list[Any]:
    from schemathesis.generation import GenerationMode
    from schemathesis.generation.drivers import CoverageGenerator
    from schemathesis.generation.feedback import FeedbackSources
    from schemathesis.generation.overrides import Override

    generator = CoverageGenerator(
        operation=operation,
        generation_modes=list(GenerationMode),
        generation_config=schema.config.generation_for(operation=operation, phase="coverage"),
        auth_storage=None,
        override=Override(),
        feedback=FeedbackSources(),
    )
    cases = list(generator)
    wanted = os.environ.get("MESTRING_CONTRACT_COVERAGE", "")
    if wanted == "all" or len(cases) <= COVERAGE_CASES:
        return cases
    step = (len(cases) - 1) / (COVERAGE_CASES - 1)
    return [cases[round(index * step)] for index in range(COVERAGE_CASES)]


OPERATIONS = _operations()


def _check_coverage(operation: Any, user: Any, audience: str, app: WSGIHandler) -> None:
    cases = _coverage_cases(operation)
    assert cases, "the coverage phase made no case for this operation"
    failures = []
    for case in cases:
        try:
            _check_case(case, user, audience, app)
        except (Exception, BaseExceptionGroup) as failure:  # noqa: BLE001 — a check failed (a FailureGroup), or the call
            described = case.meta.phase.data.description if case.meta else "a case"
            failures.append(f"{described}: {failure!r}\n{case.as_curl_command()}")
    assert failures == []


@pytest.mark.django_db
@pytest.mark.parametrize("operation", OPERATIONS, ids=[operation.label for operation in OPERATIONS])
def test_coverage_as_a_citizen(operation, world, wsgi_app):
    _check_coverage(operation, world.citizen.user, AppSession.Audience.CITIZEN, wsgi_app)


@pytest.mark.django_db
@pytest.mark.parametrize("operation", OPERATIONS, ids=[operation.label for operation in OPERATIONS])
def test_coverage_as_care_staff(operation, world, wsgi_app):
    _check_coverage(operation, world.staff_in_team.user, AppSession.Audience.STAFF, wsgi_app)
