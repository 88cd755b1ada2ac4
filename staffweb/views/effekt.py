"""Effekt: the indicators for team leaders and analysts, this year against last, with the theories of change
and their current figures. Aggregates only: every figure comes from the effect layer's selectors, built and
suppressed there (cells of fewer than 5 citizens, and those that would let one be worked out, are shown as
suppressed), and every indicator query is written to the aggregate-read log before the page is sent."""

import json
from calendar import monthrange
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from backend.actors import ANALYST
from backend.models import Membership, StaffRole
from backend.timeutil import municipal_today
from effekt import fhir
from effekt.access import access_theory_of_change
from effekt.indicators.definitions import BY_KEY, INDICATORS, Indicator
from effekt.indicators.evaluator import QUARTERS, YEAR, Cell
from effekt.models import AggregateRead
from effekt.periods import Period
from effekt.selectors import (
    IndicatorQuery,
    IndicatorResult,
    conditions_in,
    indicator_in_context,
    indicator_values,
    organisation_of,
    outcome_values,
    theories_visible_to,
)
from effekt.suppression import MINIMUM_CITIZENS
from effekt.tables import indicator_csv
from selvbetjening.texts import pick
from staffweb import charts
from staffweb.forms import DkfdsForm
from staffweb.views.base import TEAM_LEAD, StaffRequest, page, staff_page

EFFECT_READERS = ANALYST | TEAM_LEAD
YEARS_BACK = 5
HEADLINE = ("goal_attainment", "function_change")


# --- The filters ---------------------------------------------------------------------------------


class EffectFilters(DkfdsForm):
    """Year (against the year before), quarter, team or unit, FSIII condition; choices from the caller's
    own municipality only."""

    year = forms.TypedChoiceField(label=_("År"), coerce=int)
    quarter = forms.ChoiceField(
        label=_("Periode"),
        required=False,
        choices=[
            ("", _("Hele året")),
            *((quarter, format_lazy(_("{}. kvartal"), index)) for index, quarter in enumerate(QUARTERS, 1)),
        ],
    )
    area = forms.ChoiceField(label=_("Enhed eller team"), required=False)
    condition = forms.ChoiceField(label=_("Tilstand (FSIII)"), required=False)

    def __init__(self, data: Any, *, request: StaffRequest, today: date) -> None:
        super().__init__(data)
        actor = request.actor
        assert actor.staff is not None
        organisation = organisation_of(actor.staff.municipality)
        years = [today.year - back for back in range(YEARS_BACK)]
        self.fields["year"].choices = [(year, str(year)) for year in years]  # type: ignore[attr-defined]
        areas: list[tuple[str, str]] = [
            ("", gettext("Hele kommunen (%(name)s)") % {"name": organisation.municipality.name})
        ]
        for unit in organisation.units:
            areas.append((f"unit:{unit.id}", gettext("Enhed: %(name)s") % {"name": unit.name}))
            areas.extend(
                (f"team:{team.id}", gettext("– Team: %(name)s") % {"name": team.name})
                for team in organisation.teams
                if team.parent == unit
            )
        self.fields["area"].choices = areas  # type: ignore[attr-defined]
        self.fields["condition"].choices = [  # type: ignore[attr-defined]
            ("", gettext("Alle tilstande")),
            *((str(code), name) for code, name in conditions_in(actor)),
        ]
        self.style_fields()

    def queries(self) -> tuple[IndicatorQuery, IndicatorQuery]:
        """This period's query and the same period a year earlier, with the same filters."""
        data = self.cleaned_data
        year, quarter = data["year"], data["quarter"] or YEAR
        area, condition = data["area"], data["condition"]
        team = UUID(area.split(":", 1)[1]) if area.startswith("team:") else None
        unit = UUID(area.split(":", 1)[1]) if area.startswith("unit:") else None

        def query(period: Period) -> IndicatorQuery:
            return IndicatorQuery(period=period, team=team, unit=unit, condition=UUID(condition) if condition else None)

        return query(_period(year, quarter)), query(_period(year - 1, quarter))


