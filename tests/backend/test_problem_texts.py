"""Every problem the platform can answer with has a Danish text, and the API gives titles in Danish unless
English is asked for."""

import re
from pathlib import Path

import pytest

from backend.problem_texts import DANISH
from tests.conftest import ApiClient

ROOT = Path(__file__).resolve().parents[2]
APPS = ("backend", "config", "selvbetjening", "velfaerdsteknologi", "notifications", "effekt", "staffweb", "borgerapp")


def problem_codes() -> set[str]:
    """The codes written in the source: ``code="…"`` arguments and errors' ``code = "…"``, and the HTTP
    statuses' own codes."""
    codes: set[str] = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            text = path.read_text()
            codes |= set(re.findall(r'\bcode="([a-z_]+)"', text))
            codes |= set(re.findall(r'^\s+code = "([a-z_]+)"', text, re.MULTILINE))
    from config.api import _HTTP_ERROR_CODES

    return codes | set(_HTTP_ERROR_CODES.values())


def test_the_walk_finds_the_codes_it_should():
    codes = problem_codes()
    assert {"not_found", "stale_version", "slot_already_filled", "consent_required", "rate_limited"} <= codes
    assert len(codes) > 60


@pytest.mark.parametrize("code", sorted(problem_codes()))
def test_every_problem_code_has_a_danish_text(code):
    assert DANISH.get(code), f"no Danish text for the problem code {code!r} in backend/problem_texts.py"


@pytest.mark.django_db
def test_problems_are_titled_in_danish_by_default_and_in_english_on_request(world):
    client = world.client("citizen")
    missing = f"/api/v1/me/goals/{world.citizen.pk}"
    danish = client.get(missing).json()
    assert danish["code"] == "not_found" and danish["title"] == DANISH["not_found"]
    english = client.get(missing, headers={"Accept-Language": "en"}).json()
    assert english["code"] == "not_found" and english["title"] == "Not found."
    anonymous = ApiClient().get("/api/v1/me").json()
    assert anonymous["title"] == DANISH["not_authenticated"]
