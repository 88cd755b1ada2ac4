"""The role × operation matrix: for every operation in the OpenAPI schema, the status each role gets.

The platform core's rows are here; each app adds its own in ``tests/<app>/matrix_rows*.py`` as a list
named ``ROWS``. ``tests/test_matrix.py`` fails when an operation has no row, when a row names no
operation, or when a role is missing from a row. The citizen app's pages are ``PAGE_ROWS``
(``tests/borgerapp/matrix_rows.py``, walked by ``tests/borgerapp/test_page_matrix.py``).
"""

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend import cpr

ROLES = (
    "anonymous",
    "citizen",
    "other_citizen",
    "relative_with_consent",
    "relative_without_consent",
    "staff_in_team",
    "staff_out_of_team",
    "it",
    "analyst",
    "device",
)
PEOPLE = ROLES[1:-1]
CITIZENS = ("citizen", "other_citizen")
RELATIVES = ("relative_with_consent", "relative_without_consent")
CARE_STAFF = ("staff_in_team", "staff_out_of_team")


def statuses(default_people: int, *, anonymous: int = 401, device: int = 401, **per_role: int) -> dict[str, int]:
    """Expected statuses: ``default_people`` for every person unless named, 401 for anonymous and device."""
    expected = {role: default_people for role in PEOPLE}
    expected.update(anonymous=anonymous, device=device)
    expected.update(per_role)
    return expected


def same_for_all(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    expect: dict[str, int]
    path_params: Callable[[Any], dict[str, Any]] = field(default=lambda world: {})
    query: Callable[[Any], dict[str, Any]] = field(default=lambda world: {})
    body: Callable[[Any], Any] | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.method, self.path)


def _owner_session(world: Any) -> dict[str, Any]:
    return {"session_id": world.citizen.user.app_sessions.first().pk}


def _citizen_cpr(world: Any) -> dict[str, Any]:
    return {"cpr": cpr.decrypt(world.citizen.cpr_ciphertext).digits}


PKCE_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

CORE_ROWS: list[Row] = [
    # Logging in and out: open to everyone; the outcome depends on the request, not on the caller.
    Row(
        "GET",
        "/api/v1/auth/{audience}/authorize",
        same_for_all(404),  # no identity provider configured in the test settings
        path_params=lambda w: {"audience": "citizen"},
        query=lambda w: {
            "redirect_uri": "dk.mestring.app:/oauth/callback",
            "code_challenge": PKCE_CHALLENGE,
            "code_challenge_method": "S256",
        },
    ),
    Row(
        "GET",
        "/api/v1/auth/{audience}/callback",
        same_for_all(401),
        path_params=lambda w: {"audience": "citizen"},
        query=lambda w: {"state": "unknown-state", "code": "unknown-code"},
    ),
    Row(
        "POST",
        "/api/v1/auth/token",
        same_for_all(401),
        body=lambda w: {"grant_type": "refresh_token", "refresh_token": "mrt_not-a-real-token"},
    ),
    Row("POST", "/api/v1/auth/revoke", same_for_all(204), body=lambda w: {"token": "mat_not-a-real-token"}),
    Row("POST", "/api/v1/auth/logout", statuses(204)),
    # The caller's own account.
    Row("GET", "/api/v1/me", statuses(200)),
    Row("GET", "/api/v1/me/sessions", statuses(200)),
    Row(
        "DELETE",
        "/api/v1/me/sessions/{session_id}",
        statuses(404, citizen=204),
        path_params=_owner_session,
    ),
    Row("GET", "/api/v1/me/access-log", statuses(403, citizen=200, other_citizen=200)),
    Row("GET", "/api/v1/me/export", statuses(403, citizen=200, other_citizen=200)),
    # Citizens as care staff see them.
    Row("GET", "/api/v1/citizens", statuses(403, staff_in_team=200, staff_out_of_team=200)),
    Row(
        "GET",
        "/api/v1/citizens/{citizen_id}",
        statuses(403, staff_in_team=200, staff_out_of_team=404),
        path_params=lambda w: {"citizen_id": w.citizen.pk},
    ),
    Row(
        "POST",
        "/api/v1/citizens/lookup",
        statuses(403, staff_in_team=200, staff_out_of_team=404),
        body=_citizen_cpr,
    ),
    # On duty: care staff, for teams they hold a care role in.
    Row("GET", "/api/v1/me/duty", statuses(403, staff_in_team=200, staff_out_of_team=200)),
    Row(
        "PUT",
        "/api/v1/me/duty/{team_id}",
        statuses(403, staff_in_team=200, staff_out_of_team=404),
        path_params=lambda w: {"team_id": w.team.pk},
    ),
    Row(
        "DELETE",
        "/api/v1/me/duty/{team_id}",
        statuses(403, staff_in_team=204, staff_out_of_team=404),
        path_params=lambda w: {"team_id": w.team.pk},
    ),
    Row(
        "GET",
        "/api/v1/teams/{team_id}/members",
        statuses(403, staff_in_team=200, staff_out_of_team=404),
        path_params=lambda w: {"team_id": w.team.pk},
    ),
    Row(
        "GET",
        "/api/v1/teams/{team_id}/on-duty",
        statuses(403, staff_in_team=200, staff_out_of_team=404),
        path_params=lambda w: {"team_id": w.team.pk},
    ),
]


def _app_rows(app: str) -> list[Row]:
    """The rows of ``tests/<app>/matrix_rows.py`` and of any ``matrix_rows_<part>.py`` beside it."""
    folder = Path(__file__).parent / app
    rows: list[Row] = []
    for path in sorted(folder.glob("matrix_rows*.py")):
        rows.extend(importlib.import_module(f"tests.{app}.{path.stem}").ROWS)
    return rows


ROWS: list[Row] = CORE_ROWS + [
    row for app in ("selvbetjening", "velfaerdsteknologi", "notifications", "effekt") for row in _app_rows(app)
]
# The pages of the web apps that keep a browser login, walked with each role's browser
# (tests/borgerapp/test_page_matrix.py).
PAGE_ROWS: list[Row] = _app_rows("borgerapp")
