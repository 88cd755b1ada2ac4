"""The effect API: the indicator catalogue and values (aggregates, for analysts and team leads, each query
logged as an aggregate read), the cross-municipality benchmark, theories of change, and the FHIR export of
one citizen's record (for the citizen's care staff)."""

import json
from datetime import date
from typing import Any
from uuid import UUID

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from ninja import Path, Query, Router, Status

from backend.access import access_citizen_for_change
from backend.actors import ANALYST, CARE
from backend.auth import AuthedRequest, UserBearer
from backend.models import StaffRole
from backend.pagination import paginate
from backend.timeutil import municipal_today
from effekt import fhir, presenters, schemas, tables
from effekt.access import access_theory_of_change
from effekt.indicators.definitions import INDICATORS
from effekt.indicators.evaluator import YEAR
from effekt.models import AggregateRead
from effekt.periods import Period, period_for, year_period
from effekt.selectors import (
    MONTHLY,
    IndicatorQuery,
    benchmark_joined,
    benchmark_participants,
    benchmark_values,
    indicator_for,
    indicator_series,
    indicator_values,
    outcome_values,
    theories_visible_to,
)
from effekt.services import benchmark_join, benchmark_leave, theory_of_change_create
from selvbetjening.schemas import PageQuery

EFFECT_READERS = ANALYST | {StaffRole.TEAM_LEAD.value}

indicators = Router(tags=["effect: indicators"], auth=UserBearer(roles=EFFECT_READERS))
theories = Router(tags=["effect: theories of change"], auth=UserBearer(roles=EFFECT_READERS))
exports = Router(tags=["effect: FHIR export"], auth=UserBearer(roles=CARE))


# --- Queries ------------------------------------------------------------------------------------


def _period(start: date | None, end: date | None) -> Period:
    return period_for(start, end, today=municipal_today())


def _query(payload: schemas.IndicatorQueryIn) -> IndicatorQuery:
    return IndicatorQuery(
        period=_period(payload.from_, payload.to),
        team=payload.team,
        unit=payload.unit,
        condition=payload.condition,
        age_band=payload.age_band,
        device_type=payload.device_type or None,
        breakdown=payload.breakdown,
    )


# --- Indicators ---------------------------------------------------------------------------------


@indicators.get("", response=schemas.CatalogueOut)
def catalogue(request: AuthedRequest):
    return presenters.catalogue_out(INDICATORS)


@indicators.get("/{key}", response=schemas.IndicatorOut)
def indicator(request: AuthedRequest, key: str, query: Query[schemas.IndicatorQueryIn]):
    result = indicator_values(request.auth, indicator_for(key), _query(query), surface=AggregateRead.Surface.API)
    return presenters.indicator_result_out(result)


@indicators.get(
    "/{key}/series",
    response=schemas.SeriesOut,
    summary="One cell of the indicator per month of a year, or per year over several years",
)
def series(request: AuthedRequest, key: str, query: Query[schemas.SeriesQueryIn]):
    last = query.year if query.year is not None else municipal_today().year - 1
    first = last if query.interval == MONTHLY else last - query.years + 1
    indicator_query = IndicatorQuery(
        period=Period(year_period(first).start, year_period(last).end, YEAR),
        team=query.team,
        unit=query.unit,
        condition=query.condition,
        age_band=query.age_band,
        device_type=query.device_type or None,
    )
    result = indicator_series(request.auth, indicator_for(key), indicator_query, interval=query.interval)
    return presenters.series_out(result)


