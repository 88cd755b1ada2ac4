"""The OpenAPI schema names each shape once: two schemas with one name would document one operation with
another's shape."""

from collections import defaultdict

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
