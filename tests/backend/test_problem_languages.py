"""Every problem the API can give is Danish by default and English on request: its title by its code, its
detail and its field messages (those the source raises, and pydantic's own, by error type and context)."""

import ast
from pathlib import Path

import pytest

from backend.problem_details import DANISH_DETAILS, danish_message
from backend.problem_texts import DANISH, ENGLISH
from tests.backend.test_problem_texts import problem_codes
from tests.conftest import ApiClient

ROOT = Path(__file__).resolve().parents[2]
APPS = ("backend", "config", "selvbetjening", "velfaerdsteknologi", "notifications", "effekt")
ERRORS = {
    "ApplicationError",
    "NotAuthenticated",
    "Forbidden",
    "NotFound",
    "Conflict",
    "PayloadTooLarge",
    "InvalidInput",
    "RateLimited",
    "ServiceUnavailable",
    "StaleVersion",
    "ProviderNotConfigured",
    "IdempotencyKeyReused",
    "IdempotencyInFlight",
    "InvalidCpr",
}
# Messages raised as a variable: they come from these functions' returned texts, walked below.
MESSAGE_FUNCTIONS = {
    "selvbetjening/rules/dosage.py": {"problem"},
    "selvbetjening/rules/questionnaires.py": {"_check_value", "_condition_problem"},
    "velfaerdsteknologi/schemas.py": {
        "_no_value",
        "_battery_value",
        "check",
        "_dose_value",
        "_location_value",
        "_custom_value",
    },
}
# Raise sites whose message is not a literal, and where its text comes from.
DYNAMIC_SITES = {
    "backend/routers/citizens.py": "the CPR parser's InvalidCpr messages (walked as raises)",
    "velfaerdsteknologi/selectors.py": "the CPR parser's InvalidCpr messages (walked as raises)",
    "selvbetjening/rules/dosage.py": "Bound.problem",
    "selvbetjening/rules/questionnaires.py": "_check_value, and pydantic's message for a definition (its value errors)",
    "velfaerdsteknologi/schemas.py": "the telemetry value checks",
}