def _period(year: int, quarter: str) -> Period:
    if quarter == YEAR:
        return Period(date(year, 1, 1), date(year, 12, 31), YEAR)
    number = QUARTERS.index(quarter)
    last_month = 3 * number + 3
    return Period(date(year, last_month - 2, 1), date(year, last_month, monthrange(year, last_month)[1]), quarter)


def _filters(request: StaffRequest) -> EffectFilters:
    today = municipal_today()
    data = request.GET.copy()
    if "year" not in data:
        data["year"] = str(today.year)
        if request.actor.roles & TEAM_LEAD and "area" not in data:
            led = _team_led(request)
            if led is not None:
                data["area"] = f"team:{led}"
    return EffectFilters(data, request=request, today=today)


def _team_led(request: StaffRequest) -> UUID | None:
    """The team a team leader leads, when they lead one: their first view of Effekt is of it."""
    return (
        Membership.objects.filter(staff=request.actor.staff, role=StaffRole.TEAM_LEAD)
        .order_by("team__name")
        .values_list("team_id", flat=True)
        .first()
    )


# --- Presenting ----------------------------------------------------------------------------------

SUPPRESSED = True


def _is_share(measure_key: str) -> bool:
    return measure_key.startswith("share") or measure_key == "mean_adherence"


def _number(value: float | None, *, share: bool = False) -> str:
    if value is None:
        return "–"
    if share:
        return f"{round(value * 100)} %"
    return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",").replace("-", "−")


@dataclass
class Figures:
    """What one cell shows in a table column: hidden, or its citizens, count and values as text."""

    suppressed: bool
    missing: bool = False
    citizens: str = ""
    count: str = ""
    share: str = ""
    values: list[str] | None = None


def _figures(cell: Cell | None, indicator: Indicator) -> Figures:
    if cell is None:
        return Figures(suppressed=False, missing=True)
    if cell.suppressed:
        return Figures(suppressed=True)
    values = cell.values or {}
    return Figures(
        suppressed=False,
        citizens=str(cell.citizens or 0),
        count=str(cell.count or 0),
        share=_number(cell.share, share=True),
        values=[_number(values.get(m.key), share=_is_share(m.key)) for m in indicator.measures],
    )


@dataclass
class Row:
    name: str
    last: Figures
    this: Figures

    @property
    def columns(self) -> list[Figures]:
        return [self.last, self.this]


def _headline(indicator: Indicator) -> str | None:
    """The measure drawn in the chart: the first share, else the first measure; None draws the groups' shares."""
    keys = [measure.key for measure in indicator.measures]
    return next((key for key in keys if _is_share(key)), keys[0] if keys else None)


def _chart_value(cell: Cell | None, key: str | None) -> float | None | bool:
    if cell is None:
        return None
    if cell.suppressed:
        return SUPPRESSED
    if key is None:
        return cell.share
    return (cell.values or {}).get(key)


@dataclass
class Comparison:
    """An indicator for one period against the same period a year earlier: cells or groups as rows, a chart."""

    indicator: Indicator
    title: str
    this: IndicatorResult
    last: IndicatorResult
    rows: list[Row]
    chart: charts.Chart
    chart_measure: str
    by_group: bool

    @property
    def measures(self) -> list[str]:
        return [pick(*measure.title) for measure in self.indicator.measures]

    @property
    def computed_at(self) -> tuple[str, str]:
        """The day and time the older of the two periods' figures was computed, in the municipality's time."""
        local = min(self.this.computed_at, self.last.computed_at).astimezone(
            ZoneInfo(settings.DEFAULT_CITIZEN_TIME_ZONE)
        )
        return date_format(local, "j. F Y"), date_format(local, "H:i")

    @property
    def chart_title(self) -> str:
        return f"{self.title}: {self.chart_measure}"

    @property
    def chart_description(self) -> str:
        last, this = self.last.query.period.start.year, self.this.query.period.start.year
        return gettext(
            "Søjler for %(last)s og %(this)s side om side for hver række i tabellen under diagrammet; "
            "skjulte tal har ingen søjle."
        ) % {"last": last, "this": this}


