"""Rows of the role × operation matrix for the effect layer (see tests/matrix.py): indicators for the
analyst (and team leads, tested in tests/effekt/test_api.py), the FHIR export for the citizen's care staff."""

from typing import Any

from tests.matrix import Row, statuses

PERIOD = {"from": "2026-01-01", "to": "2026-12-31"}


def _key(world: Any) -> dict[str, Any]:
    return {"key": "goal_attainment"}


ROWS = [
    Row("GET", "/api/v1/indicators", statuses(403, analyst=200)),
    Row("GET", "/api/v1/indicators/{key}", statuses(403, analyst=200), path_params=_key, query=lambda w: PERIOD),
    Row("GET", "/api/v1/indicators/{key}/csv", statuses(403, analyst=200), path_params=_key, query=lambda w: PERIOD),
    Row(
        "GET",
        "/api/v1/indicators/{key}/measure-report",
        statuses(403, analyst=200),
        path_params=_key,
        query=lambda w: PERIOD,
    ),
    Row(
        "GET",
        "/api/v1/indicators/{key}/series",
        statuses(403, analyst=200),
        path_params=_key,
        query=lambda w: {"year": 2026},
    ),
    Row(
        "GET",
        "/api/v1/citizens/{citizen_id}/fhir",
        statuses(403, staff_in_team=200, staff_out_of_team=404),
        path_params=lambda w: {"citizen_id": w.citizen.pk},
    ),
]


THEORY = {
    "title": "Hverdagsrehabilitering",
    "intervention": "Træning i eget hjem",
    "activities": "Træning tre gange om ugen",
    "outputs": "Træningssessioner",
    "outcomes": [{"term": "short", "description": "Flere mål nås", "indicator_key": "goal_attainment"}],
}


def _theory_id(world: Any) -> dict[str, Any]:
    from effekt.services import theory_of_change_create

    if "_theory" not in world.__dict__:
        world.__dict__["_theory"] = theory_of_change_create(
            municipality=world.municipality,
            by=world.analyst.user,
            assumptions="",
            **{key: value for key, value in THEORY.items() if key != "outcomes"},
            outcomes=THEORY["outcomes"],
        )
    return {"theory_id": world.__dict__["_theory"].pk}


ROWS += [
    Row("GET", "/api/v1/theories-of-change", statuses(403, analyst=200)),
    Row("POST", "/api/v1/theories-of-change", statuses(403, analyst=201), body=lambda w: THEORY),
    Row("GET", "/api/v1/theories-of-change/{theory_id}", statuses(403, analyst=200), path_params=_theory_id),
]


def _key_in_benchmark(world: Any) -> dict[str, Any]:
    from effekt.services import benchmark_join

    benchmark_join(municipality=world.municipality, by=world.analyst.user)
    return _key(world)


ROWS += [
    Row("GET", "/api/v1/indicators/benchmark/participation", statuses(403, analyst=200)),
    Row("PUT", "/api/v1/indicators/benchmark/participation", statuses(403, analyst=200)),
    Row("DELETE", "/api/v1/indicators/benchmark/participation", statuses(403, analyst=204)),
    Row(
        "GET",
        "/api/v1/indicators/{key}/benchmark",
        statuses(403, analyst=200),
        path_params=_key_in_benchmark,
        query=lambda w: PERIOD,
    ),
]
