"""The OpenAPI schema names each shape once: two schemas with one name would document one operation with
another's shape."""

from collections import defaultdict

import pytest
from ninja import Schema

from config.api import api

PLATFORM = ("backend", "selvbetjening", "velfaerdsteknologi", "notifications", "effekt")


def _subclasses(cls: type) -> set[type]:
    found: set[type] = set(cls.__subclasses__())
    for subclass in list(found):
        found |= _subclasses(subclass)
    return found


def test_no_two_of_the_platforms_schemas_share_a_name():
    used = set(api.get_openapi_schema()["components"]["schemas"])
    by_name: dict[str, set[str]] = defaultdict(set)
    for schema in _subclasses(Schema):
        if schema.__module__.split(".")[0] in PLATFORM and "[" not in schema.__name__ and schema.__name__ in used:
            by_name[schema.__name__].add(f"{schema.__module__}.{schema.__qualname__}")
    shared = {name: sorted(places) for name, places in by_name.items() if len(places) > 1}
    assert shared == {}


def test_questionnaire_assignments_are_documented_with_their_own_shape():
    schema = api.get_openapi_schema()
    operation = schema["paths"]["/api/v1/me/questionnaires"]["get"]
    responses = {str(status): answer for status, answer in operation["responses"].items()}
    reference = responses["200"]["content"]["application/json"]["schema"]["$ref"]
    assert reference.endswith("/QuestionnaireAssignmentPageOut")
    assert "AssignmentPageOut" in schema["components"]["schemas"]  # the device assignments' own


def _walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def test_times_of_day_are_documented_as_local_times_without_an_offset():
    schema = api.get_openapi_schema()
    assert [node for node in _walk(schema) if node.get("format") == "time"] == []
    components = schema["components"]["schemas"]
    start = components["QuietHoursIn"]["properties"]["start"]
    assert start["type"] == "string" and start["pattern"] == "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"
    quiet_end = components["QuietHoursOut"]["properties"]["end"]
    assert "Europe/Copenhagen" in quiet_end["description"] and "without an offset" in quiet_end["description"]
    assert components["PlanVersionOut"]["properties"]["start_time"]["pattern"] == start["pattern"]


def _problems(schema, method, path):
    responses = schema["paths"][path][method]["responses"]
    problems = {}
    for status, answer in responses.items():
        if int(status) >= 400:
            assert answer["content"] == {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemOut"}}
            }
            problems[int(status)] = answer
    return problems


def test_every_operation_documents_its_problem_responses_from_what_it_takes():
    schema = api.get_openapi_schema()
    assert set(_problems(schema, "get", "/api/v1/me")) == {401, 403, 503}
    assert set(_problems(schema, "delete", "/api/v1/me/sessions/{session_id}")) == {401, 403, 404, 409, 422, 429, 503}
    token = _problems(schema, "post", "/api/v1/auth/token")
    assert {400, 401, 413, 422, 429, 503} <= set(token) and 403 not in token
    assert "Retry-After" in token[429]["headers"]
    # An id in the body can name what the caller may not see: 404, as in a path.
    assert 404 in _problems(schema, "post", "/api/v1/episodes")
    for path, item in schema["paths"].items():
        for method in item:
            assert 503 in _problems(schema, method, path), f"{method} {path}"
    assert "errors" in schema["components"]["schemas"]["ProblemOut"]["properties"]


@pytest.mark.django_db
@pytest.mark.parametrize("start", ["22:00+01:00", "22:00:00.5", "7:30", "24:00", 2200])
def test_a_time_of_day_outside_the_documented_pattern_is_refused(world, start):
    client = world.client("citizen")
    response = client.put("/api/v1/me/notification-preferences", {"quiet_hours": {"start": start, "end": "07:00"}})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "quiet_hours.start"
    accepted = client.put("/api/v1/me/notification-preferences", {"quiet_hours": {"start": "22:00", "end": "07:00"}})
    assert accepted.status_code == 200 and accepted.json()["quiet_hours"]["start"] == "22:00:00"


def test_indicator_months_and_series_are_documented():
    schema = api.get_openapi_schema()
    components = schema["components"]["schemas"]
    assert components["PeriodOut"]["properties"]["key"]["enum"][-1] == "M12"
    operation = schema["paths"]["/api/v1/indicators/{key}/series"]["get"]
    parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
    assert {"key", "interval", "year", "years", "team", "unit", "condition", "age_band", "device_type"} <= set(
        parameters
    )
    assert "breakdown" not in parameters and "from" not in parameters
    responses = {str(status): answer for status, answer in operation["responses"].items()}
    assert responses["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/SeriesOut")
    values = schema["paths"]["/api/v1/indicators/{key}"]["get"]["parameters"]
    assert "month" in next(parameter for parameter in values if parameter["name"] == "from")["description"]