def _compare(indicator: Indicator, this: IndicatorResult, last: IndicatorResult, *, by_group: bool) -> Comparison:
    names: dict[Any, str]
    if by_group:
        names = {
            group.group: pick(*group.group_name) if group.group_name else str(group.group)
            for result in (last, this)
            for group in result.total.groups
        }
        this_cells: dict[Any, Cell] = {group.group: group for group in this.total.groups}
        last_cells: dict[Any, Cell] = {group.group: group for group in last.total.groups}
        keys = sorted(names, key=lambda key: names[key].lower())
    else:
        names = {cell.node: cell.node.name for cell in [this.total, *this.cells]}
        this_cells = {cell.node: cell for cell in [this.total, *this.cells]}
        last_cells = {cell.node: cell for cell in [last.total, *last.cells]}
        keys = list(names)
    rows = [
        Row(names[key], _figures(last_cells.get(key), indicator), _figures(this_cells.get(key), indicator))
        for key in keys
    ]
    measure = _headline(indicator)
    share = measure is None or _is_share(measure)
    chart = charts.compared_bars(
        [names[key] for key in keys],
        [[_chart_value(cells.get(key), measure) for key in keys] for cells in (last_cells, this_cells)],
        percent=share,
    )
    measure_title = (
        next(pick(*m.title) for m in indicator.measures if m.key == measure) if measure else gettext("Andel af alle")
    )
    return Comparison(indicator, pick(*indicator.title), this, last, rows, chart, measure_title, by_group)


def _comparison(
    request: StaffRequest, indicator: Indicator, queries: tuple[IndicatorQuery, IndicatorQuery]
) -> Comparison:
    this_query, last_query = queries
    surface = AggregateRead.Surface.PAGE
    if indicator.grouped:
        this = indicator_values(request.actor, indicator, this_query, surface=surface)
        last = indicator_values(request.actor, indicator, last_query, surface=surface)
        return _compare(indicator, this, last, by_group=True)
    this = indicator_in_context(request.actor, indicator, this_query, surface=surface)
    last = indicator_in_context(request.actor, indicator, last_query, surface=surface)
    return _compare(indicator, this, last, by_group=False)


def _query_string(form: EffectFilters) -> str:
    return urlencode({key: value for key, value in form.data.items() if key in form.fields and value})


def _downloads(indicator: Indicator, form: EffectFilters) -> dict[str, str]:
    query = _query_string(form)
    return {
        "csv": reverse("staffweb:effekt:csv", args=[indicator.key]) + "?" + query,
        "measure_report": reverse("staffweb:effekt:measure-report", args=[indicator.key]) + "?" + query,
        "page": reverse("staffweb:effekt:indicator", args=[indicator.key]) + "?" + query,
    }


def _context(form: EffectFilters) -> dict[str, Any]:
    queries = form.queries()
    return {
        "form": form,
        "nav": "effekt",
        "minimum_citizens": MINIMUM_CITIZENS,
        "this_period": queries[0].period,
        "last_period": queries[1].period,
        "query_string": _query_string(form),
    }


# --- Pages ---------------------------------------------------------------------------------------


@staff_page(EFFECT_READERS)
def overview(request: StaffRequest) -> HttpResponse:
    form = _filters(request)
    if not form.is_valid():
        return page(request, "staffweb/effekt/overview.html", {"form": form, "nav": "effekt"}, status=422)
    context = _context(form)
    queries = form.queries()
    headline = []
    for key in HEADLINE:
        comparison = _comparison(request, BY_KEY[key], queries)
        headline.append({"comparison": comparison, "downloads": _downloads(comparison.indicator, form)})
    theories = []
    for theory in theories_visible_to(request.actor).prefetch_related("outcomes")[:10]:
        theories.append({"theory": theory, "outcomes": _outcomes(request, theory, queries[0].period)})
    others = [
        {"title": pick(*indicator.title), "url": _downloads(indicator, form)["page"]}
        for indicator in INDICATORS
        if indicator.key not in HEADLINE
    ]
    return page(
        request,
        "staffweb/effekt/overview.html",
        {**context, "headline": headline, "theories": theories, "others": others},
    )


