"""The effect app's presenters: indicators, their values and the benchmark, and theories of change as the API
shows them. Nothing here queries: the selectors compute the figures each presenter reads."""

from collections.abc import Sequence
from typing import Any

from effekt.indicators.definitions import Indicator
from effekt.indicators.evaluator import Cell
from effekt.models import BenchmarkParticipation, TheoryOfChange
from effekt.periods import Period
from effekt.selectors import (
    BenchmarkCell,
    IndicatorQuery,
    IndicatorResult,
    IndicatorSeries,
    OutcomeValue,
    query_filters,
)
from effekt.suppression import MINIMUM_CITIZENS
from selvbetjening.texts import pick


def indicator_summary_out(indicator: Indicator) -> dict[str, Any]:
    return {
        "key": indicator.key,
        "title": pick(*indicator.title),
        "description": pick(*indicator.description),
        "counts": pick(*indicator.counts),
        "measures": [{"key": measure.key, "title": pick(*measure.title)} for measure in indicator.measures],
        "grouped": indicator.grouped,
    }


def catalogue_out(indicators: Sequence[Indicator]) -> dict[str, Any]:
    return {"minimum_citizens": MINIMUM_CITIZENS, "indicators": [indicator_summary_out(item) for item in indicators]}


def period_out(period: Period) -> dict[str, Any]:
    return {"start": period.start, "end": period.end, "key": period.key}


def cell_out(cell: Cell) -> dict[str, Any]:
    return {
        "level": cell.node.level,
        "id": cell.node.id,
        "name": cell.node.name,
        "suppressed": cell.suppressed,
        "citizens": cell.citizens,
        "count": cell.count,
        "values": cell.values,
        "groups": [
            {
                "key": group.group,
                "name": pick(*group.group_name) if group.group_name else None,
                "suppressed": group.suppressed,
                "citizens": group.citizens,
                "count": group.count,
                "share": group.share,
                "values": group.values,
            }
            for group in cell.groups
        ],
    }


def indicator_result_out(result: IndicatorResult) -> dict[str, Any]:
    query = result.query
    filters = {name: value for name, value in query_filters(query).items() if name != "breakdown"}
    return {
        **indicator_summary_out(result.indicator),
        "period": period_out(query.period),
        "filters": filters,
        "breakdown": query.breakdown,
        "minimum_citizens": MINIMUM_CITIZENS,
        "computed_at": result.computed_at,
        "total": cell_out(result.total),
        "cells": [cell_out(cell) for cell in result.cells],
    }


def series_out(series: IndicatorSeries) -> dict[str, Any]:
    focus = series.points[0].cell.node
    return {
        **indicator_summary_out(series.indicator),
        "interval": series.interval,
        "filters": query_filters(series.query),
        "minimum_citizens": MINIMUM_CITIZENS,
        "level": focus.level,
        "id": focus.id,
        "name": focus.name,
        "total": None if series.total is None else cell_out(series.total),
        "points": [
            {"period": period_out(point.period), "computed_at": point.computed_at, "cell": cell_out(point.cell)}
            for point in series.points
        ],
    }


def participation_out(joined: BenchmarkParticipation | None, municipalities: int) -> dict[str, Any]:
    return {
        "participating": joined is not None,
        "joined_at": joined.joined_at if joined else None,
        "municipalities": municipalities,
    }


def benchmark_out(indicator: Indicator, query: IndicatorQuery, values: list[BenchmarkCell]) -> dict[str, Any]:
    return {
        **indicator_summary_out(indicator),
        "period": period_out(query.period),
        "filters": query_filters(query),
        "minimum_citizens": MINIMUM_CITIZENS,
        "municipalities": [
            {
                "id": value.municipality.pk,
                "name": value.municipality.name,
                "own": value.is_own,
                "computed_at": value.computed_at,
                "total": cell_out(value.cell),
            }
            for value in values
        ],
    }


def theory_out(theory: TheoryOfChange, values: list[OutcomeValue] | None = None) -> dict[str, Any]:
    """A theory of change with its outcomes (prefetched), each with its figure where ``values`` give one."""
    figures = {item.outcome.pk: item for item in values or []}
    outcomes = []
    for outcome in theory.outcomes.all():
        figure = figures.get(outcome.pk)
        outcomes.append(
            {
                "id": outcome.pk,
                "term": outcome.term,
                "description": outcome.description,
                "indicator_key": outcome.indicator_key,
                "measure_key": outcome.measure_key,
                "target": None if outcome.target is None else float(outcome.target),
                **(
                    {"suppressed": figure.cell.suppressed, "citizens": figure.cell.citizens, "value": figure.value}
                    if figure
                    else {}
                ),
            }
        )
    return {
        "id": theory.pk,
        "title": theory.title,
        "intervention": theory.intervention,
        "activities": theory.activities,
        "outputs": theory.outputs,
        "assumptions": theory.assumptions,
        "created_at": theory.created_at,
        "outcomes": outcomes,
    }


def theory_detail_out(theory: TheoryOfChange, values: list[OutcomeValue], period: Period) -> dict[str, Any]:
    return {**theory_out(theory, values), "period": period_out(period)}
