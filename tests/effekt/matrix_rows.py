"""Rows of the role × operation matrix for the effect layer (see tests/matrix.py): indicators for the
analyst (and team leads, tested in tests/effekt/test_api.py), the FHIR export for the citizen's care staff."""

from typing import Any

from tests.matrix import Row, statuses

PERIOD = {"from": "2026-01-01", "to": "2026-06-30"}


def _key(world: Any) -> dict[str, Any]:
    return {"key": "goal_attainment"}


ROWS = [
    Row("GET", "/api/v1/indicators", statuses(403, analyst=200)),
    Row("GET", "/api/v1/indicators/{key}", statuses(403, analyst=200), path_params=_key, query=lambda w: PERIOD),
    Row("GET", "/api/v1/indicators/{key}/csv", statuses(403, analyst=200), path_params=_key, query=lambda w: PERIOD),
    Row(
        "GET",
        "/api/v1/citizens/{citizen_id}/fhir",
        statuses(403, staff_in_team=200, staff_out_of_team=404),
        path_params=lambda w: {"citizen_id": w.citizen.pk},
    ),
]