@staff_page(EFFECT_READERS)
def indicator(request: StaffRequest, key: str) -> HttpResponse:
    chosen = BY_KEY.get(key)
    if chosen is None:
        raise Http404
    form = _filters(request)
    if not form.is_valid():
        return page(
            request, "staffweb/effekt/indicator.html", {"form": form, "nav": "effekt", "indicator": chosen}, status=422
        )
    comparison = _comparison(request, chosen, form.queries())
    return page(
        request,
        "staffweb/effekt/indicator.html",
        {
            **_context(form),
            "indicator": chosen,
            "description": pick(*chosen.description),
            "counts": pick(*chosen.counts),
            "comparison": comparison,
            "downloads": _downloads(chosen, form),
        },
    )


def _outcomes(request: StaffRequest, theory: Any, period: Period) -> list[dict[str, Any]]:
    figures = {item.outcome.pk: item for item in outcome_values(request.actor, theory, period=period)}
    items = []
    for outcome in theory.outcomes.all():
        figure = figures[outcome.pk]
        indicator = BY_KEY[outcome.indicator_key]
        measure = next((m for m in indicator.measures if m.key == outcome.measure_key), None)
        share = bool(outcome.measure_key) and _is_share(outcome.measure_key)
        items.append(
            {
                "outcome": outcome,
                "indicator": pick(*indicator.title),
                "measure": (
                    pick(*measure.title)
                    if measure
                    else gettext("Antal borgere (%(counts)s)") % {"counts": pick(*indicator.counts)}
                ),
                "suppressed": figure.cell.suppressed,
                "value": _number(figure.value, share=share),
                "target": None if outcome.target is None else _number(float(outcome.target), share=share),
            }
        )
    return items


@staff_page(EFFECT_READERS)
def theory(request: StaffRequest, theory_id: UUID) -> HttpResponse:
    chosen = access_theory_of_change(request.actor, theory_id)
    form = _filters(request)
    if not form.is_valid():
        return page(
            request, "staffweb/effekt/theory.html", {"form": form, "nav": "effekt", "theory": chosen}, status=422
        )
    context = _context(form)
    return page(
        request,
        "staffweb/effekt/theory.html",
        {**context, "theory": chosen, "outcomes": _outcomes(request, chosen, context["this_period"])},
    )


# --- Downloads -----------------------------------------------------------------------------------


def _download_result(request: StaffRequest, key: str, surface: str) -> IndicatorResult | None:
    chosen = BY_KEY.get(key)
    if chosen is None:
        raise Http404
    form = _filters(request)
    if not form.is_valid():
        return None
    this_query, _ = form.queries()
    breakdown = "none" if this_query.team else ("team" if this_query.unit else "unit")
    query = IndicatorQuery(
        period=this_query.period,
        team=this_query.team,
        unit=this_query.unit,
        condition=this_query.condition,
        breakdown=breakdown,
    )
    return indicator_values(request.actor, chosen, query, surface=surface)


def _refused() -> HttpResponse:
    return HttpResponse(gettext("Filtrene kan ikke bruges."), status=422, content_type="text/plain; charset=utf-8")


@staff_page(EFFECT_READERS)
def indicator_csv_download(request: StaffRequest, key: str) -> HttpResponse:
    result = _download_result(request, key, AggregateRead.Surface.CSV)
    if result is None:
        return _refused()
    response = HttpResponse(indicator_csv(result), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{key}-{result.query.period.start:%Y}.csv"'
    return response


@staff_page(EFFECT_READERS)
def indicator_measure_report(request: StaffRequest, key: str) -> HttpResponse:
    result = _download_result(request, key, AggregateRead.Surface.MEASURE_REPORT)
    if result is None:
        return _refused()
    assert request.actor.staff is not None
    report = fhir.indicator_measure_report(result, request.actor.staff.municipality.name)
    response = HttpResponse(json.dumps(report, cls=DjangoJSONEncoder), content_type=fhir.CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{key}-{result.query.period.start:%Y}-measurereport.json"'
    return response