def _template(node: ast.expr) -> str | None:
    """A literal message, or an f-string's template with ``{}`` for each value; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(part.value if isinstance(part, ast.Constant) else "{}" for part in node.values)
    return None


def _returned_texts(node: ast.expr) -> list[str]:
    """The texts an expression of a ``return`` can give: itself, or either side of a conditional."""
    if isinstance(node, ast.IfExp):
        return _returned_texts(node.body) + _returned_texts(node.orelse)
    text = _template(node)
    return [text] if text else []


def _is_schema_module(path: Path) -> bool:
    return path.stem == "schemas" or "schemas" in path.parts or path.name == "questionnaires.py"


def source_messages() -> tuple[dict[str, str], set[str]]:
    """Every message the source gives a problem (template -> where), and the files of raise sites whose
    message is not a literal."""
    found: dict[str, str] = {}
    dynamic: set[str] = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            where = str(path.relative_to(ROOT))
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and any(
                    isinstance(base, ast.Name) and base.id in ERRORS for base in node.bases
                ):
                    for statement in node.body:
                        if isinstance(statement, ast.Assign) and getattr(statement.targets[0], "id", "") == "title":
                            found[_template(statement.value) or ""] = where
                if isinstance(node, ast.FunctionDef) and node.name in MESSAGE_FUNCTIONS.get(where, ()):
                    for inner in ast.walk(node):
                        if isinstance(inner, ast.Return) and inner.value is not None:
                            for text in _returned_texts(inner.value):
                                found[text] = where
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                arguments: list[ast.expr] = []
                if name in ERRORS:
                    position = 1 if name == "InvalidInput" else 0
                    arguments = node.args[position : position + 1]
                    arguments += [keyword.value for keyword in node.keywords if keyword.arg in ("detail", "message")]
                elif name == "problem_response":
                    arguments = [keyword.value for keyword in node.keywords if keyword.arg in ("title", "detail")]
                elif name in ("ValueError", "PydanticCustomError") and _is_schema_module(path) and node.args:
                    arguments = node.args[-1:]
                for argument in arguments:
                    text = _template(argument)
                    if text is None:
                        if name in ERRORS or name in ("ValueError", "PydanticCustomError"):
                            dynamic.add(where)
                    elif text != "{}: {}":
                        found[text] = where
    return found, dynamic


def _example(template: str) -> str:
    return template.replace("{}", "x1")


def test_the_walk_finds_the_messages_it_should():
    found, _ = source_messages()
    for message in ("No such citizen.", "must not be in the past.", "The body may be at most {} bytes.", "is required"):
        assert message in found
    assert "must be between {} and {}." in found  # a returned text of Bound.problem
    assert len(found) > 200


def test_every_message_the_source_raises_has_its_danish():
    found, _ = source_messages()
    missing = {message: where for message, where in found.items() if danish_message(_example(message)) is None}
    assert missing == {}


def test_a_message_raised_as_a_variable_comes_from_a_walked_source():
    _, dynamic = source_messages()
    assert dynamic - set(DYNAMIC_SITES) == set()


def test_a_template_carries_its_values_over():
    assert danish_message("The body may be at most 1024 bytes.") == "Det sendte må højst fylde 1024 byte."
    episode = danish_message("An episode cannot go from active to planned.")
    assert episode == "Et forløb kan ikke gå fra active til planned."
    assert danish_message("Value error, must be within 50 years of today") == "skal ligge inden for 50 år fra i dag"
    assert danish_message("Nothing like this is raised anywhere.") is None


def test_no_danish_text_is_left_in_english():
    same = {english for english, danish in DANISH_DETAILS.items() if english == danish}
    assert same == set()


@pytest.mark.parametrize("code", sorted(problem_codes()))
def test_every_problem_code_has_a_danish_and_an_english_text(code):
    assert DANISH.get(code), f"no Danish text for {code!r} in backend/problem_texts.py"
    assert ENGLISH.get(code), f"no English text for {code!r} in backend/problem_texts.py"
    assert DANISH[code] != ENGLISH[code]


@pytest.mark.django_db
def test_a_not_found_is_danish_by_default_and_english_on_request(world):
    client = world.client("citizen")
    path = f"/api/v1/me/goals/{world.other_citizen.pk}"
    danish = client.get(path).json()
    assert danish["title"] == DANISH["not_found"] and danish["detail"] == "Målet findes ikke."
    english = client.get(path, headers={"Accept-Language": "en"}).json()
    assert english["title"] == "Not found." and english["detail"] == "No such goal."


@pytest.mark.django_db
def test_pydantic_field_errors_are_said_by_type_and_context(world):
    client = world.client("citizen")
    payload = {"category": "wish", "text": "x" * 4001, "surprise": 1}
    danish = client.post("/api/v1/me/requests", payload).json()
    assert danish["code"] == "validation_failed"
    messages = {error["field"]: error["message"] for error in danish["errors"]}
    assert messages["text"] == "må højst være 4000 tegn." and messages["surprise"] == "er ikke et felt her."
    assert messages["category"].startswith("skal være en af: ")
    assert danish["title"] == DANISH["validation_failed"] and danish["detail"] == f"category: {messages['category']}"

    english = client.post("/api/v1/me/requests", payload, headers={"Accept-Language": "en"}).json()
    messages = {error["field"]: error["message"] for error in english["errors"]}
    assert messages["text"] == "String should have at most 4000 characters"
    assert messages["surprise"] == "Extra inputs are not permitted"
    assert english["title"] == ENGLISH["validation_failed"]

    missing = client.post("/api/v1/me/requests", {"category": "help"}).json()
    assert {error["field"]: error["message"] for error in missing["errors"]} == {"text": "skal udfyldes."}


@pytest.mark.django_db
def test_a_bound_and_a_custom_field_error_are_danish(world):
    client = world.client("citizen")
    goal_path = f"/api/v1/me/goals/{world.other_citizen.pk}/ratings"
    body = client.post(goal_path, {"gas_score": 3}).json()
    assert {error["field"]: error["message"] for error in body["errors"]} == {"gas_score": "må højst være 2."}
    quiet = {"kinds": [], "quiet_hours": {"start": "22:00+01:00", "end": "07:00"}}
    body = client.put("/api/v1/me/notification-preferences", quiet).json()
    assert body["errors"] == [
        {"field": "quiet_hours.start", "message": "skal være et lokalt klokkeslæt uden tidszone, fx 10:00."}
    ]


@pytest.mark.django_db
def test_a_problem_answered_before_the_locale_middleware_is_in_the_asked_language(world, settings):
    settings.MAX_BODY_BYTES = 100
    client = world.client("citizen")
    danish = client.post("/api/v1/me/requests", {"category": "help", "text": "x" * 200}).json()
    assert danish["code"] == "payload_too_large"
    assert danish["title"] == DANISH["payload_too_large"] and danish["detail"] == "Det sendte må højst fylde 100 byte."
    english = client.post(
        "/api/v1/me/requests", {"category": "help", "text": "x" * 200}, headers={"Accept-Language": "en"}
    ).json()
    assert english["title"] == ENGLISH["payload_too_large"]
    assert english["detail"] == "The body may be at most 100 bytes."


@pytest.mark.django_db
def test_a_semantic_field_error_is_danish_with_its_field(world):
    anonymous = ApiClient()
    body = anonymous.post("/api/v1/auth/token", {"grant_type": "refresh_token"}).json()
    assert body["errors"] == [{"field": "refresh_token", "message": "Der kræves en fornyelsesnøgle (refresh token)."}]
    assert body["detail"] == "refresh_token: Der kræves en fornyelsesnøgle (refresh token)."
    english = anonymous.post(
        "/api/v1/auth/token", {"grant_type": "refresh_token"}, headers={"Accept-Language": "en"}
    ).json()
    assert english["errors"] == [{"field": "refresh_token", "message": "A refresh token is required."}]