@indicators.get("/{key}/csv", response={200: None})
def indicator_csv(request: AuthedRequest, key: str, query: Query[schemas.IndicatorQueryIn]):
    result = indicator_values(request.auth, indicator_for(key), _query(query), surface=AggregateRead.Surface.CSV)
    response = HttpResponse(tables.indicator_csv(result), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{result.indicator.key}.csv"'
    return response


@indicators.get("/{key}/measure-report", response={200: dict[str, Any]}, summary="The values as a FHIR MeasureReport")
def indicator_measure_report(request: AuthedRequest, key: str, query: Query[schemas.IndicatorQueryIn]):
    assert request.auth.staff is not None
    result = indicator_values(
        request.auth, indicator_for(key), _query(query), surface=AggregateRead.Surface.MEASURE_REPORT
    )
    report = fhir.indicator_measure_report(result, request.auth.staff.municipality.name)
    return HttpResponse(json.dumps(report, cls=DjangoJSONEncoder), content_type=fhir.CONTENT_TYPE)


# --- The cross-municipality benchmark -----------------------------------------------------------


def _participation(request: AuthedRequest) -> dict[str, Any]:
    return presenters.participation_out(benchmark_joined(request.auth), benchmark_participants())


@indicators.get(
    "/benchmark/participation",
    response=schemas.BenchmarkParticipationOut,
    summary="Whether my municipality takes part in the cross-municipality benchmark",
)
def benchmark_participation(request: AuthedRequest):
    return _participation(request)


@indicators.put(
    "/benchmark/participation",
    response=schemas.BenchmarkParticipationOut,
    auth=UserBearer(roles=ANALYST),
    summary="Take part in the benchmark (analysts): my municipality's figures are compared with the others'",
)
def benchmark_participation_join(request: AuthedRequest):
    assert request.auth.staff is not None
    benchmark_join(municipality=request.auth.staff.municipality, by=request.auth.user)
    return _participation(request)


@indicators.delete(
    "/benchmark/participation",
    response={204: None},
    auth=UserBearer(roles=ANALYST),
    summary="Leave the benchmark (analysts)",
)
def benchmark_participation_leave(request: AuthedRequest):
    assert request.auth.staff is not None
    benchmark_leave(municipality=request.auth.staff.municipality)
    return Status(204, None)


@indicators.get(
    "/{key}/benchmark",
    response=schemas.BenchmarkOut,
    summary="The indicator for each municipality in the benchmark, at municipality level",
)
def indicator_benchmark(request: AuthedRequest, key: str, query: Query[schemas.BenchmarkQueryIn]):
    chosen = indicator_for(key)
    indicator_query = IndicatorQuery(
        period=_period(query.from_, query.to),
        condition=query.condition,
        age_band=query.age_band,
        device_type=query.device_type or None,
    )
    return presenters.benchmark_out(chosen, indicator_query, benchmark_values(request.auth, chosen, indicator_query))


# --- Theories of change ------------------------------------------------------------------------


@theories.get("", response=schemas.TheoryOfChangePageOut, summary="My municipality's theories of change")
def list_theories(request: AuthedRequest, query: Query[PageQuery]):
    queryset = theories_visible_to(request.auth).prefetch_related("outcomes")
    items, next_cursor = paginate(queryset, cursor=query.cursor, limit=query.limit)
    return {"items": [presenters.theory_out(item) for item in items], "next_cursor": next_cursor}


@theories.post("", response={201: schemas.TheoryOfChangeDetailOut}, summary="Write a theory of change")
def create_theory(request: AuthedRequest, payload: schemas.TheoryOfChangeIn):
    assert request.auth.staff is not None
    fields = payload.model_dump(exclude={"outcomes"})
    outcomes = [outcome.model_dump() for outcome in payload.outcomes]
    theory = theory_of_change_create(
        municipality=request.auth.staff.municipality, by=request.auth.user, outcomes=outcomes, **fields
    )
    return Status(201, _theory_detail(request, theory.pk, None, None))


@theories.get("/{theory_id}", response=schemas.TheoryOfChangeDetailOut, summary="A theory of change with its figures")
def get_theory(request: AuthedRequest, theory_id: UUID, query: Query[schemas.PeriodQueryIn]):
    return _theory_detail(request, theory_id, query.from_, query.to)


def _theory_detail(request: AuthedRequest, theory_id: UUID, start: date | None, end: date | None) -> dict[str, Any]:
    theory = access_theory_of_change(request.auth, theory_id)
    period = _period(start, end)
    return presenters.theory_detail_out(theory, outcome_values(request.auth, theory, period=period), period)


# --- FHIR export --------------------------------------------------------------------------------


@exports.get("", response={200: dict[str, Any]}, summary="A citizen's record as a FHIR R4 Bundle (logged as an export)")
def citizen_fhir(request: AuthedRequest, citizen_id: Path[UUID]):
    citizen = access_citizen_for_change(request.auth, citizen_id)  # the export logs itself
    bundle = fhir.citizen_bundle(request.auth, citizen)
    return HttpResponse(json.dumps(bundle, cls=DjangoJSONEncoder), content_type=fhir.CONTENT_TYPE)


ROUTERS: list[tuple[str, Router]] = [
    ("/indicators", indicators),
    ("/theories-of-change", theories),
    ("/citizens/{uuid:citizen_id}/fhir", exports),
]
